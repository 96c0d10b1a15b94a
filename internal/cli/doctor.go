package cli

import (
	"errors"

	"herald/internal/config"
	"herald/internal/mta"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// doctorCmd is `herald doctor`: checks the MTA integration and says in
// plain words what is wrong. It exits 1 when anything is.
func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "check the MTA integration: LMTP reachable, maps current, relay host accepts herald's mail",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				fs := mta.Doctor(a.ctx, cfg, st)
				bad := 0
				for _, f := range fs {
					if !f.OK {
						bad++
					}
				}
				if a.json {
					if err := a.printJSON(fs); err != nil {
						return err
					}
				} else {
					for _, f := range fs {
						if f.OK {
							a.printf("ok       %s\n", f.What)
						} else {
							a.printf("PROBLEM  %s: %s\n", f.What, f.Fix)
						}
					}
				}
				if bad > 0 {
					return errors.New("doctor found problems (see above)")
				}
				return nil
			})
		},
	}
}
