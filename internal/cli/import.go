package cli

import (
	"fmt"
	"io"
	"os"
	"sort"

	"herald/internal/config"
	"herald/internal/importer"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// importCmd is `herald import mailman3|mlmmj|csv`.
func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "bring lists over from GNU Mailman 2.1 or 3, mlmmj or a CSV file (no mail is sent)"}
	var dryRun bool
	var roster, role string
	mm3 := &cobra.Command{
		Use:   "mailman3 CONFIG.json [LIST@DOMAIN]",
		Short: "import a list from Mailman 3's REST API output (GET /3.1/lists/ID/config; --roster: GET /3.1/lists/ID/roster/member)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			files, closeAll, err := openInputs(map[string]string{"mailman3 configuration": args[0], "mailman3 roster": roster})
			defer closeAll()
			if err != nil {
				return err
			}
			p, err := importer.FromMailman3(files["mailman3 configuration"], files["mailman3 roster"], optArg(args, 1))
			if err != nil {
				return usageError{err}
			}
			return a.runImport(p, dryRun)
		},
	}
	mm3.Flags().StringVar(&roster, "roster", "", "the list's members as Mailman 3's REST API returns them (JSON with entries)")
	var members, digest string
	mm2 := &cobra.Command{
		Use:   "mailman2 CONFIG [LIST@DOMAIN]",
		Short: "import a list from Mailman 2.1's config_list -o output (--members: list_members -r -f; --digest-members: list_members -d -f)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			files, closeAll, err := openInputs(map[string]string{"configuration": args[0], "members": members, "digest members": digest})
			defer closeAll()
			if err != nil {
				return err
			}
			p, err := importer.FromMailman2(files["configuration"], files["members"], files["digest members"], optArg(args, 1))
			if err != nil {
				return usageError{err}
			}
			return a.runImport(p, dryRun)
		},
	}
	mm2.Flags().StringVar(&members, "members", "", "regular members, one \"Name <addr>\" or address per line (list_members -r -f LIST)")
	mm2.Flags().StringVar(&digest, "digest-members", "", "digest members, same form (list_members -d -f LIST)")
	mlmmj := &cobra.Command{
		Use: "mlmmj LISTDIR [LIST@DOMAIN]", Short: "import an mlmmj list directory: settings, owners, moderators, subscribers",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := importer.FromMlmmj(args[0], optArg(args, 1))
			if err != nil {
				return usageError{err}
			}
			return a.runImport(p, dryRun)
		},
	}
	csvCmd := &cobra.Command{
		Use: "csv LIST@DOMAIN FILE", Short: "import members from CSV (email[,display_name], or a header row naming email, role and preferences)",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := parseRole(role)
			if err != nil {
				return err
			}
			in, closeIn, err := a.inputFile(args[1], "csv file")
			if err != nil {
				return err
			}
			defer closeIn()
			p, err := importer.FromCSV(in, args[0], r)
			if err != nil {
				return usageError{err}
			}
			return a.runImport(p, dryRun)
		},
	}
	csvCmd.Flags().StringVar(&role, "role", "member", "role of rows that name none: member, owner, moderator or nonmember")
	for _, c := range []*cobra.Command{mm2, mm3, mlmmj, csvCmd} {
		c.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be imported; change nothing")
	}
	cmd.AddCommand(mm2, mm3, mlmmj, csvCmd)
	return cmd
}

// openInputs opens the named files (an empty path is skipped: no
// reader); the returned func closes those opened.
func openInputs(paths map[string]string) (map[string]io.Reader, func(), error) {
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			_ = f.Close() // read only
		}
	}
	out := map[string]io.Reader{}
	for what, path := range paths {
		if path == "" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, closeAll, usageError{fmt.Errorf("%s: %w", what, err)}
		}
		opened = append(opened, f)
		out[what] = f
	}
	return out, closeAll, nil
}

func optArg(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return ""
}

// importReport is the JSON form of an import.
type importReport struct {
	List     string             `json:"list"`
	DryRun   bool               `json:"dry_run"`
	Created  bool               `json:"created"`
	Settings []importer.Setting `json:"settings"`
	Members  map[store.Role]int `json:"members"`
	Added    map[store.Role]int `json:"added,omitempty"`
	Existing map[store.Role]int `json:"existing,omitempty"`
	Bans     []string           `json:"bans,omitempty"`
	Banned   int                `json:"banned"`
	Notes    []string           `json:"notes"`
}

// runImport applies (or, dry, only shows) an import plan.
func (a *app) runImport(p *importer.Plan, dry bool) error {
	rep := importReport{List: p.List, DryRun: dry, Settings: p.Settings, Members: map[store.Role]int{}, Bans: p.Bans, Notes: p.Notes}
	for _, m := range p.Members {
		rep.Members[m.Role]++
	}
	if !dry {
		err := a.withStore(func(cfg *config.Config, st store.Store) error {
			res, err := importer.Apply(a.ctx, st, p)
			if err != nil {
				return err
			}
			rep.List, rep.Created, rep.Added, rep.Existing, rep.Banned = res.List, res.Created, res.Added, res.Existing, res.Banned
			if res.Created {
				return a.mtaChanged(cfg, st, "imported list "+res.List)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(rep)
	}
	a.printImport(rep)
	return nil
}

func (a *app) printImport(rep importReport) {
	verb := "imported"
	if rep.DryRun {
		verb = "would import (dry run)"
	}
	state := "existing list"
	if rep.Created {
		state = "new list"
	}
	if rep.DryRun {
		state = "list"
	}
	a.printf("%s %s %s\n", verb, state, rep.List)
	for _, s := range rep.Settings {
		a.printf("  %s = %s\n", s.Name, quoteSetting(s.Value))
	}
	roles := make([]string, 0, len(rep.Members))
	for r := range rep.Members {
		roles = append(roles, string(r))
	}
	sort.Strings(roles)
	for _, r := range roles {
		role := store.Role(r)
		if rep.DryRun {
			a.printf("  %d %s(s)\n", rep.Members[role], r)
		} else {
			a.printf("  %s: %d added, %d already there\n", r, rep.Added[role], rep.Existing[role])
		}
	}
	if len(rep.Bans) > 0 {
		if rep.DryRun {
			a.printf("  %d ban(s)\n", len(rep.Bans))
		} else {
			a.printf("  bans: %d added, %d already there\n", rep.Banned, len(rep.Bans)-rep.Banned)
		}
	}
	for _, n := range rep.Notes {
		a.printf("note: %s\n", n)
	}
}
