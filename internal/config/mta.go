package config

import (
	"fmt"
	"net"
)

// MTA configures the integration files herald keeps for the MTA in front
// of it (`herald mta ...`, and the maps rewritten whenever a list or a
// domain is created or removed).
type MTA struct {
	// Transport says how the MTA hands mail to herald: "tcp" (LMTP to
	// lmtp.listen), "socket" (LMTP to lmtp.socket), "pipe" (the MTA runs
	// `herald inject` per message) or "maildir" (Postfix's virtual agent
	// drops into maildir.root). Default "maildir" when maildir.root is set,
	// else "tcp" when lmtp.listen is set, else "socket".
	Transport string `toml:"transport"`
	// PostfixPostmap runs postmap on the Postfix maps after each change.
	// Default false (set it where Postfix runs on this host).
	PostfixPostmap bool `toml:"postfix_postmap"`
	// PostfixMapType is the Postfix table type of the maps: hash, btree,
	// cdb, lmdb or texthash. Default "hash". texthash needs no postmap but
	// Postfix re-reads it only on reload (set postfix_reload).
	PostfixMapType string `toml:"postfix_map_type"`
	// PostfixConfigDir is Postfix's config directory, passed to postmap
	// and postfix as -c. Default "": Postfix's own default (/etc/postfix).
	PostfixConfigDir string `toml:"postfix_config_dir"`
	// PostfixReload runs `postfix reload` after a change to a map that
	// Postfix does not re-open by itself: the transport map (a domain was
	// added or removed) or any texthash map. Default false.
	PostfixReload bool `toml:"postfix_reload"`
	// Socketmap is the loopback host:port where `herald serve` answers
	// Postfix's socketmap lookups (recipients, domains, vmailbox,
	// transport), live from the store. Default "": off.
	Socketmap string `toml:"socketmap"`
	// HeraldPath is the herald binary named in pipe deliveries (qmail,
	// pipe transports). Default "": the running executable.
	HeraldPath string `toml:"herald_path"`
}

// defaultMTA is the [mta] section's default.
func defaultMTA() MTA { return MTA{PostfixMapType: "hash"} }

func (c *Config) validateMTA() error {
	switch c.MTA.Transport {
	case "":
		switch {
		case c.Maildir.Root != "":
			c.MTA.Transport = "maildir"
		case c.LMTP.Listen != "":
			c.MTA.Transport = "tcp"
		default:
			c.MTA.Transport = "socket"
		}
	case "tcp", "socket", "pipe", "maildir":
	default:
		return fmt.Errorf("%w: mta.transport: must be tcp, socket, pipe or maildir, got %q", ErrInvalid, c.MTA.Transport)
	}
	need := map[string]struct{ key, val string }{
		"tcp": {"lmtp.listen", c.LMTP.Listen}, "socket": {"lmtp.socket", c.LMTP.Socket}, "maildir": {"maildir.root", c.Maildir.Root},
	}
	if n, ok := need[c.MTA.Transport]; ok && n.val == "" {
		return fmt.Errorf("%w: mta.transport: %s needs %s", ErrInvalid, c.MTA.Transport, n.key)
	}
	if c.MTA.Socketmap != "" {
		if _, port, err := net.SplitHostPort(c.MTA.Socketmap); err != nil || port == "" {
			return fmt.Errorf("%w: mta.socketmap: not a host:port address: %q", ErrInvalid, c.MTA.Socketmap)
		}
	}
	switch c.MTA.PostfixMapType {
	case "hash", "btree", "cdb", "lmdb", "texthash":
	default:
		return fmt.Errorf("%w: mta.postfix_map_type: must be hash, btree, cdb, lmdb or texthash, got %q", ErrInvalid, c.MTA.PostfixMapType)
	}
	return nil
}
