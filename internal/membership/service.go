package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
)

// Store is what the workflows need from the store.
type Store interface {
	store.Lists
	store.Members
	store.Requests
	store.MemberLookup
	store.Quotas
	// IsBanned is store.Bans': list and global bans, exact and regexp.
	IsBanned(ctx context.Context, listID int64, email string) (bool, error)
}

// Request sources.
const (
	SourceEmail = "email" // email commands: the sender is not authenticated
	SourceWeb   = "web"   // the public web pages: not authenticated either
	SourceAdmin = "admin" // CLI or API: an operator acted
)

// Status is the result of one workflow step.
type Status string

// The statuses.
const (
	Subscribed        Status = "subscribed"
	Unsubscribed      Status = "unsubscribed"
	ConfirmationSent  Status = "confirmation_sent"
	Invited           Status = "invited"
	AwaitingModerator Status = "awaiting_moderator"
	AlreadyMember     Status = "already_member"
	NotMember         Status = "not_member"
	AlreadyPending    Status = "already_pending"
	Banned            Status = "banned"
	Undeliverable     Status = "undeliverable" // delivery disabled by bounces: no mail to it
	RateLimited       Status = "rate_limited"
	BadToken          Status = "bad_token" // unknown, used, expired or for another list
	Rejected          Status = "rejected"
	Discarded         Status = "discarded"
	DigestsDisabled   Status = "digests_disabled"
)

// Outcome is what a workflow step did.
type Outcome struct {
	Status  Status
	List    *store.List
	Email   string
	Kind    store.RequestKind // of the request acted on
	Request *store.Request    // the pending request, when one is waiting
	Member  *store.Member     // the member, after a subscription
	// Mail must be made durable by the caller (spool items for the out queue).
	Mail []spool.Item
	// Answered is set when Mail includes a message to the requester, so a
	// command reply would say nothing new.
	Answered bool
}

// Options configure a Service. Zero durations take their defaults; zero
// limits mean no limit.
type Options struct {
	// PendingLife is how long a confirmation token is valid. Default 72h.
	PendingLife time.Duration
	// ResendAfter: a repeated request re-sends a pending confirmation,
	// with a new token, only this long after the last. Default 1h.
	ResendAfter time.Duration
	// SiteConfirmationsPerHour caps confirmation mails and command
	// replies of all lists together.
	SiteConfirmationsPerHour int
	// AutoresponsesPerDay caps the command replies per address and list.
	AutoresponsesPerDay int
	// BaseURL is the public web address ("" for none): mails then carry
	// no links.
	BaseURL string
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service runs the workflows. It is safe for concurrent use; all state
// is in the store.
type Service struct {
	st   Store
	opts Options
	log  *slog.Logger
}

// New returns a Service on st.
func New(st Store, opts Options) *Service {
	if opts.PendingLife <= 0 {
		opts.PendingLife = 72 * time.Hour
	}
	if opts.ResendAfter <= 0 {
		opts.ResendAfter = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{st: st, opts: opts, log: opts.Logger.With("component", "membership")}
}

// BaseURL returns the public web address the service puts in mails.
func (s *Service) BaseURL() string { return s.opts.BaseURL }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// refusal reports why no mail may go to email for list l, or "".
func (s *Service) refusal(ctx context.Context, l *store.List, email string) (Status, error) {
	banned, err := s.st.IsBanned(ctx, l.ID, email)
	if err != nil {
		return "", fmt.Errorf("ban check of %s on %s: %w", email, l.Address(), err)
	}
	if banned {
		return Banned, nil
	}
	off, err := s.st.BounceDisabled(ctx, email)
	if err != nil {
		return "", fmt.Errorf("bounce status of %s: %w", email, err)
	}
	if off {
		return Undeliverable, nil
	}
	return "", nil
}

// member returns email's member role on l, or nil.
func (s *Service) member(ctx context.Context, l *store.List, email string) (*store.Member, error) {
	m, err := s.st.GetMember(ctx, l.ID, email, store.RoleMember)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("membership of %s on %s: %w", email, l.Address(), err)
	}
	return m, nil
}

// pending returns email's unexpired request on l, or nil.
func (s *Service) pending(ctx context.Context, l *store.List, email string) (*store.Request, error) {
	r, err := s.st.PendingRequest(ctx, l.ID, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending request of %s on %s: %w", email, l.Address(), err)
	}
	if s.expired(r) {
		return nil, nil
	}
	return r, nil
}

func (s *Service) expired(r *store.Request) bool {
	return !r.Expires.IsZero() && !r.Expires.After(s.now())
}

// logOutcome records a step.
func (s *Service) logOutcome(o Outcome, source string) {
	s.log.Info("membership", "list", o.List.Name, "domain", o.List.Domain, "address", o.Email,
		"kind", o.Kind, "status", o.Status, "source", source, "mails", len(o.Mail))
}
