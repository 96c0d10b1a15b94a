package web

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// limiter is a token bucket per source: an IPv4 address, or the /64 of an
// IPv6 address (one host usually has a whole /64 to rotate through).
// Buckets hold up to perMinute tokens and refill at perMinute per minute.
// It is in memory: each herald process limits on its own.
type limiter struct {
	perMinute float64
	now       func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the memory a flood of sources can take: past it, full
// (idle) buckets are dropped, and if that is not enough, all of them.
const maxBuckets = 100_000

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{perMinute: float64(perMinute), now: now, buckets: map[netip.Prefix]*bucket{}}
}

// source returns the rate-limit key of a request's peer address.
func source(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits) // bits is valid for the family
	return p
}

// allow takes a token for the source of remoteAddr, reporting false when
// there was none left.
func (l *limiter) allow(remoteAddr string) bool { return l.take(remoteAddr, true) }

// exhausted reports whether the source has no token left, taking none.
func (l *limiter) exhausted(remoteAddr string) bool { return !l.take(remoteAddr, false) }

func (l *limiter) take(remoteAddr string, charge bool) bool {
	if l == nil || l.perMinute <= 0 {
		return true
	}
	key := source(remoteAddr)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.perMinute, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.last).Minutes()*l.perMinute)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	if charge {
		b.tokens--
	}
	return true
}

// sweep drops buckets that have refilled; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Minutes()*l.perMinute >= l.perMinute {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// limit wraps h with the limiter: over the limit, 429 with Retry-After.
func (l *limiter) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(r.RemoteAddr) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "too many requests; try again in a minute", http.StatusTooManyRequests)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// limitFailures wraps h so that only failed attempts cost: a source that
// has used up its tokens on failures is refused (429), and h reports a
// failure by calling the function it gets. The one-click paths use it: a
// mailbox provider's servers POST for many members from few addresses,
// and valid tokens must never be refused, while guessing tokens costs.
func (l *limiter) limitFailures(h func(w http.ResponseWriter, r *http.Request, failed func())) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.exhausted(r.RemoteAddr) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "too many requests; try again in a minute", http.StatusTooManyRequests)
			return
		}
		h(w, r, func() { l.allow(r.RemoteAddr) })
	})
}
