package store

import (
	"context"
	"time"
)

// Quota is a sliding-window limit: at most Limit uses in any Window.
// Scope names the counter ("site:confirm", "list:7:confirm", …).
// A Limit of 0 or less means no limit.
type Quota struct {
	Scope  string
	Window time.Duration
	Limit  int
}

// Quotas counts uses of shared limits (confirmation mails per list and per
// site, auto-responses per address). They live in the store, so every
// herald process that shares it shares the limits.
type Quotas interface {
	// ChargeQuotas records one use at now in every quota, unless one of
	// them already has Limit uses in (now-Window, now]: then it records
	// nothing and reports false. It is atomic across processes.
	ChargeQuotas(ctx context.Context, now time.Time, qs []Quota) (bool, error)
	// QuotasAvailable reports whether every quota has a use left at now,
	// reading only: a hint that lets callers skip work that would be
	// refused; only ChargeQuotas decides.
	QuotasAvailable(ctx context.Context, now time.Time, qs []Quota) (bool, error)
	// PruneQuotas forgets uses older than before.
	PruneQuotas(ctx context.Context, before time.Time) error
}
