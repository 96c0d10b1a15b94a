package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"herald/internal/config"
	"herald/internal/server"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// configTemplate is the commented herald.toml that `herald init` writes.
const configTemplate = `# herald.toml: herald's configuration.
# Every key can be overridden by HERALD_<SECTION>_<KEY> in the environment,
# e.g. HERALD_SMTP_PORT=2525. Relative paths are relative to this file.

# Spool, SQLite database and archive blobs live here.
data_dir = "herald-data"

[lmtp]
# Where the MTA hands list mail to herald (LMTP, RFC 2033).
listen = "127.0.0.1:8024"
# Unix socket for the same; "" turns it off. Default: <data_dir>/lmtp.sock
# socket = "herald-data/lmtp.sock"
# Largest message accepted anywhere, in bytes (a list may set less).
max_message_size = 10485760

[smtp]
# The MTA herald hands list posts to for delivery.
host = "127.0.0.1"
port = 25

[http]
# Web UI, REST API and /metrics.
listen = "127.0.0.1:8080"
# base_url = "https://lists.example.org"

[database]
# "sqlite:PATH" (embedded, the default) or "postgres://user:pass@host/db".
# url = "sqlite:herald-data/herald.db"

[dns]
# DNS server for DMARC and DKIM lookups; "" uses the system resolver.
resolver = ""

[maildir]
# Maildir ingest: <root>/<domain>/<list>/<alias>/new/; "" turns it off.
root = ""

[mta]
# Integration files for the MTA (see: herald mta postfix|exim|sendmail|qmail|opensmtpd).
# They live under <data_dir>/mta/ and are rewritten whenever a list or a
# domain is created or removed.
# How the MTA hands mail to herald: "tcp" (LMTP to lmtp.listen), "socket"
# (LMTP to lmtp.socket), "pipe" (herald inject per message) or "maildir"
# (Postfix virtual delivery into maildir.root). Default: maildir when
# maildir.root is set, else tcp.
# transport = "tcp"
# Run postmap on the Postfix maps after each change (where Postfix runs here).
postfix_postmap = false
# Postfix table type: hash, btree, cdb, lmdb or texthash.
postfix_map_type = "hash"
# Postfix's config directory for postmap -c / postfix -c ("" = /etc/postfix).
# postfix_config_dir = ""
# Run "postfix reload" when a domain is added or removed: Postfix notices a
# new transport entry only after a reload (until then it may send that
# domain's mail to the relayhost).
postfix_reload = false
# Answer Postfix's lookups live over socketmap (recipients, domains,
# vmailbox) from herald serve on this loopback address: never stale, no
# postmap. "" turns it off; herald mta postfix then names socketmap tables.
# socketmap = "127.0.0.1:8025"

[spool]
# Refuse new mail (452 4.3.1) when the disk has less free space than this.
min_free_mb = 64

[delivery]
# Parallel connections to the MTA, and recipients per SMTP transaction.
connections = 8
max_recipients = 500
# Give up on a temporarily failing recipient after this long.
retry_period = "120h"

[log]
level = "info"    # debug, info, warn, error
format = "text"   # text or json
`

func (a *app) initCmd() *cobra.Command {
	var (
		dir   string
		force bool
		demo  bool
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "write herald.toml and the data directory",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			path := filepath.Join(dir, "herald.toml")
			if a.cfgFlag != "" {
				path = a.cfgFlag
			}
			if _, err := os.Stat(path); err == nil && !force {
				if !demo {
					return fmt.Errorf("%s already exists (use --force to overwrite)", path)
				}
			} else {
				if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
					return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
				}
				if err := os.WriteFile(path, []byte(configTemplate), 0o640); err != nil {
					return fmt.Errorf("write %s: %w", path, err)
				}
				a.printf("wrote %s\n", path)
			}
			cfg, err := config.Load(path, a.env)
			if err != nil {
				return err
			}
			if err := cfg.CheckDataDir(); err != nil {
				return err
			}
			st, err := server.OpenStore(a.ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			a.printf("data directory %s ready\n", cfg.DataDir)
			if demo {
				if err := a.createDemo(st); err != nil {
					return err
				}
				return a.mtaChanged(cfg, st, "created the demo list")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory for herald.toml and the data directory")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing herald.toml")
	cmd.Flags().BoolVar(&demo, "demo", false, "also create the domain lists.example.org with the list demo@lists.example.org")
	return cmd
}

// createDemo adds a demo domain and list unless they exist.
func (a *app) createDemo(st store.Store) error {
	err := st.CreateDomain(a.ctx, store.Domain{Name: "lists.example.org", Description: "demo domain"})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	l := &store.List{Name: "demo", Domain: "lists.example.org", Settings: store.DefaultSettings("demo")}
	if err := st.CreateList(a.ctx, l); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	a.printf("demo list demo@lists.example.org ready\n")
	return nil
}
