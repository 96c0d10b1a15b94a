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
	// IsBanned reports whether email is banned on the list or globally.
	IsBanned(ctx context.Context, listID int64, email string) (bool, error)
	// PostCount returns how many posts from email the list accepted.
	PostCount(ctx context.Context, listID int64, email string) (int64, error)
}

// Ledger is what handlers may write to the store: the list's post number
// and the per-address bookkeeping.
type Ledger interface {
	// NumberPost gives a post the list's next number and counts it for
	// email (unless empty), in one transaction (store.Posting).
	NumberPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error)
	// AllowAutoresponse rate-limits automatic answers (store.Posting).
	AllowAutoresponse(ctx context.Context, listID int64, email, kind string, at time.Time, perDay int, grace time.Duration) (bool, error)
}

// DMARCLookup finds the DMARC policy for mail From a domain.
type DMARCLookup interface {
	// Policy returns "none", "quarantine", "reject", or "" when the domain
	// (and its organizational domain) publish none; an error means the
	// answer could not be had.
	Policy(ctx context.Context, domain string) (string, error)
}

// Notice is a message herald writes because of a post (an
// acknowledgement, an autoresponse, a filter notice). The post runner
// sends it together with the post's outcome, in one spool step.
type Notice struct {
	Recipients []string
	Message    []byte
}

// Message is a post travelling through the pipeline.
type Message struct {
	List      *store.List
	Msg       *mime.Message
	Size      int    // size of the raw message as received
	EnvSender string // envelope sender
	// Sender is the poster: the first of Senders that has a role on the
	// list (set by the moderation rules), else the first of Senders.
	Sender string
	// Senders are the identities the post claims, in the order of the
	// list's sender_headers (default: From, then the envelope sender;
	// never Reply-To or Sender: unless the list asks for them).
	Senders []string
	// Approved is set when a moderator released the post.
	Approved bool
	Roster   Roster
	// Ledger is where handlers write bookkeeping; nil in pure rule tests.
	Ledger Ledger
	// DMARC looks up policies; nil means no lookups (no policy known).
	DMARC DMARCLookup
	Now   time.Time
	// PostID is the list's post number, assigned by the post-number
	// handler.
	PostID int64
	// Recipients are computed by the recipients handler.
	Recipients []string
	// Notices are sent along with the post's outcome.
	Notices []Notice
	// OutMeta is copied into the envelope of every out entry of the post
	// (for delivery: e.g. per-member decoration, see handlers.Decorate).
	OutMeta map[string]string
	// Meta carries per-message facts between rules and handlers.
	Meta map[string]string

	roles map[string][]store.Member // Roles' memo
}

// Roles returns every role email has on the list, asking the roster once
// per message and address (several rules and handlers ask about the
// poster).
func (m *Message) Roles(ctx context.Context, email string) ([]store.Member, error) {
	if ms, ok := m.roles[email]; ok {
		return ms, nil
	}
	ms, err := m.Roster.MemberRoles(ctx, m.List.ID, email)
	if err != nil {
		return nil, err
	}
	if m.roles == nil {
		m.roles = map[string][]store.Member{}
	}
	m.roles[email] = ms
	return ms, nil
}

// IsMember reports whether email is a member (role member) of the list.
func (m *Message) IsMember(ctx context.Context, email string) (bool, error) {
	ms, err := m.Roles(ctx, email)
	for _, x := range ms {
		if x.Role == store.RoleMember {
			return true, err
		}
	}
	return false, err
}

// Meta keys rules and handlers share.
const (
	// MetaNonmember is set by nonmember-moderation to the poster's address
	// when it has no role on the list: the post runner registers it as a
	// nonmember (Mailman does so on a nonmember's first post).
	MetaNonmember = "nonmember"
	// MetaApprovedPassword holds the moderator password found in the post
	// (rule approved), so cleanse can remove it from every part.
	MetaApprovedPassword = "approved_password"
	// MetaDMARCPolicy and MetaDMARCError memoize the author's DMARC policy.
	MetaDMARCPolicy = "dmarc_policy"
	MetaDMARCError  = "dmarc_error"
)

// SetMeta sets a Meta key, creating the map when needed.
func (m *Message) SetMeta(k, v string) {
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta[k] = v
}
