package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "herald.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	p := writeConfig(t, "")
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if c.DataDir != filepath.Join(dir, "herald-data") {
		t.Errorf("data_dir = %q", c.DataDir)
	}
	if c.LMTP.Socket != filepath.Join(dir, "herald-data", "lmtp.sock") {
		t.Errorf("socket = %q", c.LMTP.Socket)
	}
	if c.Database.URL != "sqlite:"+filepath.Join(dir, "herald-data", "herald.db") {
		t.Errorf("database = %q", c.Database.URL)
	}
	if c.LMTP.Listen != "127.0.0.1:8024" || c.SMTPAddr() != "127.0.0.1:25" || c.HTTP.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("addresses: %q %q %q", c.LMTP.Listen, c.SMTPAddr(), c.HTTP.BaseURL)
	}
	if c.Delivery.RetryPeriod.Duration != 120*time.Hour {
		t.Errorf("retry period %v", c.Delivery.RetryPeriod)
	}
}

func TestFileAndEnv(t *testing.T) {
	p := writeConfig(t, `data_dir = "/var/lib/herald"
[smtp]
port = 2525
[delivery]
retry_period = "2h"
`)
	c, err := Load(p, []string{"HERALD_SMTP_HOST=10.0.0.1", "HERALD_LMTP_LISTEN=127.0.0.1:9024", "HERALD_DATA_DIR=/srv/h", "HERALD_DELIVERY_RETRY_MIN=5s", "PATH=/bin", "HERALD_CONFIG=x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPAddr() != "10.0.0.1:2525" || c.LMTP.Listen != "127.0.0.1:9024" || c.DataDir != "/srv/h" {
		t.Errorf("got %q %q %q", c.SMTPAddr(), c.LMTP.Listen, c.DataDir)
	}
	if c.LMTP.Socket != "/srv/h/lmtp.sock" {
		t.Errorf("socket follows data_dir: %q", c.LMTP.Socket)
	}
	if c.Delivery.RetryPeriod.Duration != 2*time.Hour || c.Delivery.RetryMin.Duration != 5*time.Second {
		t.Errorf("durations %v %v", c.Delivery.RetryPeriod, c.Delivery.RetryMin)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "[lmtp]\nbogus = 1\n", nil, `unknown key "lmtp.bogus"`},
		{"unknown section", "[frob]\nx = 1\n", nil, `unknown key "frob`},
		{"bad address", "[lmtp]\nlisten = \"nonsense\"\n", nil, "lmtp.listen: not a host:port"},
		{"bad port", "[http]\nlisten = \"127.0.0.1:99999\"\n", nil, "http.listen: bad port"},
		{"bad smtp port", "[smtp]\nport = 0\n", nil, "smtp.port"},
		{"bad type", "[smtp]\nport = \"x\"\n", nil, "herald.toml"},
		{"bad toml", "data_dir = \n", nil, "herald.toml"},
		{"bad duration", "[delivery]\nretry_period = \"soon\"\n", nil, "not a duration"},
		{"bad db", "[database]\nurl = \"mysql://x\"\n", nil, "database.url"},
		{"bad level", "[log]\nlevel = \"loud\"\n", nil, "log.level"},
		{"negative memory", "[spool]\nmemory_mb = -1\n", nil, "spool.memory_mb"},
		{"negative journal", "", []string{"HERALD_SPOOL_JOURNAL_MB=-5"}, "spool.journal_mb"},
		{"env unknown", "", []string{"HERALD_LMTP_BOGUS=1"}, "HERALD_LMTP_BOGUS: no such key"},
		{"env bad int", "", []string{"HERALD_SMTP_PORT=abc"}, "HERALD_SMTP_PORT: not an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, c.file), c.env)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestCheckDataDirUnderFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.DataDir = filepath.Join(file, "data")
	err := c.CheckDataDir()
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "data_dir") {
		t.Errorf("got %v", err)
	}
}

func TestCheckDataDirReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories; TestCheckDataDirUnderFile covers the error path")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.DataDir = ro
	if err := c.CheckDataDir(); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("got %v", err)
	}
}
