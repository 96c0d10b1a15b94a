package pipeline

import (
	"context"
	"time"

	"herald/internal/mime"
	"herald/internal/store"
)

// Roster is what rules and handlers may ask the store.
type Roster interface {
	// MemberRoles returns every role email has on the list.
	MemberRoles(ctx context.Context, listID int64, email string) ([]store.Member, error)
	// EachMember walks the list's members in role, ordered by email.
	EachMember(ctx context.Context, listID int64, role store.Role, fn func(*store.Member) error) error
}

// Message is a post travelling through the pipeline.
type Message struct {
	List      *store.List
	Msg       *mime.Message
	Size      int    // size of the raw message as received
	EnvSender string // envelope sender
	// Sender is the poster: the first of Senders that is a member, else
	// the first of Senders.
	Sender string
	// Senders are the identities the post claims: From, then the envelope
	// sender (never Reply-To or Sender:, which anyone can set).
	Senders []string
	// Approved is set when a moderator released the post.
	Approved bool
	Roster   Roster
	Now      time.Time
	// PostID is the list's post number, assigned on acceptance.
	PostID int64
	// Recipients are computed by the recipients handler.
	Recipients []string
	// Meta carries per-message facts between rules and handlers.
	Meta map[string]string
}
