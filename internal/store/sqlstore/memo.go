package sqlstore

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"herald/internal/store"
)

// The read memo: what every post reads, remembered for a few milliseconds.
//
// Under load each post reads its list three times (LMTP's RCPT, the post
// runner, delivery), the sender's roles, the bans and, in delivery, the
// list's recipients, and numbers itself with a write. On SQLite that
// write costs the readers more than itself: a connection's page cache is
// dropped whenever another connection has committed since its last read,
// so each of those small reads pays for re-reading its pages, and a
// commit lands between almost any two reads. Measured here: GetList 21 µs on a quiet database, 68 µs
// after a commit. So `herald serve` (Memoize) keeps each answer for a
// short time, by default 5 ms: a post processed that soon after another
// of the same list may use what that one read.
//
// What that means for a change:
//   - made through this DB (web UI, REST API, email commands, bounce
//     processing in the same process): the memo is forgotten when the
//     write commits (wrote), so it applies to every read after it;
//   - made by another herald process that announces its writes (the CLI
//     on the same SQLite file: see ChangeSignal): the same, once the
//     announcement is written, right after the commit;
//   - made by any other writer (another herald node on PostgreSQL, a
//     sqlite3 shell): it applies to reads that start at most the memo's
//     lifetime after its commit, as if it had committed that much later;
//   - a memoized list's PostID and LastPostAt may lag by as much; nothing
//     on the post path uses them (NumberPost returns the number).
//
// Errors (ErrNotFound included) are never memoized: a list created by
// another process is found at once.
type readMemo struct {
	ttl atomic.Int64  // nanoseconds; 0: off
	gen atomic.Uint64 // bumped by every write the memo must not outlive

	signal ChangeSignal  // nil: none
	seen   atomic.Uint64 // the signal's last token

	mu     sync.Mutex
	lists  map[string]memoed[*store.List] // by LIST@DOMAIN
	byID   map[int64]memoed[*store.List]
	roles  map[roleKey]memoed[[]store.Member]
	banned map[roleKey]memoed[bool]
	// digests: whether a list has digest members (HasDigestMembers, asked
	// for every post).
	digests map[int64]memoed[bool]
	recips  map[recipKey]memoed[[]store.Recipient]
	// recipsHeld counts the recipients in recips, expired walks included
	// (nothing removes them before the map starts over).
	recipsHeld int
}

// recipKey is a list's recipient walk, plain or personal.
type recipKey struct {
	list     int64
	personal bool
}

// memoRecipientsMax is the most recipients a walk may find and still be
// memoized: delivery keeps bigger lists' walks itself (rosters, under
// MembersVersion). memoRecipientsHeld bounds them all: past it, the
// walks' map starts over (a site with thousands of lists near the limit
// would otherwise keep millions of recipients of expired walks).
const (
	memoRecipientsMax  = 1000
	memoRecipientsHeld = 100_000
)

// roleKey is a list and an address on it.
type roleKey struct {
	list  int64
	email string
}

// memoed is a remembered answer: valid while gen is unchanged and until
// expires.
type memoed[T any] struct {
	v       T
	gen     uint64
	expires time.Time
}

// readMemoLimit bounds each memo map; past it, the map starts over.
const readMemoLimit = 4096

// ChangeSignal tells processes sharing a database about each other's
// writes that the read memo must not outlive, more cheaply than a query
// (sqlite: a token in a file beside the database).
type ChangeSignal interface {
	// Announce records that this process just committed such a write.
	Announce()
	// Token changes whenever any process announced a write.
	Token() uint64
}

// SetChangeSignal makes every write announce itself on s and the memo
// heed the others'; set it before the DB is used.
func (db *DB) SetChangeSignal(s ChangeSignal) {
	db.memo.signal = s
	if s != nil {
		db.memo.seen.Store(s.Token())
	}
}

// Memoize turns the read memo on for ttl (0: off). `herald serve` calls
// it; every other user reads the database each time.
func (db *DB) Memoize(ttl time.Duration) {
	db.memo.ttl.Store(int64(ttl))
	db.memo.gen.Add(1)
}

// wrote forgets every memoized answer and announces the write: call it
// after any write that may change a list, a membership or a ban (inTx
// does).
func (db *DB) wrote() {
	db.memo.gen.Add(1)
	if db.memo.signal != nil {
		db.memo.signal.Announce()
	}
}

// generation is the memo's generation, once another process's
// announced write has ended it.
func (db *DB) generation() uint64 {
	if s := db.memo.signal; s != nil {
		if tok := s.Token(); tok != db.memo.seen.Load() {
			db.memo.seen.Store(tok)
			db.memo.gen.Add(1)
		}
	}
	return db.memo.gen.Load()
}

