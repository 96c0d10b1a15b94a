package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Store is everything herald persists. Implementations are safe for
// concurrent use by several goroutines and, through the database's own
// locking, by several processes (the CLI while `herald serve` runs).
type Store interface {
	Domains
	Lists
	Members
	HeldMessages
	BounceEvents
	DKIMKeys
	Requests
	MemberLookup
	Quotas // membership (requests.go, quotas.go)
	Bans
	Posting // the post pipeline (bans.go, posting.go)
	BounceScores
	Recipients    // delivery (recipients.go)
	MemberBatches // bulk adds (memberbatch.go)
	Digests       // digests (digests.go)
	Archive       // the archive (archive.go)
	// Close releases the database.
	Close() error
}

// Domains stores mail domains.
type Domains interface {
	// CreateDomain adds d; ErrConflict if it exists.
	CreateDomain(ctx context.Context, d Domain) error
	// GetDomain returns the domain; ErrNotFound if absent.
	GetDomain(ctx context.Context, name string) (*Domain, error)
	// ListDomains returns all domains sorted by name.
	ListDomains(ctx context.Context) ([]Domain, error)
	// DeleteDomain removes an empty domain; ErrNotFound if absent,
	// ErrConflict while lists still use it.
	DeleteDomain(ctx context.Context, name string) error
}

// Lists stores mailing lists and their settings.
type Lists interface {
	// CreateList adds l (its domain must exist: ErrNotFound otherwise),
	// setting l.ID and l.Created; ErrConflict if LIST@DOMAIN exists.
	CreateList(ctx context.Context, l *List) error
	// GetList finds LIST@DOMAIN; ErrNotFound if absent.
	GetList(ctx context.Context, name, domain string) (*List, error)
	// GetListByID finds a list by id; ErrNotFound if absent.
	GetListByID(ctx context.Context, id int64) (*List, error)
	// ListLists returns the lists of domain ("" for all), sorted by domain and name.
	ListLists(ctx context.Context, domain string) ([]List, error)
	// UpdateSettings replaces a list's settings.
	UpdateSettings(ctx context.Context, listID int64, s Settings) error
	// DeleteList removes a list with its members and held messages.
	DeleteList(ctx context.Context, listID int64) error
	// NextPostID increments and returns the list's post number, recording
	// at as the last post time.
	NextPostID(ctx context.Context, listID int64, at time.Time) (int64, error)
}

// Members stores addresses and their roles on lists.
type Members interface {
	// AddMember subscribes m.Email in m.Role, creating the address if
	// needed; sets m.ID, m.Created and, when empty, m.Token. ErrConflict
	// if the address already has that role on the list.
	AddMember(ctx context.Context, m *Member) error
	// GetMember returns one role of an address on a list; ErrNotFound.
	GetMember(ctx context.Context, listID int64, email string, role Role) (*Member, error)
	// MemberRoles returns every role email has on the list (possibly none).
	MemberRoles(ctx context.Context, listID int64, email string) ([]Member, error)
	// UpdateMember writes m's preferences, moderation action and display name.
	UpdateMember(ctx context.Context, m *Member) error
	// RemoveMember removes one role; ErrNotFound if absent.
	RemoveMember(ctx context.Context, listID int64, email string, role Role) error
	// EachMember calls fn for every member of the list in role ("" for
	// all roles), ordered by email, streaming from the database so a
	// 100,000-member list is never loaded whole. fn's error stops the walk.
	EachMember(ctx context.Context, listID int64, role Role, fn func(*Member) error) error
	// CountMembers counts the list's members in role ("" for all roles).
	CountMembers(ctx context.Context, listID int64, role Role) (int, error)
	// GetAddress returns a known address; ErrNotFound.
	GetAddress(ctx context.Context, email string) (*Address, error)
}

// HeldMessages stores posts that wait for a moderator.
type HeldMessages interface {
	// HoldMessage stores h, setting h.ID.
	HoldMessage(ctx context.Context, h *Held) error
	// GetHeld returns a held message with its bytes; ErrNotFound.
	GetHeld(ctx context.Context, listID, id int64) (*Held, error)
	// ListHeld returns the list's held messages, oldest first, without
	// their bytes.
	ListHeld(ctx context.Context, listID int64) ([]Held, error)
	// DeleteHeld removes a held message; ErrNotFound if absent.
	DeleteHeld(ctx context.Context, listID, id int64) error
}

// Opener opens a store from a database URL.
type Opener func(ctx context.Context, url string) (Store, error)

var (
	openersMu sync.Mutex
	openers   = map[string]Opener{}
)

// Register makes an implementation available to Open under a URL scheme
// ("sqlite", "postgres"). Implementations call it from init; the server
// package imports them, so this package never imports a driver.
func Register(scheme string, o Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	openers[scheme] = o
}

// Open opens the store for url ("sqlite:PATH", "postgres://…"), running
// pending migrations.
func Open(ctx context.Context, url string) (Store, error) {
	scheme, _, ok := strings.Cut(url, ":")
	if !ok {
		return nil, fmt.Errorf("open store: no scheme in database url %q", url)
	}
	if scheme == "postgresql" {
		scheme = "postgres"
	}
	openersMu.Lock()
	o := openers[scheme]
	openersMu.Unlock()
	if o == nil {
		return nil, fmt.Errorf("open store: no driver for %q", scheme)
	}
	return o(ctx, url)
}
