package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Bounces tunes bounce processing (package bouncer): the periodic policy
// pass that scores members from bounce events, probes, disables, warns and
// removes them. The per-list policy is in the list settings (Mailman's
// names: bounce_score_threshold, process_bounces, …).
type Bounces struct {
	// Interval between policy passes in `herald serve`. Default "5m";
	// "0s" turns the periodic pass off (run `herald bounces process`
	// from cron instead, or let another node do it).
	Interval Duration `toml:"interval"`
	// Window is the circuit breaker's window: a burst of the same policy
	// bounce within it pauses scoring for the list. An event is scored
	// only once its window has passed, so the breaker sees a burst whole
	// before anyone in it is scored. Default "1h".
	Window Duration `toml:"window"`
	// Hold is how long scoring stays paused after a burst. Default "24h".
	Hold Duration `toml:"hold"`
	// SiteOwner receives unrecognized bounces of lists whose
	// forward_unrecognized_bounces_to is site_owner (Mailman's
	// [mailman] site_owner). Default "": those lists forward to their
	// own administrators instead.
	SiteOwner string `toml:"site_owner"`
	// TestingClock, for tests only: a file holding an RFC 3339 time that
	// bounce processing takes as the current time (read at every use), so
	// a test can move days ahead. Default "": the real clock.
	TestingClock string `toml:"testing_clock"`
}

func defaultBounces() Bounces {
	return Bounces{
		Interval: Duration{5 * time.Minute},
		Window:   Duration{time.Hour},
		Hold:     Duration{24 * time.Hour},
	}
}

func (c *Config) validateBounces() error {
	b := &c.Bounces
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%w: bounces.%s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
	}
	switch {
	case b.Interval.Duration < 0:
		return bad("interval", "must not be negative")
	case b.Window.Duration < time.Second:
		return bad("window", "must be at least 1s, got %s", b.Window)
	case b.Hold.Duration < time.Second:
		return bad("hold", "must be at least 1s, got %s", b.Hold)
	case b.SiteOwner != "" && (!strings.Contains(b.SiteOwner, "@") || strings.ContainsAny(b.SiteOwner, " <>,")):
		return bad("site_owner", "not an email address: %q", b.SiteOwner)
	}
	if b.TestingClock != "" && !filepath.IsAbs(b.TestingClock) {
		base := "."
		if c.File != "" {
			base = filepath.Dir(c.File)
		}
		if abs, err := filepath.Abs(filepath.Join(base, b.TestingClock)); err == nil {
			b.TestingClock = abs
		}
	}
	return nil
}
