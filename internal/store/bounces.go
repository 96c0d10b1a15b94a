package store

import (
	"context"
	"time"
)

// BounceEvent is one delivery failure of a member's address, from an SMTP
// reply at delivery time or from a bounce message. Bounce processing
// scores members from unprocessed events.
type BounceEvent struct {
	ID        int64
	ListID    int64
	Email     string
	Permanent bool
	// Reason is a class: unknown_user, mailbox_full, policy, too_large,
	// temporary, other.
	Reason string
	// Detail is the SMTP reply or the bounce's text.
	Detail string
	// Source is "smtp" (delivery time) or "dsn", "verp", … (bounce mail).
	Source    string
	At        time.Time
	Processed bool
}

// BounceEvents stores bounce events.
type BounceEvents interface {
	// RecordBounce stores e, setting e.ID.
	RecordBounce(ctx context.Context, e *BounceEvent) error
	// UnprocessedBounces returns up to limit unprocessed events, oldest first.
	UnprocessedBounces(ctx context.Context, limit int) ([]BounceEvent, error)
	// MarkBounceProcessed flags an event as handled.
	MarkBounceProcessed(ctx context.Context, id int64) error
}
