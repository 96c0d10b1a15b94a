// Package dns is herald's resolver for the lookups the post pipeline makes
// (DMARC policy TXT records; DKIM keys later): through the system resolver,
// or through the server that herald.toml's [dns] resolver names
// ("host:port"; tests point it at a stub on loopback).
//
// Answers are cached in memory, positive ones for Options.TTL and "no such
// record" for Options.NegativeTTL; temporary failures (timeouts, SERVFAIL)
// are never cached, so the next lookup asks again. The cache holds at most
// Options.MaxEntries names. Errors are *net.DNSError as the standard
// library returns them: IsNotFound for a name or record that does not
// exist, IsTemporary/IsTimeout for trouble worth retrying.
package dns

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"herald/internal/lru"
)

// Resolver looks up TXT records. *Client implements it; tests may use
// their own.
type Resolver interface {
	// LookupTXT returns the TXT strings of name (each record's strings
	// joined, as net.Resolver does).
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Options configure a Client. Zero values mean the defaults.
type Options struct {
	// Server is "host:port" of the DNS server to ask; "" uses the system
	// resolver (/etc/resolv.conf).
	Server string
	// Timeout bounds one lookup. Default 5 s.
	Timeout time.Duration
	// TTL keeps answers. Default 15 minutes.
	TTL time.Duration
	// NegativeTTL keeps "does not exist". Default 5 minutes.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache. Default 10,000.
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Client is a caching resolver, safe for concurrent use.
type Client struct {
	r    *net.Resolver
	opts Options

	cache lru.Cache[string, entry] // one unit per name, MaxEntries in all
}

type entry struct {
	txts    []string
	err     error // a not-found *net.DNSError, or nil
	expires time.Time
}

var _ Resolver = (*Client)(nil)

// New returns a Client.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 15 * time.Minute
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = 5 * time.Minute
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := net.DefaultResolver
	if opts.Server != "" {
		server := opts.Server
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	c := &Client{r: r, opts: opts}
	c.cache.SetLimit(opts.MaxEntries)
	return c
}

// LookupTXT implements Resolver with the cache.
func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	now := c.opts.Now()
	e, ok := c.cache.Get(key)
	if ok && now.Before(e.expires) {
		return e.txts, e.err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// A trailing dot: never try the search domains of resolv.conf.
	txts, err := c.r.LookupTXT(ctx, key+".")
	var de *net.DNSError
	switch {
	case err == nil:
		c.put(key, entry{txts: txts, expires: now.Add(c.opts.TTL)})
	case errors.As(err, &de) && de.IsNotFound:
		c.put(key, entry{err: err, expires: now.Add(c.opts.NegativeTTL)})
	}
	return txts, err
}

// put stores e; a full cache drops its least recently used name.
func (c *Client) put(key string, e entry) { c.cache.Put(key, e, 1) }
