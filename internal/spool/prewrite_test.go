package spool

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// segmentOf builds a segment's bytes from records, with the header (v2)
// or in the format before it (v1: no header, no checksums).
func segmentOf(v2 bool, recs ...jrec) []byte {
	var b []byte
	if v2 {
		b = []byte(segMagic)
	}
	for _, r := range recs {
		if v2 {
			b = appendRecord(b, r.kind, r.b)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.b)+1))
		b = append(append(b, r.kind), r.b...)
	}
	return b
}

// A segment reads up to its first record that is zeros, cut short or
// garbled: a crash in the middle of overwriting the prewritten zeros can
// leave any part of a round unwritten. Segments from before the header
// read as they were written.
func TestSegmentRecordsChecked(t *testing.T) {
	entry, err := encodeBytes(sampleEntry(t))
	if err != nil {
		t.Fatal(err)
	}
	live, finished := key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, key{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}
	first := jrec{kind: kindEntry, b: entry}
	tomb := tombstoneRecord(live)
	full := segmentOf(true, first, tomb)
	tombAt := len(segmentOf(true, first))
	zeroTail := func(b []byte, n int) []byte {
		c := bytes.Clone(b)
		clear(c[len(c)-n:])
		return c
	}
	garble := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0x40
		return c
	}
	for _, tc := range []struct {
		name        string
		seg         []byte
		entries     int
		tombstoneOf *key
	}{
		{"whole", full, 1, &live},
		{"whole, zeros after", append(bytes.Clone(full), make([]byte, 4096)...), 1, &live},
		// The tombstone's key half written: it must not finish another
		// entry whose key starts the same and ends in zeros.
		{"tombstone key half zeros", zeroTail(full, 4), 1, nil},
		{"tombstone all zeros", append(full[:tombAt:tombAt], make([]byte, len(full)-tombAt)...), 1, nil},
		{"tombstone kind garbled", garble(full, tombAt+8), 1, nil},
		{"entry payload garbled", garble(full, 100), 0, nil},
		{"entry length garbled", garble(full, len(segMagic)+2), 0, nil},
		{"header only", []byte(segMagic), 0, nil},
		{"v1", segmentOf(false, first, tomb), 1, &live},
		{"v1 torn", segmentOf(false, first, tomb)[:len(segmentOf(false, first, tomb))-3], 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := parseSegment(tc.seg)
			if len(recs.entries) != tc.entries {
				t.Fatalf("%d entries, want %d", len(recs.entries), tc.entries)
			}
			if recs.finished[finished] {
				t.Fatal("a half-written tombstone finished an entry it never named")
			}
			if tc.tombstoneOf == nil && len(recs.finished) != 0 || tc.tombstoneOf != nil && !recs.finished[*tc.tombstoneOf] {
				t.Fatalf("tombstones %v, want %v", recs.finished, tc.tombstoneOf)
			}
		})
	}
}

// The current segment is written with zeros ahead of its records, and
// extended past them as it grows; a segment left behind is cut back to
// its records. Everything written reads back.
func TestSegmentPrewritten(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	body := strings.Repeat("x", 64<<10)
	const n = 40 // 2.5 MiB: two extensions
	for range n {
		mustEnqueue(t, s, newItem(In, body))
	}
	seg, size := segmentSize(s)
	path := s.j.segPath(seg)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if size <= 2*prewriteChunk || fi.Size() <= size || (fi.Size()-int64(len(segMagic)))%prewriteChunk != 0 {
		t.Fatalf("records up to %d, file %d: want records past two chunks and zeros after them", size, fi.Size())
	}
	recs, err := readSegment(path)
	if err != nil || len(recs.entries) != n {
		t.Fatalf("read back %d entries (%v), want %d", len(recs.entries), err, n)
	}
	s.j.wmu.Lock()
	err = s.j.newSegment(seg + 1)
	s.j.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		t.Fatalf("left-behind segment is %v bytes (%v), want its records' %d", fi.Size(), err, size)
	}
}
