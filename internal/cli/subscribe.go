package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"herald/internal/config"
	"herald/internal/membership"
	"herald/internal/server"
	"herald/internal/spool"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// subscribeFlags are `members add`'s workflow flags for the member role.
// With all pre-flags (the default) an operator's add is immediate, as
// Mailman's addmembers; turning one off runs that step of the workflow
// (a confirmation mail, a moderator's approval).
type subscribeFlags struct {
	preVerified, preConfirmed, preApproved bool
	welcome                                bool
}

func (f *subscribeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.preVerified, "pre-verified", true, "members only: the addresses need not prove they get mail")
	fl.BoolVar(&f.preConfirmed, "pre-confirmed", true, "members only: no confirmation mail (--pre-confirmed=false sends one)")
	fl.BoolVar(&f.preApproved, "pre-approved", true, "members only: no moderator approval needed")
	fl.BoolVar(&f.welcome, "welcome", false, "members only: send the welcome message and owner notice per the list's settings")
}

// subscribeMembers adds members through package membership: bans are
// checked, and mail the workflow causes is queued.
func (a *app) subscribeMembers(cfg *config.Config, st store.Store, l *store.List, f subscribeFlags, addrs []entry) error {
	svc := server.NewMembership(cfg, st, a.quietLogger())
	type res struct {
		Address string `json:"address"`
		Status  string `json:"status"`
	}
	var (
		out   []res
		mail  []spool.Item
		added int
	)
	for _, e := range addrs {
		o, err := svc.Subscribe(a.ctx, l, membership.Subscription{Email: e.email, DisplayName: e.name,
			Source: membership.SourceAdmin, PreVerified: f.preVerified, PreConfirmed: f.preConfirmed,
			PreApproved: f.preApproved, Quiet: !f.welcome})
		if err != nil {
			return fmt.Errorf("add %s to %s: %w", e.email, l.Address(), err)
		}
		mail = append(mail, o.Mail...)
		status := statusText(o.Status)
		if o.Status == membership.Subscribed {
			added++
		}
		out = append(out, res{e.email, status})
	}
	if err := a.sendMail(cfg, mail); err != nil {
		return err
	}
	if a.json {
		return a.printJSON(out)
	}
	for _, o := range out {
		if o.Status != "added" {
			a.printf("%s: %s\n", o.Address, o.Status)
		}
	}
	a.printf("added %d member(s) to %s\n", added, l.Address())
	return nil
}

// statusText words a workflow status for the CLI.
func statusText(s membership.Status) string {
	switch s {
	case membership.Subscribed:
		return "added"
	case membership.AlreadyMember:
		return "already member (skipped)"
	case membership.ConfirmationSent:
		return "confirmation sent"
	case membership.Invited:
		return "invited"
	case membership.AwaitingModerator:
		return "waits for a moderator (herald requests ls)"
	case membership.AlreadyPending:
		return "request already pending (skipped)"
	case membership.Banned:
		return "banned (skipped)"
	case membership.Undeliverable:
		return "delivery disabled by bounces: no mail sent (skipped)"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// membersInviteCmd is `herald members invite LIST ADDR...`.
func (a *app) membersInviteCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: "invite LIST@DOMAIN [ADDR ...]", Short: "invite addresses: accepting (by reply or link) subscribes them",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			addrs, err := a.collectAddrs(args[1:], file)
			if err != nil {
				return err
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				svc := server.NewMembership(cfg, st, a.quietLogger())
				var mail []spool.Item
				out := map[string]string{}
				for _, e := range addrs {
					o, err := svc.Invite(a.ctx, l, e.email)
					if err != nil {
						return fmt.Errorf("invite %s to %s: %w", e.email, l.Address(), err)
					}
					mail = append(mail, o.Mail...)
					out[e.email] = statusText(o.Status)
				}
				if err := a.sendMail(cfg, mail); err != nil {
					return err
				}
				return a.printStatuses(out)
			})
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "read addresses from a file, one per line (- for stdin)")
	return cmd
}

func (a *app) printStatuses(out map[string]string) error {
	if a.json {
		return a.printJSON(out)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a.printf("%s: %s\n", k, out[k])
	}
	return nil
}

// membersSetCmd is `herald members set LIST ADDR key=value...`.
func (a *app) membersSetCmd() *cobra.Command {
	var role string
	keys := make([]string, len(membership.Preferences))
	for i, p := range membership.Preferences {
		keys[i] = p.Name
	}
	cmd := &cobra.Command{
		Use:   "set LIST@DOMAIN ADDR key=value ...",
		Short: "set a member's preferences (" + strings.Join(keys, ", ") + ")",
		Args:  cobra.MinimumNArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := parseRole(role)
			if err != nil {
				return err
			}
			e, err := parseEntry(args[1])
			if err != nil {
				return usageError{err}
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				m, err := st.GetMember(a.ctx, l.ID, e.email, r)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s is not a %s of %s", e.email, r, l.Address())
				} else if err != nil {
					return fmt.Errorf("member %s of %s: %w", e.email, l.Address(), err)
				}
				for _, kv := range args[2:] {
					k, v, ok := strings.Cut(kv, "=")
					if !ok {
						return usageError{fmt.Errorf("%q is not key=value", kv)}
					}
					if err := membership.SetPreference(l, m, strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
						return usageError{err}
					}
				}
				if err := st.UpdateMember(a.ctx, m); err != nil {
					return fmt.Errorf("update %s on %s: %w", e.email, l.Address(), err)
				}
				return a.printStatuses(membership.PreferenceMap(m))
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "member", "member, owner, moderator or nonmember")
	return cmd
}
