// Package config reads herald.toml, applies HERALD_<SECTION>_<KEY>
// environment overrides and validates the result into typed structs.
//
// Configuration is parsed once, at start, and passed explicitly: there is no
// global. Every field's comment states its default. Errors name the key that
// is wrong and say why, in one line, so the CLI can print them as they are.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole validated configuration.
type Config struct {
	// DataDir holds the spool, the SQLite database and archive blobs.
	// Default "herald-data", relative to the config file's directory.
	DataDir  string   `toml:"data_dir"`
	LMTP     LMTP     `toml:"lmtp"`
	SMTP     SMTP     `toml:"smtp"`
	HTTP     HTTP     `toml:"http"`
	Database Database `toml:"database"`
	DNS      DNS      `toml:"dns"`
	Maildir  Maildir  `toml:"maildir"`
	MTA      MTA      `toml:"mta"`
	Spool    Spool    `toml:"spool"`
	Delivery Delivery `toml:"delivery"`
	Log      Log      `toml:"log"`

	// Membership: subscriptions and their abuse limits (membership.go).
	Membership Membership `toml:"membership"`

	// Bounces: bounce processing's periodic pass (bounces.go).
	Bounces Bounces `toml:"bounces"`

	// File is the path the configuration was read from ("" when none).
	File string `toml:"-"`
}

// LMTP configures the incoming LMTP server.
type LMTP struct {
	// Listen is the TCP address. Default "127.0.0.1:8024"; "" disables TCP.
	Listen string `toml:"listen"`
	// Socket is the unix socket path. Default "<data_dir>/lmtp.sock"; "" disables it.
	Socket string `toml:"socket"`
	// Hostname is announced in the greeting. Default: the OS hostname.
	Hostname string `toml:"hostname"`
	// MaxMessageSize is the site-wide size limit in bytes. Default 10 MiB.
	MaxMessageSize int64 `toml:"max_message_size"`
	// MaxRecipients per transaction. Default 1000.
	MaxRecipients int `toml:"max_recipients"`
}

// SMTP configures the outgoing connection to the MTA.
type SMTP struct {
	// Host of the MTA. Default "127.0.0.1".
	Host string `toml:"host"`
	// Port of the MTA. Default 25.
	Port int `toml:"port"`
	// Helo is the name herald gives in EHLO. Default: lmtp.hostname.
	Helo string `toml:"helo"`
}

// HTTP configures the web UI, REST API and /metrics listener.
type HTTP struct {
	// Listen address. Default "127.0.0.1:8080"; "" disables HTTP.
	Listen string `toml:"listen"`
	// BaseURL is how users reach herald. Default "http://<listen>".
	BaseURL string `toml:"base_url"`
}

// Database selects the store.
type Database struct {
	// URL is "sqlite:PATH" or "postgres://...". Default "sqlite:<data_dir>/herald.db".
	URL string `toml:"url"`
}

// DNS configures lookups (DMARC, DKIM verification).
type DNS struct {
	// Resolver is "host:port" of a DNS server; "" uses the system resolver.
	Resolver string `toml:"resolver"`
}

// Maildir configures Maildir ingest.
type Maildir struct {
	// Root of the tree <root>/<domain>/<list>/<alias>/new/; "" disables it.
	Root string `toml:"root"`
}

// Spool tunes the durable queue.
type Spool struct {
	// MinFreeMB refuses new mail (452 4.3.1) below this much free disk. Default 64.
	MinFreeMB int64 `toml:"min_free_mb"`
	// MaxAttempts is how often a crashed claim is retried before shunt. Default 5.
	MaxAttempts int `toml:"max_attempts"`
	// MemoryMB bounds the new entries serve keeps in memory (durable in
	// its journal) instead of writing a file each. Default 64; 0: none.
	MemoryMB int64 `toml:"memory_mb"`
	// JournalMB bounds the entries kept past MemoryMB in the journal only
	// (read back when processed); beyond both, new entries are written as
	// files. Default 1024; 0: none. Close writes a file for every entry
	// still kept, so at most 65,536 entries are kept whatever their size
	// (about 14 s at Close for that many on ext4). The journal's segments
	// may take up to about twice MemoryMB + JournalMB on disk.
	JournalMB int64 `toml:"journal_mb"`
}

