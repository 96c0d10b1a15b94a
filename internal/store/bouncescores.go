package store

import (
	"context"
	"time"
)

// BounceInfo is one member's bounce record on one list: GNU Mailman 3's
// bounce_score, last_bounce_received, last_warning_sent and
// total_warnings_sent, plus when a probe went out and when bounce
// processing disabled delivery. A member who never bounced has the zero
// record. The record belongs to the membership (role member): it goes when
// the member leaves.
type BounceInfo struct {
	ListID int64
	Email  string
	// DeliveryStatus is the member's delivery status, read with the record;
	// SaveBounceInfo never changes it, DisableByBounces does.
	DeliveryStatus string
	// Score counts the days with a scoring bounce (Mailman's bounce_score).
	Score int
	// LastBounce is the time of the last bounce that was looked at, scored
	// or not (Mailman's last_bounce_received); zero: none.
	LastBounce time.Time
	// ProbeSent is when a probe went out, while its answer is awaited;
	// zero: no probe pending.
	ProbeSent time.Time
	// DisabledAt is when bounce processing disabled delivery; zero: it
	// did not.
	DisabledAt time.Time
	// LastWarning is when the last "your delivery is disabled" warning
	// went out; zero: none since delivery was disabled.
	LastWarning time.Time
	// WarningsSent counts those warnings (Mailman's total_warnings_sent).
	WarningsSent int
}

// BounceProbe is a probe message sent to a member whose score reached the
// list's threshold. It goes out with the envelope sender
// LIST-bounces+TOKEN@DOMAIN, so a bounce of it names the member beyond
// doubt.
type BounceProbe struct {
	// Token is 128 random bits in hex, set by AddBounceProbe. The store
	// keeps only its hash.
	Token  string
	ListID int64
	Email  string
	Sent   time.Time
}

// BounceHold pauses bounce scoring on a list (the circuit breaker): bounce
// events dated from Start up to Until are not scored.
type BounceHold struct {
	ID     int64
	ListID int64
	Start  time.Time
	Until  time.Time
	// Reason says what tripped the breaker, for the owners and the CLI.
	Reason  string
	Created time.Time
}

// BounceScores stores what bounce processing knows about members and
// lists: scores, probes and circuit-breaker holds.
type BounceScores interface {
	// BounceInfo returns the record of email's membership (role member)
	// of the list, the zero record (with ListID, Email and DeliveryStatus)
	// when it never bounced; ErrNotFound when email is not a member.
	BounceInfo(ctx context.Context, listID int64, email string) (*BounceInfo, error)
	// SaveBounceInfo writes info's Score, LastBounce, ProbeSent,
	// LastWarning and WarningsSent (DisabledAt is DisableByBounces') and,
	// when eventID is not 0, marks that bounce event processed, in one
	// transaction. ErrNotFound when the member (or the event) is gone.
	SaveBounceInfo(ctx context.Context, info *BounceInfo, eventID int64) error
	// DisableByBounces sets the member's delivery status to by_bounces if
	// it is enabled, resets score, probe and warnings, sets DisabledAt to
	// at and, when eventID is not 0, marks that event processed, in one
	// transaction. It reports whether it disabled the member (false: the
	// delivery was not enabled; the event is marked all the same).
	// ErrNotFound when email is not a member.
	DisableByBounces(ctx context.Context, listID int64, email string, at time.Time, eventID int64) (bool, error)
	// BounceInfos returns the records of the members of a list (listID 0:
	// of every list) that have a bounce record or whose delivery is
	// disabled by bounces; with disabledOnly, only the latter. Ordered by
	// list id and email.
	BounceInfos(ctx context.Context, listID int64, disabledOnly bool) ([]BounceInfo, error)

	// AddBounceProbe stores p, setting p.Token; a zero p.Sent becomes now.
	// ErrNotFound for an unknown list.
	AddBounceProbe(ctx context.Context, p *BounceProbe) error
	// GetBounceProbe finds a probe by its token; ErrNotFound.
	GetBounceProbe(ctx context.Context, token string) (*BounceProbe, error)
	// DeleteBounceProbes removes the probes sent before t and returns how
	// many it removed.
	DeleteBounceProbes(ctx context.Context, before time.Time) (int, error)

	// BouncesBetween returns the list's bounce events, processed or not,
	// with from <= At < to, oldest first.
	BouncesBetween(ctx context.Context, listID int64, from, to time.Time) ([]BounceEvent, error)

	// AddBounceHold stores h, setting h.ID and h.Created. ErrNotFound for
	// an unknown list.
	AddBounceHold(ctx context.Context, h *BounceHold) error
	// UpdateBounceHold writes h's Start, Until and Reason; ErrNotFound.
	UpdateBounceHold(ctx context.Context, h *BounceHold) error
	// BounceHolds returns the holds of a list (listID 0: of every list)
	// that last beyond after (Until > after), by list id and Start.
	BounceHolds(ctx context.Context, listID int64, after time.Time) ([]BounceHold, error)
}
