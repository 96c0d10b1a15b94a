package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBouncesSection(t *testing.T) {
	c, err := Load(writeConfig(t, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Bounces; b.Interval.Duration != 5*time.Minute || b.Window.Duration != time.Hour ||
		b.Hold.Duration != 24*time.Hour || b.SiteOwner != "" || b.TestingClock != "" {
		t.Errorf("defaults: %+v", b)
	}

	p := writeConfig(t, "[bounces]\ninterval = \"0s\"\ntesting_clock = \"clock\"\nsite_owner = \"postmaster@example.org\"\n")
	c, err = Load(p, []string{"HERALD_BOUNCES_WINDOW=30m"})
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Bounces; b.Interval.Duration != 0 || b.Window.Duration != 30*time.Minute ||
		b.TestingClock != filepath.Join(filepath.Dir(p), "clock") || b.SiteOwner != "postmaster@example.org" {
		t.Errorf("set: %+v", b)
	}

	for _, tc := range []struct{ body, key string }{
		{"interval = \"-1s\"", "bounces.interval"},
		{"window = \"0s\"", "bounces.window"},
		{"hold = \"0s\"", "bounces.hold"},
		{"site_owner = \"not an address\"", "bounces.site_owner"},
	} {
		_, err := Load(writeConfig(t, "[bounces]\n"+tc.body+"\n"), nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error %v, want one naming %s", tc.body, err, tc.key)
		}
	}
}
