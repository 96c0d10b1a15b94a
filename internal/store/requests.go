package store

import (
	"context"
	"time"
)

// RequestKind says what a pending request asks for.
type RequestKind string

// The kinds of pending request.
const (
	RequestSubscribe   RequestKind = "subscribe"
	RequestUnsubscribe RequestKind = "unsubscribe"
)

// RequestState is the step a pending request waits in.
type RequestState string

// The waiting steps of the subscription workflows (package membership).
const (
	// StateConfirm waits for the address to prove it asked: a reply to
	// the confirmation mail, the confirm command, or the web link.
	StateConfirm RequestState = "confirm"
	// StateModerate waits for an owner or moderator to approve.
	StateModerate RequestState = "moderate"
)

// Request is a pending subscription or unsubscription: the stored state of
// the workflow in package membership. An address has at most one pending
// request per list, whatever its kind.
type Request struct {
	ID          int64
	ListID      int64
	Kind        RequestKind
	Email       string // normalized
	DisplayName string
	State       RequestState
	// TokenHash is the SHA-256 (hex) of the confirmation token while the
	// request is in StateConfirm, "" otherwise. The token itself is never
	// stored: whoever reads the database cannot confirm for someone else.
	TokenHash string
	// Expires is when the request lapses; zero means never (requests
	// waiting for a moderator do not expire).
	Expires time.Time
	// Sent is when the last confirmation mail went out (zero: none).
	Sent time.Time
	// DeliveryMode asked for at subscription ("" for the default).
	DeliveryMode string
	// Invited marks an invitation sent by an owner: accepting it needs no
	// moderation.
	Invited bool
	// PreApproved skips moderation after confirmation.
	PreApproved bool
	// Source is where the request came from: email, web, cli, api.
	Source  string
	Created time.Time
}

// Requests stores pending subscription requests.
type Requests interface {
	// AddRequest stores r, setting r.ID (and r.Created when zero).
	// ErrConflict while the address has an unexpired request on the list
	// (an expired one, Expires ≤ r.Created, is replaced); ErrNotFound for
	// an unknown list.
	AddRequest(ctx context.Context, r *Request) error
	// GetRequest returns one request of a list; ErrNotFound.
	GetRequest(ctx context.Context, listID, id int64) (*Request, error)
	// RequestByToken finds the request whose TokenHash is tokenHash;
	// ErrNotFound.
	RequestByToken(ctx context.Context, tokenHash string) (*Request, error)
	// PendingRequest returns email's request on the list, expired or not;
	// ErrNotFound.
	PendingRequest(ctx context.Context, listID int64, email string) (*Request, error)
	// ListRequests returns a list's requests, oldest first.
	ListRequests(ctx context.Context, listID int64) ([]Request, error)
	// UpdateRequest writes r's State, TokenHash, Expires, Sent,
	// DeliveryMode and PreApproved if the stored request is still in
	// state prev with token hash prevHash; otherwise ErrNotFound (another
	// process moved it first, so each token is used once).
	UpdateRequest(ctx context.Context, r *Request, prev RequestState, prevHash string) error
	// DeleteRequest removes a request if it is still in state prev with
	// token hash prevHash; ErrNotFound otherwise.
	DeleteRequest(ctx context.Context, listID, id int64, prev RequestState, prevHash string) error
	// DeleteExpiredRequests removes requests with 0 < Expires ≤ now and
	// returns how many.
	DeleteExpiredRequests(ctx context.Context, now time.Time) (int, error)
}

// MemberLookup holds the queries membership needs beyond Members.
type MemberLookup interface {
	// MemberByToken returns the member (any role) whose one-click token
	// is token; ErrNotFound. A token dies with its membership.
	MemberByToken(ctx context.Context, token string) (*Member, error)
	// SetAddressVerified records that email proved it receives mail,
	// creating the address if needed.
	SetAddressVerified(ctx context.Context, email string, at time.Time) error
	// BounceDisabled reports whether email has delivery disabled by
	// bounces on any list.
	BounceDisabled(ctx context.Context, email string) (bool, error)
}
