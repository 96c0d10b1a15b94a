package cli

import (
	"fmt"
	"sort"

	"herald/internal/config"
	"herald/internal/digest"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// digestsCmd is `herald digests ls|send`.
func (a *app) digestsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "digests", Short: "show and send the posts waiting for digests"}
	ls := &cobra.Command{
		Use: "ls", Short: "lists with posts waiting for a digest", Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				return a.listDigests(st)
			})
		},
	}
	var due bool
	send := &cobra.Command{
		Use: "send [LIST@DOMAIN]", Short: "send the waiting digests now (of one list, or all); --due: only those due",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				var id int64
				if len(args) == 1 {
					l, err := a.getList(st, args[0])
					if err != nil {
						return err
					}
					id = l.ID
				}
				sp, err := a.openSpool(cfg)
				if err != nil {
					return err
				}
				sent, err := digest.New(st, sp, a.quietLogger()).SendDue(a.ctx, !due, id)
				if cerr := sp.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("close spool: %w", cerr)
				}
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(sent)
				}
				for _, s := range sent {
					a.printf("%s: sent digest vol %d, issue %d (%d posts) to %d member(s)\n", s.List, s.Volume, s.Issue, s.Posts, s.Recipients)
				}
				if len(sent) == 0 {
					a.printf("no digest to send\n")
				}
				return nil
			})
		},
	}
	send.Flags().BoolVar(&due, "due", false, "send only the digests that are due (size threshold or daily), as serve does")
	cmd.AddCommand(ls, send)
	return cmd
}

func (a *app) listDigests(st store.Store) error {
	pending, err := st.PendingDigests(a.ctx)
	if err != nil {
		return err
	}
	type row struct {
		List   string `json:"list"`
		Posts  int    `json:"posts"`
		KiB    int64  `json:"kib"`
		Volume int    `json:"last_volume"`
		Issue  int    `json:"last_issue"`
	}
	rows := make([]row, 0, len(pending))
	for _, p := range pending {
		l, err := st.GetListByID(a.ctx, p.ListID)
		if err != nil {
			return fmt.Errorf("list %d: %w", p.ListID, err)
		}
		rows = append(rows, row{l.Address(), p.Count, (p.Bytes + 1023) / 1024, p.State.Volume, p.State.Issue})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].List < rows[j].List })
	if a.json {
		return a.printJSON(rows)
	}
	for _, r := range rows {
		a.printf("%s: %d post(s), %d KiB waiting; last digest vol %d, issue %d\n", r.List, r.Posts, r.KiB, r.Volume, r.Issue)
	}
	if len(rows) == 0 {
		a.printf("no posts waiting for a digest\n")
	}
	return nil
}
