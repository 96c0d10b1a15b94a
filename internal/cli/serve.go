package cli

import (
	"herald/internal/server"

	"github.com/spf13/cobra"
)

func (a *app) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "run LMTP, the runners and HTTP in the foreground",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			return server.Run(a.ctx, cfg, a.logger(cfg))
		},
	}
}
