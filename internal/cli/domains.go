package cli

import (
	"fmt"
	"strings"

	"herald/internal/address"
	"herald/internal/config"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) domainsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domains", Short: "manage mail domains"}
	var desc string
	add := &cobra.Command{
		Use: "add DOMAIN", Short: "add a domain", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := strings.ToLower(strings.TrimSuffix(args[0], "."))
			if !address.ValidDomain(name) {
				return usageError{fmt.Errorf("%q is not a valid domain name", args[0])}
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				if err := st.CreateDomain(a.ctx, store.Domain{Name: name, Description: desc}); err != nil {
					return fmt.Errorf("add domain %s: %w", name, err)
				}
				if err := a.mtaChanged(cfg, st, "added domain "+name); err != nil {
					return err
				}
				return a.done(map[string]string{"domain": name, "status": "added"}, "added domain %s\n", name)
			})
		},
	}
	add.Flags().StringVar(&desc, "description", "", "description of the domain")
	ls := &cobra.Command{
		Use: "ls", Short: "list domains", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				ds, err := st.ListDomains(a.ctx)
				if err != nil {
					return fmt.Errorf("list domains: %w", err)
				}
				if a.json {
					out := make([]map[string]any, 0, len(ds))
					for _, d := range ds {
						out = append(out, map[string]any{"name": d.Name, "description": d.Description, "created": d.Created})
					}
					return a.printJSON(out)
				}
				for _, d := range ds {
					a.printf("%s\n", d.Name)
				}
				return nil
			})
		},
	}
	rm := &cobra.Command{
		Use: "rm DOMAIN", Short: "remove a domain without lists", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := strings.ToLower(args[0])
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				if err := st.DeleteDomain(a.ctx, name); err != nil {
					return fmt.Errorf("remove domain %s: %w", name, err)
				}
				if err := a.mtaChanged(cfg, st, "removed domain "+name); err != nil {
					return err
				}
				return a.done(map[string]string{"domain": name, "status": "removed"}, "removed domain %s\n", name)
			})
		},
	}
	cmd.AddCommand(add, ls, rm)
	return cmd
}

// done prints a confirmation: v as JSON, or the formatted text.
func (a *app) done(v any, format string, args ...any) error {
	if a.json {
		return a.printJSON(v)
	}
	a.printf(format, args...)
	return nil
}

// parseList splits LIST@DOMAIN, checking its syntax.
func parseList(s string) (name, domain string, err error) {
	name, domain, err = address.Parse(s)
	if err != nil || !address.ValidListName(name) {
		return "", "", usageError{fmt.Errorf("%q is not a list address (LIST@DOMAIN)", s)}
	}
	return name, domain, nil
}

// getList loads LIST@DOMAIN with a clear error.
func (a *app) getList(st store.Store, s string) (*store.List, error) {
	name, domain, err := parseList(s)
	if err != nil {
		return nil, err
	}
	l, err := st.GetList(a.ctx, name, domain)
	if err != nil {
		return nil, fmt.Errorf("list %s@%s: %w", name, domain, err)
	}
	return l, nil
}