// Delivery tunes the outgoing runners.
type Delivery struct {
	// Connections to the MTA kept open in parallel. Default 8.
	Connections int `toml:"connections"`
	// MaxRecipients per SMTP transaction. Default 500.
	MaxRecipients int `toml:"max_recipients"`
	// RetryPeriod after which a temporary failure becomes permanent. Default "120h".
	RetryPeriod Duration `toml:"retry_period"`
	// RetryMin is the first retry delay; it doubles per attempt up to an hour. Default "1m".
	RetryMin Duration `toml:"retry_min"`
	// XVERP sends VERP posts as one transaction with MAIL FROM … XVERP
	// when the MTA offers it (Postfix), so the MTA makes the per-member
	// bounce addresses. Default false: one transaction per member.
	XVERP bool `toml:"xverp"`
	// DomainConcurrency caps SMTP transactions in flight per destination
	// domain. Default 0: no cap beyond connections.
	DomainConcurrency int `toml:"domain_concurrency"`
	// DomainRate caps recipients per destination domain, "N/s", "N/m" or
	// "N/h"; up to N may go at once. Default "": no cap.
	DomainRate string `toml:"domain_rate"`
	// Domains overrides both per destination domain (delivery.go):
	// [delivery.domains."example.com"] concurrency = 2, rate = "100/m".
	Domains map[string]DomainLimit `toml:"domains"`
	// MaxEntryTime bounds the delivery of one out entry; what is not sent
	// by then is queued again as a new entry. Default "5m".
	MaxEntryTime Duration `toml:"max_entry_time"`
	// RecipientCacheMB bounds the memory for keeping big lists' recipients
	// (lists with 1,000 or more), so their posts do not walk the database
	// again until the membership changes. Default 256; 0 turns it off.
	RecipientCacheMB int `toml:"recipient_cache_mb"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default "info".
	Level string `toml:"level"`
	// Format is "text" or "json". Default "text".
	Format string `toml:"format"`
}

// Duration is a time.Duration written as "5s", "120h".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (like 30s or 120h): %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// defaultSocket stands for "<data_dir>/lmtp.sock" until data_dir is known.
const defaultSocket = "\x00data_dir/lmtp.sock"

// ErrInvalid marks a configuration the user must fix.
var ErrInvalid = errors.New("invalid configuration")

// Default returns the configuration herald uses when a key is absent.
func Default() Config {
	return Config{
		DataDir: "herald-data",
		LMTP:    LMTP{Listen: "127.0.0.1:8024", Socket: defaultSocket, MaxMessageSize: 10 << 20, MaxRecipients: 1000},
		SMTP:    SMTP{Host: "127.0.0.1", Port: 25},
		HTTP:    HTTP{Listen: "127.0.0.1:8080"},
		Spool:   Spool{MinFreeMB: 64, MaxAttempts: 5, MemoryMB: 64, JournalMB: 1024},
		Delivery: Delivery{Connections: 8, MaxRecipients: 500, RetryPeriod: Duration{120 * time.Hour}, RetryMin: Duration{time.Minute},
			RecipientCacheMB: 256},
		Log: Log{Level: "info", Format: "text"},
		MTA: defaultMTA(),

		Membership: defaultMembership(),
		Bounces:    defaultBounces(),
	}
}

// Load reads the file at path (which may be "" for none), applies
// environment overrides from env (os.Environ form) and validates.
// Relative paths in the file are taken relative to the file's directory.
func Load(path string, env []string) (*Config, error) {
	c := Default()
	base := "."
	if path != "" {
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, oneLine(err))
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("%w: %s: unknown key %q", ErrInvalid, path, und[0].String())
		}
		c.File = path
		base = filepath.Dir(path)
	}
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	if err := applyEnv(&c, env); err != nil {
		return nil, err
	}
	c.resolvePaths(base)
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// resolvePaths makes data_dir absolute and puts the socket and database
// under it when they are relative.
func (c *Config) resolvePaths(base string) {
	if !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(base, c.DataDir)
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	switch {
	case c.LMTP.Socket == defaultSocket:
		c.LMTP.Socket = filepath.Join(c.DataDir, "lmtp.sock")
	case c.LMTP.Socket != "" && !filepath.IsAbs(c.LMTP.Socket):
		c.LMTP.Socket = filepath.Join(base, c.LMTP.Socket)
	}
	if c.Database.URL == "" {
		c.Database.URL = "sqlite:" + filepath.Join(c.DataDir, "herald.db")
	} else if p, ok := strings.CutPrefix(c.Database.URL, "sqlite:"); ok && !filepath.IsAbs(p) {
		c.Database.URL = "sqlite:" + filepath.Join(base, p)
	}
	if c.Maildir.Root != "" && !filepath.IsAbs(c.Maildir.Root) {
		c.Maildir.Root = filepath.Join(base, c.Maildir.Root)
	}
	if c.HTTP.BaseURL == "" && c.HTTP.Listen != "" {
		c.HTTP.BaseURL = "http://" + c.HTTP.Listen
	}
	if c.LMTP.Hostname == "" {
		c.LMTP.Hostname, _ = os.Hostname()
		if c.LMTP.Hostname == "" {
			c.LMTP.Hostname = "localhost"
		}
	}
	if c.SMTP.Helo == "" {
		c.SMTP.Helo = c.LMTP.Hostname
	}
}

// SpoolDir is where the queues live.
func (c *Config) SpoolDir() string { return filepath.Join(c.DataDir, "spool") }

// SMTPAddr is the MTA's host:port.
func (c *Config) SMTPAddr() string { return net.JoinHostPort(c.SMTP.Host, strconv.Itoa(c.SMTP.Port)) }

func (c *Config) validate() error {
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
	}
	for key, addr := range map[string]string{"lmtp.listen": c.LMTP.Listen, "http.listen": c.HTTP.Listen, "dns.resolver": c.DNS.Resolver} {
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return bad(key, "not a host:port address: %q", addr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return bad(key, "bad port in %q", addr)
		}
	}
	if c.SMTP.Host == "" {
		return bad("smtp.host", "must not be empty")
	}
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		return bad("smtp.port", "must be 1-65535, got %d", c.SMTP.Port)
	}
	if c.LMTP.MaxMessageSize <= 0 {
		return bad("lmtp.max_message_size", "must be positive, got %d", c.LMTP.MaxMessageSize)
	}
	if c.LMTP.MaxRecipients <= 0 {
		return bad("lmtp.max_recipients", "must be positive, got %d", c.LMTP.MaxRecipients)
	}
	if !strings.HasPrefix(c.Database.URL, "sqlite:") && !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") {
		return bad("database.url", "must start with sqlite: or postgres://, got %q", c.Database.URL)
	}
	if c.Delivery.Connections <= 0 || c.Delivery.MaxRecipients <= 0 {
		return bad("delivery", "connections and max_recipients must be positive")
	}
	if c.Spool.MemoryMB < 0 {
		return bad("spool.memory_mb", "must not be negative, got %d", c.Spool.MemoryMB)
	}
	if c.Spool.JournalMB < 0 {
		return bad("spool.journal_mb", "must not be negative, got %d", c.Spool.JournalMB)
	}
	if c.Delivery.RecipientCacheMB < 0 {
		return bad("delivery.recipient_cache_mb", "must not be negative, got %d", c.Delivery.RecipientCacheMB)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if err := c.validateDelivery(); err != nil {
		return err
	}
	if err := c.validateMembership(); err != nil {
		return err
	}
	if err := c.validateBounces(); err != nil {
		return err
	}
	return c.validateMTA()
}

// CheckDataDir creates the data directory if needed and verifies that it
// is writable, so `serve` fails at start with one clear line, not later.
func (c *Config) CheckDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("%w: data_dir: %v", ErrInvalid, err)
	}
	f, err := os.CreateTemp(c.DataDir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%w: data_dir: %s is not writable: %v", ErrInvalid, c.DataDir, errors.Unwrap(err))
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: data_dir: %v", ErrInvalid, err)
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("%w: data_dir: %v", ErrInvalid, err)
	}
	return nil
}

// applyEnv sets fields from HERALD_<SECTION>_<KEY> (and HERALD_<KEY> for
// top-level keys such as HERALD_DATA_DIR).
func applyEnv(c *Config, env []string) error {
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		// HERALD_CONFIG names the file; HERALD_TEST_* belong to test
		// harnesses. Any other HERALD_ name must be a key: a typo is an error.
		if !ok || !strings.HasPrefix(name, "HERALD_") || name == "HERALD_CONFIG" || strings.HasPrefix(name, "HERALD_TEST_") {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, "HERALD_"))
		f, ok := fieldForEnv(reflect.ValueOf(c).Elem(), key)
		if !ok {
			return fmt.Errorf("%w: environment %s: no such key", ErrInvalid, name)
		}
		if err := setField(f, val); err != nil {
			return fmt.Errorf("%w: environment %s: %v", ErrInvalid, name, err)
		}
	}
	return nil
}

// fieldForEnv finds the field for "section_key" or a top-level "key".
func fieldForEnv(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(Duration{}) {
			if rest, ok := strings.CutPrefix(key, tag+"_"); ok {
				if f, ok := fieldForEnv(fv, rest); ok {
					return f, true
				}
			}
			continue
		}
		if tag == key {
			return fv, true
		}
	}
	return reflect.Value{}, false
}

func setField(f reflect.Value, val string) error {
	if f.Type() == reflect.TypeOf(Duration{}) {
		var d Duration
		if err := d.UnmarshalText([]byte(val)); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(val)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", val)
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", val)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", f.Kind())
	}
	return nil
}
