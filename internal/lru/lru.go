// Package lru is a map with a byte budget that drops its least recently
// used values to stay within it. Delivery keeps big lists' rosters in one.
package lru

import "sync"

// Cache holds values by key up to Limit bytes in all, as the callers size
// them. The zero Cache holds nothing (its limit is 0). It is safe for
// concurrent use.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	limit int
	bytes int
	clock uint64 // counts uses
	m     map[K]*entry[V]
}

type entry[V any] struct {
	v    V
	size int
	used uint64
}

// SetLimit sets the byte budget and forgets every value.
func (c *Cache[K, V]) SetLimit(limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit, c.bytes, c.m = limit, 0, nil
}

// Limit returns the byte budget.
func (c *Cache[K, V]) Limit() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit
}

// Bytes returns the bytes held.
func (c *Cache[K, V]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Get returns the value of k and counts it as used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		var zero V
		return zero, false
	}
	c.clock++
	e.used = c.clock
	return e.v, true
}

// Put sets the value of k, of size bytes, dropping the least recently
// used values to make room; a value bigger than the whole budget only
// drops what k had.
func (c *Cache[K, V]) Put(k K, v V, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(k)
	if size > c.limit {
		return
	}
	for c.bytes+size > c.limit {
		c.dropOldest()
	}
	if c.m == nil {
		c.m = map[K]*entry[V]{}
	}
	c.clock++
	c.m[k] = &entry[V]{v: v, size: size, used: c.clock}
	c.bytes += size
}

// Delete forgets the value of k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(k)
}

func (c *Cache[K, V]) drop(k K) {
	if e := c.m[k]; e != nil {
		c.bytes -= e.size
		delete(c.m, k)
	}
}

func (c *Cache[K, V]) dropOldest() {
	var oldest K
	var at uint64
	first := true
	for k, e := range c.m {
		if first || e.used < at {
			oldest, at, first = k, e.used, false
		}
	}
	c.drop(oldest)
}
