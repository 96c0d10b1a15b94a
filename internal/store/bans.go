package store

import (
	"context"
	"time"
)

// Ban keeps an address (or every address matching a pattern) off a list,
// or off every list when ListID is 0. Patterns starting with "^" are
// regular expressions matched against the normalized address, as in
// Mailman 3.
type Ban struct {
	ID      int64
	ListID  int64 // 0: global
	Pattern string
	Created time.Time
}

// Bans stores banned addresses.
type Bans interface {
	// AddBan adds a ban; ErrConflict if the same pattern is banned there.
	AddBan(ctx context.Context, b *Ban) error
	// RemoveBan removes one; ErrNotFound if absent.
	RemoveBan(ctx context.Context, listID int64, pattern string) error
	// ListBans returns the bans of a list (0: the global ones).
	ListBans(ctx context.Context, listID int64) ([]Ban, error)
	// IsBanned reports whether email is banned on the list or globally.
	IsBanned(ctx context.Context, listID int64, email string) (bool, error)
}
