package spool

import (
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"
)

// An ID is idLen base32 characters: idTimeChars of milliseconds since the
// Unix epoch (sortable; good until the year 3084), then idRandChars of random
// bits. Hash directories are taken from the random part, so they fill evenly
// whatever the arrival pattern (the Postfix long-ID lesson).
const (
	idTimeChars = 9
	idRandChars = 9
	idLen       = idTimeChars + idRandChars
	// alphabet is Crockford's base32 in lowercase. It is in ascending ASCII
	// order, so IDs sort like the numbers they encode.
	alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	// maxHashDepth bounds HashDepth: 32^4 leaf directories is already more
	// than any spool needs.
	maxHashDepth = 4
)

// digit maps an ID character to its value, or 0xff.
var digit = func() (d [256]byte) {
	for i := range d {
		d[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		d[alphabet[i]] = byte(i)
	}
	return d
}()

// key is an ID packed into 90 bits, big-endian, so that byte order is ID
// order. The index keeps keys instead of strings to stay small at 1M entries.
type key [12]byte

// newID returns a fresh ID for time t. The 45 random bits come from the
// runtime's ChaCha8 generator, seeded from the OS. IDs this process makes
// increase: one that would not sort after the last (same millisecond, or
// a clock that went back) takes the last one's bits plus one instead, so
// queues are FIFO by arrival within a process, also within a millisecond.
// Hash directories still spread, as each millisecond starts at random.
func newID(t time.Time) string {
	ms, r := nextID(uint64(t.UnixMilli()), rand.Uint64()&(1<<(5*idRandChars)-1))
	var b [idLen]byte
	for i := idTimeChars - 1; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	for i := idLen - 1; i >= idTimeChars; i-- {
		b[i] = alphabet[r&31]
		r >>= 5
	}
	return string(b[:])
}

var (
	idMu             sync.Mutex
	lastMS, lastRand uint64
)

// nextID returns (ms, r), or the smallest pair after the last one made.
func nextID(ms, r uint64) (uint64, uint64) {
	idMu.Lock()
	defer idMu.Unlock()
	if ms < lastMS || ms == lastMS && r <= lastRand {
		ms, r = lastMS, lastRand+1
		if r == 1<<(5*idRandChars) {
			ms, r = ms+1, 0
		}
	}
	lastMS, lastRand = ms, r
	return ms, r
}

// parseKey packs a textual ID; ok is false when s is not a well-formed ID.
func parseKey(s string) (k key, ok bool) {
	if len(s) != idLen {
		return k, false
	}
	var hi uint32
	var lo uint64
	for i := 0; i < idLen; i++ {
		d := digit[s[i]]
		if d == 0xff {
			return k, false
		}
		hi = hi<<5 | uint32(lo>>59)
		lo = lo<<5 | uint64(d)
	}
	binary.BigEndian.PutUint32(k[0:4], hi)
	binary.BigEndian.PutUint64(k[4:12], lo)
	return k, true
}

// String unpacks k into its textual ID.
func (k key) String() string {
	hi := binary.BigEndian.Uint32(k[0:4])
	lo := binary.BigEndian.Uint64(k[4:12])
	var b [idLen]byte
	for i := idLen - 1; i >= 0; i-- {
		b[i] = alphabet[lo&31]
		lo = lo>>5 | uint64(hi&31)<<59
		hi >>= 5
	}
	return string(b[:])
}

// validID reports whether s is a well-formed ID.
func validID(s string) bool {
	_, ok := parseKey(s)
	return ok
}

// hashPath returns the path of id below dir: one directory level per hash
// level, each named by one character of the random part of the ID.
func hashPath(dir string, depth int, id string) string {
	parts := make([]string, 0, depth+2)
	parts = append(parts, dir)
	for i := 0; i < depth; i++ {
		parts = append(parts, id[idTimeChars+i:idTimeChars+i+1])
	}
	parts = append(parts, id)
	return filepath.Join(parts...)
}
