package cli

import (
	"fmt"
	"strconv"

	"herald/internal/config"
	"herald/internal/membership"
	"herald/internal/server"
	"herald/internal/spool"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// requestsCmd is `herald requests`: pending subscription requests.
func (a *app) requestsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Short: "moderate pending subscription and unsubscription requests"}
	ls := &cobra.Command{
		Use: "ls LIST@DOMAIN", Short: "list pending requests (those waiting for a moderator are marked moderate)",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				rs, err := server.NewMembership(cfg, st, a.quietLogger()).Requests(a.ctx, l)
				if err != nil {
					return err
				}
				return a.printRequests(rs)
			})
		},
	}
	cmd.AddCommand(ls, a.requestDecideCmd("approve"), a.requestDecideCmd("reject"), a.requestDecideCmd("discard"))
	return cmd
}

func (a *app) printRequests(rs []store.Request) error {
	if a.json {
		out := make([]map[string]any, 0, len(rs))
		for _, r := range rs {
			m := map[string]any{"id": r.ID, "kind": r.Kind, "state": r.State, "address": r.Email,
				"display_name": r.DisplayName, "source": r.Source, "created": r.Created, "invited": r.Invited}
			if !r.Expires.IsZero() {
				m["expires"] = r.Expires
			}
			out = append(out, m)
		}
		return a.printJSON(out)
	}
	for _, r := range rs {
		exp := "-"
		if !r.Expires.IsZero() {
			exp = r.Expires.Local().Format("2006-01-02 15:04")
		}
		a.printf("%d\t%s\t%s\t%s\t%s\texpires %s\n", r.ID, r.Kind, r.State, safe(r.Email),
			r.Created.Local().Format("2006-01-02 15:04"), exp)
	}
	return nil
}

// requestDecideCmd builds approve, reject and discard for one or more ids.
func (a *app) requestDecideCmd(verb string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: verb + " LIST@DOMAIN ID...", Short: verb + " pending requests", Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			ids := make([]int64, 0, len(args)-1)
			for _, s := range args[1:] {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					return usageError{fmt.Errorf("%q is not a request id", s)}
				}
				ids = append(ids, id)
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				svc := server.NewMembership(cfg, st, a.quietLogger())
				var results []map[string]any
				var mail []spool.Item
				for _, id := range ids {
					o, err := decideRequest(a, svc, l, id, verb, reason)
					if err != nil {
						return err
					}
					mail = append(mail, o.Mail...)
					results = append(results, map[string]any{"id": id, "address": o.Email, "kind": o.Kind, "status": o.Status})
				}
				if err := a.sendMail(cfg, mail); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(results)
				}
				for _, r := range results {
					a.printf("%v\t%v\t%v\t%v\n", r["id"], r["kind"], safe(fmt.Sprint(r["address"])), r["status"])
				}
				return nil
			})
		},
	}
	if verb == "reject" {
		cmd.Flags().StringVar(&reason, "reason", "", "reason given to the requester")
	}
	return cmd
}

func decideRequest(a *app, svc *membership.Service, l *store.List, id int64, verb, reason string) (membership.Outcome, error) {
	switch verb {
	case "approve":
		return svc.Approve(a.ctx, l, id)
	case "reject":
		return svc.Reject(a.ctx, l, id, reason)
	}
	return svc.Discard(a.ctx, l, id)
}

// sendMail makes membership mail durable in the spool, which `herald
// serve` (running or started later) delivers.
func (a *app) sendMail(cfg *config.Config, items []spool.Item) error {
	if len(items) == 0 {
		return nil
	}
	sp, err := a.openSpool(cfg)
	if err != nil {
		return err
	}
	if _, err := sp.EnqueueAll(a.ctx, items); err != nil {
		_ = sp.Close() // the enqueue error is what matters
		return fmt.Errorf("queue %d notice(s): %w", len(items), err)
	}
	if err := sp.Close(); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}