// memoTicket is when a read began, as the memo counts: a new answer is
// memoized with the generation and lives from the time taken before the
// read, so a write that commits during it makes the answer stale at once,
// and another process's change waits no longer than the lifetime.
type memoTicket struct {
	gen uint64
	at  time.Time
}

// memoFresh returns the memoized answer for k in m if there is a valid
// one, else the ticket to memoize a new one with.
func memoFresh[K comparable, T any](db *DB, m *map[K]memoed[T], k K) (v T, t memoTicket, ok bool) {
	t = memoTicket{gen: db.generation(), at: time.Now()}
	db.memo.mu.Lock()
	e, found := (*m)[k]
	db.memo.mu.Unlock()
	if found && e.gen == t.gen && t.at.Before(e.expires) {
		return e.v, t, true
	}
	return v, t, false
}

// memoize remembers v for k in m, read with ticket t.
func memoize[K comparable, T any](db *DB, m *map[K]memoed[T], k K, v T, t memoTicket) {
	expires := t.at.Add(time.Duration(db.memo.ttl.Load()))
	db.memo.mu.Lock()
	if *m == nil || len(*m) >= readMemoLimit {
		*m = map[K]memoed[T]{}
	}
	(*m)[k] = memoed[T]{v: v, gen: t.gen, expires: expires}
	db.memo.mu.Unlock()
}

// memoRead returns the memoized answer for k in m, or calls read and
// memoizes what it returns.
func memoRead[K comparable, T any](db *DB, m *map[K]memoed[T], k K, read func() (T, error)) (T, error) {
	if db.memo.ttl.Load() <= 0 {
		return read()
	}
	v, t, ok := memoFresh(db, m, k)
	if ok {
		return v, nil
	}
	v, err := read()
	if err == nil {
		memoize(db, m, k, v, t)
	}
	return v, err
}

// copyList returns a copy of l that its caller may change freely.
func copyList(l *store.List) *store.List {
	c := *l
	c.Settings = cloneSettings(l.Settings)
	return &c
}

// memoList is GetList's memo: read is the query.
func (db *DB) memoList(addr string, read func() (*store.List, error)) (*store.List, error) {
	l, err := memoRead(db, &db.memo.lists, addr, read)
	if err != nil {
		return nil, err
	}
	return copyList(l), nil
}

// memoListByID is GetListByID's memo.
func (db *DB) memoListByID(id int64, read func() (*store.List, error)) (*store.List, error) {
	l, err := memoRead(db, &db.memo.byID, id, read)
	if err != nil {
		return nil, err
	}
	return copyList(l), nil
}

// memoRoles is MemberRoles' memo.
func (db *DB) memoRoles(k roleKey, read func() ([]store.Member, error)) ([]store.Member, error) {
	ms, err := memoRead(db, &db.memo.roles, k, read)
	return slices.Clone(ms), err
}

// memoBanned is IsBanned's memo.
func (db *DB) memoBanned(k roleKey, read func() (bool, error)) (bool, error) {
	return memoRead(db, &db.memo.banned, k, read)
}

// memoDigests is HasDigestMembers' memo.
func (db *DB) memoDigests(list int64, read func() (bool, error)) (bool, error) {
	return memoRead(db, &db.memo.digests, list, read)
}

// memoWalk is EachRecipient's memo: a list's walk that found at most
// memoRecipientsMax recipients is replayed instead of run while it is
// valid. walk streams to its fn as before, so a miss costs no latency.
func (db *DB) memoWalk(k recipKey, fn func(*store.Recipient) error, walk func(fn func(*store.Recipient) error) error) error {
	if db.memo.ttl.Load() <= 0 {
		return walk(fn)
	}
	rs, t, ok := memoFresh(db, &db.memo.recips, k)
	if ok {
		for _, r := range rs {
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	}
	var got []store.Recipient
	small := true
	err := walk(func(r *store.Recipient) error {
		if small && len(got) == memoRecipientsMax {
			small, got = false, nil
		}
		if small {
			got = append(got, *r) // its strings are not reused
		}
		return fn(r)
	})
	if err == nil && small {
		db.memoizeWalk(k, got, t)
	}
	return err
}

// memoizeWalk is memoize for a recipient walk, within memoRecipientsHeld.
func (db *DB) memoizeWalk(k recipKey, rs []store.Recipient, t memoTicket) {
	m := &db.memo
	expires := t.at.Add(time.Duration(m.ttl.Load()))
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.recips[k]; ok {
		m.recipsHeld -= len(old.v)
	}
	if m.recips == nil || len(m.recips) >= readMemoLimit || m.recipsHeld+len(rs) > memoRecipientsHeld {
		m.recips, m.recipsHeld = map[recipKey]memoed[[]store.Recipient]{}, 0
	}
	m.recips[k] = memoed[[]store.Recipient]{v: rs, gen: t.gen, expires: expires}
	m.recipsHeld += len(rs)
}
