package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"herald/internal/dkim"
	"herald/internal/store"
)

// signerCache keeps each domain's DKIM signer (or its absence) for ttl,
// so `herald dkim keygen` takes effect within a minute without a restart.
type signerCache struct {
	st  Store
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*signerEntry
}

type signerEntry struct {
	s       *dkim.Signer // nil: the domain has no key
	fetched time.Time
}

// get returns the domain's signer, or nil when it has no key.
func (c *signerCache) get(ctx context.Context, domain string) (*dkim.Signer, error) {
	if c.st == nil || domain == "" {
		return nil, nil
	}
	c.mu.Lock()
	e := c.m[domain]
	c.mu.Unlock()
	if e != nil && time.Since(e.fetched) < c.ttl {
		return e.s, nil
	}
	k, err := c.st.GetDKIMKey(ctx, domain)
	var s *dkim.Signer
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("dkim key of %s: %w", domain, err)
	default:
		if s, err = dkim.NewSigner(k); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.m[domain] = &signerEntry{s: s, fetched: time.Now()}
	c.mu.Unlock()
	return s, nil
}
