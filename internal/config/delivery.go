package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DomainLimit throttles one destination domain.
type DomainLimit struct {
	// Concurrency: transactions in flight (0: no cap).
	Concurrency int `toml:"concurrency"`
	// Rate: recipients per time unit, "N/s", "N/m" or "N/h" ("": none).
	Rate string `toml:"rate"`
}

// ParseRate reads "N/s", "N/m" or "N/h" as recipients per second and the
// burst N; "" or "0" is no limit (0, 0).
func ParseRate(s string) (perSecond, burst float64, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, 0, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	v, perr := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if !ok || perr != nil || v <= 0 {
		return 0, 0, fmt.Errorf("not a rate like 100/m: %q", s)
	}
	var d time.Duration
	switch strings.TrimSpace(unit) {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		return 0, 0, fmt.Errorf("rate %q: unit must be s, m or h", s)
	}
	return v / d.Seconds(), v, nil
}

func (c *Config) validateDelivery() error {
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
	}
	t := &c.Delivery
	if t.MaxEntryTime.Duration == 0 {
		t.MaxEntryTime.Duration = 5 * time.Minute
	}
	if t.MaxEntryTime.Duration < time.Second {
		return bad("delivery.max_entry_time", "must be at least 1s, got %s", t.MaxEntryTime)
	}
	if t.DomainConcurrency < 0 {
		return bad("delivery.domain_concurrency", "must not be negative, got %d", t.DomainConcurrency)
	}
	if _, _, err := ParseRate(t.DomainRate); err != nil {
		return bad("delivery.domain_rate", "%v", err)
	}
	for d, l := range t.Domains {
		if l.Concurrency < 0 {
			return bad("delivery.domains."+d+".concurrency", "must not be negative, got %d", l.Concurrency)
		}
		if _, _, err := ParseRate(l.Rate); err != nil {
			return bad("delivery.domains."+d+".rate", "%v", err)
		}
	}
	return nil
}
