package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"herald/internal/config"
	"herald/internal/mime"
	"herald/internal/moderation"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) heldCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "held", Short: "moderate held posts"}
	ls := &cobra.Command{
		Use: "ls LIST@DOMAIN", Short: "list held posts", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				hs, err := st.ListHeld(a.ctx, l.ID)
				if err != nil {
					return fmt.Errorf("held posts of %s: %w", l.Address(), err)
				}
				if a.json {
					out := make([]map[string]any, 0, len(hs))
					for _, h := range hs {
						out = append(out, heldJSON(&h))
					}
					return a.printJSON(out)
				}
				for _, h := range hs {
					a.printf("%d\t%s\t%s\t%s\n", h.ID, h.Received.Format("2006-01-02 15:04"), safe(h.Sender), safe(h.Subject))
				}
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use: "show LIST@DOMAIN ID", Short: "show a held post (control characters made visible)", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := parseID(args[1])
			if err != nil {
				return err
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				h, err := st.GetHeld(a.ctx, l.ID, id)
				if err != nil {
					return fmt.Errorf("held post %d of %s: %w", id, l.Address(), err)
				}
				return a.showHeld(h)
			})
		},
	}
	cmd.AddCommand(ls, show, a.decideCmd("approve"), a.decideCmd("reject"), a.decideCmd("discard"))
	return cmd
}

// decideCmd builds approve, reject and discard: one ID, --all, or --sender.
func (a *app) decideCmd(verb string) *cobra.Command {
	var (
		all    bool
		sender string
		reason string
	)
	cmd := &cobra.Command{
		Use: verb + " LIST@DOMAIN [ID]", Short: verb + " held posts", Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			if (len(args) == 2) == (all || sender != "") {
				return usageError{fmt.Errorf("give either an ID or --all/--sender")}
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				ids, err := a.heldIDs(st, l, args[1:], all, sender)
				if err != nil {
					return err
				}
				sp, err := a.openSpool(cfg)
				if err != nil {
					return err
				}
				defer sp.Close()
				mod := moderation.New(st, sp, a.quietLogger())
				for _, id := range ids {
					var err error
					switch verb {
					case "approve":
						err = mod.Approve(a.ctx, l, id)
					case "reject":
						err = mod.Reject(a.ctx, l, id, reason)
					default:
						err = mod.Discard(a.ctx, l, id)
					}
					if err != nil {
						return err
					}
				}
				past := map[string]string{"approve": "approved", "reject": "rejected", "discard": "discarded"}[verb]
				return a.done(map[string]any{"list": l.Address(), past: ids}, "%s %d post(s) on %s\n", past, len(ids), l.Address())
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, verb+" every held post of the list")
	cmd.Flags().StringVar(&sender, "sender", "", verb+" every held post from this address")
	if verb == "reject" {
		cmd.Flags().StringVar(&reason, "reason", "", "reason given to the poster")
	}
	return cmd
}

func (a *app) heldIDs(st store.Store, l *store.List, args []string, all bool, sender string) ([]int64, error) {
	if len(args) == 1 {
		id, err := parseID(args[0])
		if err != nil {
			return nil, err
		}
		if _, err := st.GetHeld(a.ctx, l.ID, id); err != nil {
			return nil, fmt.Errorf("held post %d of %s: %w", id, l.Address(), err)
		}
		return []int64{id}, nil
	}
	hs, err := st.ListHeld(a.ctx, l.ID)
	if err != nil {
		return nil, fmt.Errorf("held posts of %s: %w", l.Address(), err)
	}
	var ids []int64
	for _, h := range hs {
		if all || strings.EqualFold(h.Sender, sender) {
			ids = append(ids, h.ID)
		}
	}
	return ids, nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Errorf("%q is not a held message id", s)}
	}
	return id, nil
}

func heldJSON(h *store.Held) map[string]any {
	return map[string]any{"id": h.ID, "sender": h.Sender, "subject": h.Subject, "message_id": h.MessageID,
		"reasons": h.Reasons, "received": h.Received}
}

func (a *app) showHeld(h *store.Held) error {
	m, perr := mime.Parse(h.Message)
	body := ""
	if perr == nil {
		body = mime.TextBody(m)
	}
	if a.json {
		v := heldJSON(h)
		v["text"] = body
		v["size"] = len(h.Message)
		return a.printJSON(v)
	}
	a.printf("Held-Id: %d\nSender: %s\nSubject: %s\nMessage-Id: %s\nReceived: %s\nSize: %d bytes\n",
		h.ID, safe(h.Sender), safe(h.Subject), safe(h.MessageID), h.Received.Format("2006-01-02 15:04:05"), len(h.Message))
	for _, r := range h.Reasons {
		a.printf("Reason: %s\n", safe(r))
	}
	if perr != nil {
		a.printf("\n(the message cannot be parsed: %s)\n", safe(perr.Error()))
		return nil
	}
	for _, f := range []string{"From", "To", "Cc", "Date"} {
		if v := m.Header.Get(f); v != "" {
			a.printf("%s: %s\n", f, safe(mime.DecodeWords(v)))
		}
	}
	a.printf("\n%s\n", safeText(body))
	return nil
}

// safe makes a one-line value harmless on a terminal: control characters
// (escape sequences a hostile poster could use) are shown as \xNN.
func safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// safeText is safe for multi-line text: newlines and tabs stay.
func safeText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = safe(strings.ReplaceAll(l, "\t", "    "))
	}
	return strings.Join(lines, "\n")
}
