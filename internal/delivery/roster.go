package delivery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"herald/internal/lru"
	"herald/internal/store"
)

// A roster is a big list's recipients grouped by destination domain, kept
// for the posts that follow under the list's membership version: while
// the version stands, a post to the list hands its domains to the feed
// whole, at a cost that grows with the domains, not with the members,
// instead of walking every member again. The first post after a change
// walks the store as usual and builds the roster on the way.
type roster struct {
	version int64
	domains []rosterDomain // sorted by name
	// optOut holds the recipients who opted out of their own posts or of
	// list copies (most have neither): the only ones a post may leave out.
	optOut map[string]optOut
	n      int
}

// rosterDomain is one domain's recipients. The slice is capped at its
// length, so no append can write into another domain's recipients.
type rosterDomain struct {
	name  string
	rcpts []*rcpt
}

// optOut is a recipient's receive flags, where one is off.
type optOut struct{ ownPosts, listCopy bool }

// rosterStore is a store that tells the membership version of a list and
// which lists are big (sqlstore); delivery keeps rosters only for such
// stores.
type rosterStore interface {
	MembersVersion(ctx context.Context, listID int64) (version int64, ok bool, err error)
	BigLists(ctx context.Context, min int) ([]int64, error)
}

// WarmRosters builds the rosters of the store's lists with at least
// RosterMin recipients, so their first posts after a start skip the walk.
// serve runs it in the background at start.
func (d *Deliverer) WarmRosters(ctx context.Context) error {
	vs, ok := d.opts.Store.(rosterStore)
	if !ok || !d.rosters.on() {
		return nil
	}
	ids, err := vs.BigLists(ctx, d.rosters.min)
	if err != nil {
		return fmt.Errorf("warm rosters: %w", err)
	}
	for _, id := range ids {
		v, known, err := vs.MembersVersion(ctx, id)
		if err != nil {
			return fmt.Errorf("warm rosters: %w", err)
		}
		if !known {
			continue // deleted since
		}
		b := newRosterBuilder(v)
		var slab rcptSlab
		err = d.opts.Store.EachRecipient(ctx, id, false, func(m *store.Recipient) error {
			b.add(slab.next(m.Email), m)
			return nil
		})
		if err != nil {
			return fmt.Errorf("warm rosters: %w", err)
		}
		d.rosters.keep(id, b)
	}
	return nil
}

// rosterBytesPer approximates a roster's bytes per recipient: the address
// (~30 bytes, a piece of the store walk's joined string), the rcpt, its
// pointer, slice growth.
const rosterBytesPer = 80

// rosters keeps the rosters of lists with at least min recipients, up to
// the cache's byte limit; the least recently used goes first.
type rosters struct {
	min   int // set by New
	cache lru.Cache[int64, *roster]

	// small holds the lists whose last walk found fewer than min
	// recipients: their posts walk without asking for the membership
	// version first, as no roster would be kept. A walk that finds min or
	// more takes the list out, so that its next post builds a roster.
	smallMu sync.Mutex
	small   map[int64]bool
}

// maxSmall bounds rosters.small; past it the set starts again.
const maxSmall = 1 << 16

// isSmall reports whether list's last walk found fewer than min recipients.
func (rs *rosters) isSmall(list int64) bool {
	rs.smallMu.Lock()
	defer rs.smallMu.Unlock()
	return rs.small[list]
}

// walked records how many recipients a walk of list found.
func (rs *rosters) walked(list int64, n int) {
	rs.smallMu.Lock()
	defer rs.smallMu.Unlock()
	switch {
	case n >= rs.min:
		delete(rs.small, list)
	case rs.small == nil || len(rs.small) >= maxSmall:
		rs.small = map[int64]bool{list: true}
	default:
		rs.small[list] = true
	}
}

// get returns the roster of list at version, or nil.
func (rs *rosters) get(list, version int64) *roster {
	if r, ok := rs.cache.Get(list); ok && r.version == version {
		return r
	}
	return nil
}

// on reports whether rosters are kept at all.
func (rs *rosters) on() bool { return rs.cache.Limit() > 0 }

// keep makes b the roster of list if it is big enough (else forgets the
// list's older roster).
func (rs *rosters) keep(list int64, b *rosterBuilder) {
	rs.walked(list, len(b.rcpts))
	if len(b.rcpts) < rs.min {
		rs.cache.Delete(list)
		return
	}
	r := b.roster()
	rs.cache.Put(list, r, r.n*rosterBytesPer)
}

// rosterBuilder collects a walk for a roster. During the walk it only
// keeps the recipients in order: grouping them by domain waits until the
// walk is known to be big enough, so a small list's post (the usual one)
// pays a slice append per recipient and nothing more.
type rosterBuilder struct {
	version int64
	rcpts   []*rcpt
	optOut  map[string]optOut
}

func newRosterBuilder(version int64) *rosterBuilder {
	return &rosterBuilder{version: version}
}

// add takes one walked recipient (every one, whatever this post leaves out).
func (b *rosterBuilder) add(r *rcpt, m *store.Recipient) {
	b.rcpts = append(b.rcpts, r)
	if !m.ReceiveOwnPostings || !m.ReceiveListCopy {
		if b.optOut == nil {
			b.optOut = map[string]optOut{}
		}
		b.optOut[r.addr] = optOut{ownPosts: !m.ReceiveOwnPostings, listCopy: !m.ReceiveListCopy}
	}
}

// roster groups what was collected by domain, domains sorted by name.
func (b *rosterBuilder) roster() *roster {
	byDom := map[string][]*rcpt{}
	for _, r := range b.rcpts {
		dom := domainOf(r.addr)
		byDom[dom] = append(byDom[dom], r)
	}
	r := &roster{version: b.version, optOut: b.optOut, n: len(b.rcpts), domains: make([]rosterDomain, 0, len(byDom))}
	for dom, rcpts := range byDom {
		r.domains = append(r.domains, rosterDomain{name: dom, rcpts: rcpts[:len(rcpts):len(rcpts)]})
	}
	slices.SortFunc(r.domains, func(a, b rosterDomain) int { return strings.Compare(a.name, b.name) })
	return r
}

// leftOut returns the recipients of r this post leaves out: the poster if
// they opted out of their own posts, the post's To and Cc addresses that
// opted out of list copies.
func (r *roster) leftOut(poster string, explicit map[string]bool) map[string]bool {
	out := map[string]bool{}
	if o, ok := r.optOut[poster]; ok && o.ownPosts {
		out[poster] = true
	}
	for a := range explicit {
		if o, ok := r.optOut[a]; ok && o.listCopy {
			out[a] = true
		}
	}
	return out
}

// without returns rcpts less those in out (rcpts itself when none is).
func without(rcpts []*rcpt, out map[string]bool) []*rcpt {
	var kept []*rcpt
	for i, r := range rcpts {
		if !out[r.addr] {
			if kept != nil {
				kept = append(kept, r)
			}
			continue
		}
		if kept == nil {
			kept = append(make([]*rcpt, 0, len(rcpts)), rcpts[:i]...)
		}
	}
	if kept == nil {
		return rcpts
	}
	return kept
}
