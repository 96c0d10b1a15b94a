// Command herald is a mailing-list server: the MTA hands it list mail over
// LMTP, and it hands the expanded posts back to the MTA over SMTP. See
// `herald --help` and the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"herald/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// After the first signal starts a graceful shutdown, restore the
	// default handling so a second signal ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
