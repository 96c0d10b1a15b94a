// Package cli implements herald's command line: argument parsing, human
// and --json output, and exit codes. Commands print one line that says what
// was wrong on failure; configuration and usage errors exit 2, other
// failures 1, and `herald inject` uses sysexits (see inject.go).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"herald/internal/config"
	"herald/internal/server"
	"herald/internal/spool"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X herald/internal/cli.Version=…".
var Version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError marks errors that exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries a specific exit code (inject's sysexits).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// app is the state shared by the commands of one invocation.
type app struct {
	ctx     context.Context
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	env     []string
	cfgFlag string
	json    bool
}

// Run executes the command line args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.Environ())
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "herald: %s\n", oneLine(err.Error()))
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, config.ErrInvalid) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFail
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires exactly", "flag needs an argument", "invalid argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "herald",
		Short:         "herald is a mailing-list server: LMTP in, list posts out",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVar(&a.cfgFlag, "config", "", "configuration file (default ./herald.toml, then $HERALD_CONFIG)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print JSON instead of text")
	root.AddCommand(a.versionCmd(), a.initCmd(), a.serveCmd(), a.domainsCmd(), a.listsCmd(), a.membersCmd(),
		a.heldCmd(), a.spoolCmd())
	root.AddCommand(a.dkimCmd())     // issue 5
	root.AddCommand(a.bansCmd())     // issue 4
	root.AddCommand(a.requestsCmd()) // issue 6
	root.AddCommand(a.bouncesCmd())  // issue 7
	root.AddCommand(a.importCmd())
	root.AddCommand(a.digestsCmd())
	root.AddCommand(a.archiveCmd())
	root.AddCommand(a.mtaCmd(), a.injectCmd(), a.doctorCmd())
	return root
}

// configPath applies the lookup order: --config, ./herald.toml, $HERALD_CONFIG.
func (a *app) configPath() string {
	if a.cfgFlag != "" {
		return a.cfgFlag
	}
	if _, err := os.Stat("herald.toml"); err == nil {
		return "herald.toml"
	}
	for _, kv := range a.env {
		if v, ok := strings.CutPrefix(kv, "HERALD_CONFIG="); ok && v != "" {
			return v
		}
	}
	return ""
}

// config loads and validates the configuration.
func (a *app) config() (*config.Config, error) {
	path := a.configPath()
	if a.cfgFlag != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, usageError{fmt.Errorf("config file %s: %w", path, errors.Unwrap(err))}
		}
	}
	return config.Load(path, a.env)
}

// logger builds the process logger from the configuration.
func (a *app) logger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// quietLogger is for CLI commands: only warnings and errors.
func (a *app) quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openStore loads the configuration and opens the store.
func (a *app) openStore() (*config.Config, store.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.CheckDataDir(); err != nil {
		return nil, nil, err
	}
	st, err := server.OpenStore(a.ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openSpool opens the spool of cfg.
func (a *app) openSpool(cfg *config.Config) (*spool.Spool, error) {
	return server.OpenSpool(a.ctx, cfg, a.quietLogger(), false)
}

// withSpool runs fn with the configured spool open and closes it.
func (a *app) withSpool(fn func(cfg *config.Config, sp *spool.Spool) error) (err error) {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	sp, err := a.openSpool(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close spool: %w", cerr)
		}
	}()
	return fn(cfg, sp)
}

// withStore runs fn with an open store and closes it.
func (a *app) withStore(fn func(cfg *config.Config, st store.Store) error) (err error) {
	cfg, st, err := a.openStore()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	return fn(cfg, st)
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printf writes human output.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdout, format, args...)
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print herald's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if a.json {
				return a.printJSON(map[string]string{"version": Version})
			}
			a.printf("herald %s\n", Version)
			return nil
		},
	}
}
