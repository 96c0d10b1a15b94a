package ingress

import (
	"sync"
	"time"
)

// ListCacheTTL is how long RCPT trusts a list it found. Every recipient
// of every message asks whether its list exists, and at thousands of
// messages a second those store reads were a sixth of ingest's CPU. Only
// lists that exist are remembered, so a new list receives mail at once; a
// deleted list (or a changed hard_max_message_size) is noticed within
// the TTL, and the post runner reads the list again anyway.
const ListCacheTTL = 2 * time.Second

// listCache remembers existing lists by (name, domain) for ListCacheTTL.
type listCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[listKey]listHit
}

type listKey struct{ name, domain string }

// listHit is what Resolve needs of a list it found.
type listHit struct {
	maxSize int64 // hard_max_message_size in bytes; 0 for none
	expires time.Time
}

// get returns the remembered list, if fresh.
func (c *listCache) get(name, domain string) (listHit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[listKey{name, domain}]
	if !ok || !c.now().Before(h.expires) {
		return listHit{}, false
	}
	return h, true
}

// put remembers a list found in the store; a stale entry is replaced, and
// once the map is big, expired entries go first.
func (c *listCache) put(name, domain string, maxSize int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.m == nil {
		c.m = map[listKey]listHit{}
	}
	if len(c.m) >= 4096 {
		for k, h := range c.m {
			if !now.Before(h.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[listKey{name, domain}] = listHit{maxSize: maxSize, expires: now.Add(ListCacheTTL)}
}
