package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// BanPattern checks and normalizes a ban pattern, as AddBan stores it: an
// address is lower-cased, a "^regexp" is kept as written and must compile.
func BanPattern(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", fmt.Errorf("empty ban pattern")
	}
	if strings.HasPrefix(p, "^") {
		if _, err := regexp.Compile(p); err != nil {
			return "", fmt.Errorf("ban pattern %q: %w", p, err)
		}
		return p, nil
	}
	return strings.ToLower(p), nil
}

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
