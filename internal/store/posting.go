package store

import (
	"context"
	"time"
)

// Posting is what the post pipeline remembers between posts: how many
// posts each address got through to a list (for "moderate a new member's
// first N posts"), which automatic responses went to whom (rate limits),
// and the tokens that let a moderator decide on a held post by replying
// to its notice.
//
// Post counts and autoresponse records are kept per list and address, not
// on the member row, so leaving and rejoining a list does not reset them;
// they go away with the list.
type Posting interface {
	// RecordPost counts one accepted post from email on the list at at and
	// returns the new count. ErrNotFound for an unknown list.
	RecordPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error)
	// NumberPost is NextPostID and, when email is not empty, RecordPost,
	// in one transaction (one write per post): it returns the post's
	// number. ErrNotFound for an unknown list.
	NumberPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error)
	// PostCount returns how many posts from email the list accepted so far
	// (0 when none).
	PostCount(ctx context.Context, listID int64, email string) (int64, error)
	// AllowAutoresponse decides whether an automatic response of kind
	// ("hold", "postings", …) may go to email at at, and records it when it
	// may: not when one went out less than grace ago (0: no grace period),
	// nor when perDay of that kind already went to email that UTC day
	// (0: no daily limit). The daily limit is enforced atomically.
	// ErrNotFound for an unknown list.
	AllowAutoresponse(ctx context.Context, listID int64, email, kind string, at time.Time, perDay int, grace time.Duration) (bool, error)
	// GetHeldByToken returns the held message of the list whose Token is
	// token, with its bytes; ErrNotFound when there is none.
	GetHeldByToken(ctx context.Context, listID int64, token string) (*Held, error)
}
