package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"

	"herald/internal/address"
	"herald/internal/config"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) membersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Short: "manage members, owners and moderators"}
	var (
		role string
		file string
		sf   subscribeFlags
	)
	add := &cobra.Command{
		Use: "add LIST@DOMAIN [ADDR ...]", Short: "add addresses in a role", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := parseRole(role)
			if err != nil {
				return err
			}
			addrs, err := a.collectAddrs(args[1:], file)
			if err != nil {
				return err
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				if r == store.RoleMember { // through the workflow: bans, pre-flags (subscribe.go)
					return a.subscribeMembers(cfg, st, l, sf, addrs)
				}
				return a.addMembers(st, l, r, addrs)
			})
		},
	}
	add.Flags().StringVar(&role, "role", "member", "member, owner, moderator or nonmember")
	add.Flags().StringVar(&file, "file", "", "read addresses from a file, one per line (- for stdin)")
	sf.register(add)
	var lsRole string
	ls := &cobra.Command{
		Use: "ls LIST@DOMAIN", Short: "list the addresses in a role", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r := store.Role("")
			if lsRole != "all" {
				var err error
				if r, err = parseRole(lsRole); err != nil {
					return err
				}
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				return a.listMembers(st, l, r)
			})
		},
	}
	ls.Flags().StringVar(&lsRole, "role", "member", "member, owner, moderator, nonmember or all")
	var rmRole string
	rm := &cobra.Command{
		Use: "rm LIST@DOMAIN ADDR ...", Short: "remove addresses from a role", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := parseRole(rmRole)
			if err != nil {
				return err
			}
			addrs, err := a.collectAddrs(args[1:], file)
			if err != nil {
				return err
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				return a.removeMembers(st, l, r, addrs)
			})
		},
	}
	rm.Flags().StringVar(&rmRole, "role", "member", "member, owner, moderator or nonmember")
	rm.Flags().StringVar(&file, "file", "", "read addresses from a file, one per line (- for stdin)")
	cmd.AddCommand(add, ls, rm, a.membersSetCmd(), a.membersInviteCmd())
	return cmd
}

func parseRole(s string) (store.Role, error) {
	r := store.Role(strings.ToLower(s))
	if !store.ValidRole(r) {
		return "", usageError{fmt.Errorf("role %q is not one of member, owner, moderator, nonmember", s)}
	}
	return r, nil
}

// entry is one address from the command line or a file.
type entry struct{ email, name string }

// collectAddrs gathers addresses from args and the file, in order.
func (a *app) collectAddrs(args []string, file string) ([]entry, error) {
	lines := append([]string(nil), args...)
	if file != "" {
		var r io.Reader = a.stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return nil, usageError{fmt.Errorf("address file: %w", err)}
			}
			defer f.Close()
			r = f
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" && !strings.HasPrefix(line, "#") {
				lines = append(lines, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
	}
	if len(lines) == 0 {
		return nil, usageError{errors.New("no addresses given (arguments or --file)")}
	}
	out := make([]entry, 0, len(lines))
	for _, line := range lines {
		e, err := parseEntry(line)
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, e)
	}
	return out, nil
}

// parseEntry accepts "addr", "<addr>" and "Name <addr>".
func parseEntry(s string) (entry, error) {
	raw, name := s, ""
	if strings.ContainsAny(s, "<\"") {
		if pa, err := mail.ParseAddress(s); err == nil {
			raw, name = pa.Address, pa.Name
		}
	}
	email, err := address.Normalize(raw)
	if err != nil {
		return entry{}, fmt.Errorf("%q is not an email address", s)
	}
	return entry{email: email, name: name}, nil
}

// addBatch is how many addresses `members add` writes per transaction.
const addBatch = 5000

func (a *app) addMembers(st store.Store, l *store.List, r store.Role, addrs []entry) error {
	type res struct {
		Address string `json:"address"`
		Status  string `json:"status"`
	}
	var out []res
	added := 0
	for start := 0; start < len(addrs); start += addBatch { // one transaction per batch
		chunk := addrs[start:min(start+addBatch, len(addrs))]
		ms := make([]*store.Member, len(chunk))
		for i, e := range chunk {
			m := store.DefaultMember(l.ID, e.email, r)
			m.DisplayName = e.name
			ms[i] = &m
		}
		ok, err := st.AddMembers(a.ctx, ms)
		if err != nil {
			return fmt.Errorf("add %d addresses to %s: %w", len(chunk), l.Address(), err)
		}
		for i, e := range chunk {
			if ok[i] {
				added++
				out = append(out, res{e.email, "added"})
			} else {
				out = append(out, res{e.email, "already " + string(r)})
			}
		}
	}
	if a.json {
		return a.printJSON(out)
	}
	for _, o := range out {
		if o.Status != "added" {
			a.printf("%s: %s (skipped)\n", o.Address, o.Status)
		}
	}
	a.printf("added %d %s(s) to %s\n", added, r, l.Address())
	return nil
}

func (a *app) removeMembers(st store.Store, l *store.List, r store.Role, addrs []entry) error {
	var missing []string
	removed := 0
	for _, e := range addrs {
		err := st.RemoveMember(a.ctx, l.ID, e.email, r)
		switch {
		case err == nil:
			removed++
		case errors.Is(err, store.ErrNotFound):
			missing = append(missing, e.email)
		default:
			return fmt.Errorf("remove %s from %s: %w", e.email, l.Address(), err)
		}
	}
	if a.json {
		return a.printJSON(map[string]any{"removed": removed, "not_found": missing})
	}
	for _, m := range missing {
		a.printf("%s: not a %s of %s (skipped)\n", m, r, l.Address())
	}
	a.printf("removed %d %s(s) from %s\n", removed, r, l.Address())
	return nil
}

func (a *app) listMembers(st store.Store, l *store.List, r store.Role) error {
	var out []map[string]any
	err := st.EachMember(a.ctx, l.ID, r, func(m *store.Member) error {
		if a.json {
			out = append(out, map[string]any{"address": m.Email, "display_name": m.DisplayName, "role": m.Role,
				"delivery_status": m.DeliveryStatus, "delivery_mode": m.DeliveryMode, "moderation_action": m.ModerationAction})
			return nil
		}
		if r == "" {
			a.printf("%s %s\n", m.Email, m.Role)
		} else {
			a.printf("%s\n", m.Email)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("members of %s: %w", l.Address(), err)
	}
	if a.json {
		if out == nil {
			out = []map[string]any{}
		}
		return a.printJSON(out)
	}
	return nil
}
