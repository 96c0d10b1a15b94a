package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"herald/internal/config"
	"herald/internal/dkim"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) dkimCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dkim", Short: "manage DKIM signing keys (one per domain)"}
	var (
		selector, algorithm string
		bits                int
		force               bool
	)
	keygen := &cobra.Command{
		Use: "keygen DOMAIN", Short: "create the domain's signing key and print its DNS TXT record", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			domain := strings.ToLower(strings.TrimSuffix(args[0], "."))
			if algorithm != dkim.RSA && algorithm != dkim.Ed25519 {
				return usageError{fmt.Errorf("--algorithm must be rsa or ed25519, got %q", algorithm)}
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				if _, err := st.GetDomain(a.ctx, domain); err != nil {
					return fmt.Errorf("domain %s: %w", domain, err)
				}
				old, err := st.GetDKIMKey(a.ctx, domain)
				switch {
				case err == nil && !force:
					return usageError{fmt.Errorf("domain %s already has key %s (use --force to replace it)", domain, old.Selector)}
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("dkim key of %s: %w", domain, err)
				}
				k, err := dkim.Generate(domain, selector, algorithm, bits, time.Now())
				if err != nil {
					return usageError{err}
				}
				if err := st.PutDKIMKey(a.ctx, k); err != nil {
					return fmt.Errorf("store dkim key of %s: %w", domain, err)
				}
				return a.printDKIM(k)
			})
		},
	}
	keygen.Flags().StringVar(&selector, "selector", "", "selector (default herald<YYYYMM>)")
	keygen.Flags().StringVar(&algorithm, "algorithm", dkim.RSA, "rsa or ed25519")
	keygen.Flags().IntVar(&bits, "bits", 2048, "RSA key size")
	keygen.Flags().BoolVar(&force, "force", false, "replace an existing key (rotation: publish the new record first)")
	show := &cobra.Command{
		Use: "show DOMAIN", Short: "print the DNS TXT record of the domain's key", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			domain := strings.ToLower(strings.TrimSuffix(args[0], "."))
			return a.withStore(func(_ *config.Config, st store.Store) error {
				k, err := st.GetDKIMKey(a.ctx, domain)
				if err != nil {
					return fmt.Errorf("dkim key of %s: %w", domain, err)
				}
				return a.printDKIM(k)
			})
		},
	}
	cmd.AddCommand(keygen, show)
	return cmd
}

// printDKIM prints the key's DNS record (never the private key).
func (a *app) printDKIM(k *store.DKIMKey) error {
	rec, err := dkim.Record(k)
	if err != nil {
		return err
	}
	if a.json {
		val, err := dkim.RecordValue(k)
		if err != nil {
			return err
		}
		return a.printJSON(map[string]any{"domain": k.Domain, "selector": k.Selector, "algorithm": k.Algorithm,
			"name": dkim.RecordName(k), "txt": val, "created": k.Created})
	}
	a.printf("%s\n", rec)
	return nil
}
