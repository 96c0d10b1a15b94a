package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"herald/internal/config"
	"herald/internal/mta"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// mtaCmd is `herald mta postfix|exim|sendmail|qmail|opensmtpd`.
func (a *app) mtaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mta",
		Short: "print the MTA integration config and write the maps herald keeps current",
		Long: "herald mta NAME writes the map files for every MTA under <data_dir>/mta/ and prints\n" +
			"NAME's configuration: for postfix, main.cf lines (key = value) ready for postconf -e;\n" +
			"for the others, the lines to paste. Install notes go to stderr.",
	}
	for _, g := range mta.Generators() {
		name := g.Name()
		cmd.AddCommand(&cobra.Command{
			Use:   name,
			Short: "integration config for " + name,
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				return a.withStore(func(cfg *config.Config, st store.Store) error {
					return a.printMTA(cfg, st, name)
				})
			},
		})
	}
	return cmd
}

// printMTA regenerates all maps, then prints one MTA's snippet.
func (a *app) printMTA(cfg *config.Config, st store.Store, name string) error {
	g, _ := mta.Lookup(name)
	if err := mta.Regenerate(a.ctx, cfg, st); err != nil {
		return err
	}
	snap, err := mta.Load(a.ctx, st)
	if err != nil {
		return err
	}
	t := mta.TargetFor(cfg, name)
	sn := g.Snippet(snap, t)
	var files []string
	for _, f := range g.Files(snap, t) {
		files = append(files, filepath.Join(t.Dir, f.Name))
	}
	if a.json {
		settings := map[string]string{}
		for _, s := range sn.Settings {
			settings[s.Key] = s.Value
		}
		return a.printJSON(map[string]any{"mta": name, "transport": t.Transport, "settings": settings,
			"text": sn.Text, "files": files, "notes": sn.Notes})
	}
	for _, s := range sn.Settings {
		a.printf("%s = %s\n", s.Key, s.Value)
	}
	out := a.stdout
	if len(sn.Settings) > 0 {
		out = a.stderr // keep stdout pure key = value lines for postconf -e
	}
	if sn.Text != "" {
		fmt.Fprint(out, sn.Text)
	}
	for _, n := range sn.Notes {
		fmt.Fprintf(a.stderr, "# %s\n", n)
	}
	return nil
}

// mtaChanged rewrites the MTA maps after a domain or list was created or
// removed. what names the change for the error message.
func (a *app) mtaChanged(cfg *config.Config, st store.Store, what string) error {
	if err := mta.Regenerate(a.ctx, cfg, st); err != nil {
		return fmt.Errorf("%s, but the MTA maps were not updated (run herald mta postfix to retry): %w", what, err)
	}
	return nil
}

// envMap turns KEY=VALUE pairs into a map.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
