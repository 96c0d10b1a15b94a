package cli

import (
	"errors"
	"fmt"

	"herald/internal/config"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// bansCmd manages bans (issue 4): an address, or a "^regexp" matched
// case-insensitively, kept off one list or (with --global) off all lists.
// Banned posters' posts are discarded; subscribing is refused.
func (a *app) bansCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bans", Short: "ban addresses from posting and subscribing"}
	var global bool
	// target returns the list id (0 for --global) and the remaining args.
	target := func(st store.Store, args []string) (int64, string, []string, error) {
		if global {
			return 0, "all lists", args, nil
		}
		if len(args) == 0 {
			return 0, "", nil, usageError{errors.New("give LIST@DOMAIN or --global")}
		}
		l, err := a.getList(st, args[0])
		if err != nil {
			return 0, "", nil, err
		}
		return l.ID, l.Address(), args[1:], nil
	}
	add := &cobra.Command{
		Use: "add [LIST@DOMAIN | --global] PATTERN...", Short: "ban addresses or ^regexps", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				id, where, pats, err := target(st, args)
				if err != nil {
					return err
				}
				if len(pats) == 0 {
					return usageError{errors.New("give at least one address or ^regexp")}
				}
				for _, p := range pats {
					b := &store.Ban{ListID: id, Pattern: p}
					if err := st.AddBan(a.ctx, b); err != nil && !errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("ban %q on %s: %w", p, where, err)
					}
				}
				return a.done(map[string]any{"where": where, "banned": pats}, "banned %d pattern(s) on %s\n", len(pats), where)
			})
		},
	}
	rm := &cobra.Command{
		Use: "rm [LIST@DOMAIN | --global] PATTERN...", Short: "lift bans", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				id, where, pats, err := target(st, args)
				if err != nil {
					return err
				}
				for _, p := range pats {
					if err := st.RemoveBan(a.ctx, id, p); err != nil {
						return fmt.Errorf("unban %q on %s: %w", p, where, err)
					}
				}
				return a.done(map[string]any{"where": where, "unbanned": pats}, "lifted %d ban(s) on %s\n", len(pats), where)
			})
		},
	}
	ls := &cobra.Command{
		Use: "ls [LIST@DOMAIN | --global]", Short: "list bans", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				id, _, _, err := target(st, args)
				if err != nil {
					return err
				}
				bans, err := st.ListBans(a.ctx, id)
				if err != nil {
					return fmt.Errorf("list bans: %w", err)
				}
				if a.json {
					out := make([]map[string]any, 0, len(bans))
					for _, b := range bans {
						out = append(out, map[string]any{"pattern": b.Pattern, "created": b.Created})
					}
					return a.printJSON(out)
				}
				for _, b := range bans {
					a.printf("%s\n", safe(b.Pattern))
				}
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{add, rm, ls} {
		c.Flags().BoolVar(&global, "global", false, "the ban applies to every list")
	}
	cmd.AddCommand(add, rm, ls)
	return cmd
}
