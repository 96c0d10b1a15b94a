package config

import (
	"fmt"
	"time"
)

// Membership tunes subscriptions, confirmations and their abuse limits
// (package membership, the command runner and the subscription pages).
type Membership struct {
	// PendingRequestLife is how long a confirmation token stays valid
	// (Mailman's pending_request_life). Default "72h".
	PendingRequestLife Duration `toml:"pending_request_life"`
	// ConfirmResendAfter: asking again while a confirmation is pending
	// re-sends it (with a new token) only this long after the last one.
	// Default "1h".
	ConfirmResendAfter Duration `toml:"confirm_resend_after"`
	// MaxConfirmationsPerHour caps the confirmation mails and command
	// replies of all lists together, per hour (lists have their own
	// max_confirmations_per_hour too). Default 1000; 0 means no site cap.
	MaxConfirmationsPerHour int `toml:"max_confirmations_per_hour"`
	// MaxAutoresponsesPerDay caps the command replies one address gets
	// from one list per day (Mailman's name). Default 10; 0: no cap.
	MaxAutoresponsesPerDay int `toml:"max_autoresponses_per_day"`
	// HTTPRequestsPerMinute caps the requests one source IP makes to the
	// subscription pages (unsubscribe, confirm). Default 30; 0: no cap.
	HTTPRequestsPerMinute int `toml:"http_requests_per_minute"`
}

func defaultMembership() Membership {
	return Membership{
		PendingRequestLife:      Duration{72 * time.Hour},
		ConfirmResendAfter:      Duration{time.Hour},
		MaxConfirmationsPerHour: 1000,
		MaxAutoresponsesPerDay:  10,
		HTTPRequestsPerMinute:   30,
	}
}

func (c *Config) validateMembership() error {
	m := c.Membership
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, a...))
	}
	switch {
	case m.PendingRequestLife.Duration < time.Minute:
		return bad("membership.pending_request_life", "must be at least 1m, got %s", m.PendingRequestLife)
	case m.ConfirmResendAfter.Duration < 0:
		return bad("membership.confirm_resend_after", "must not be negative")
	case m.MaxConfirmationsPerHour < 0, m.MaxAutoresponsesPerDay < 0, m.HTTPRequestsPerMinute < 0:
		return bad("membership", "limits must not be negative")
	}
	return nil
}
