package spool

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// sampleEntry returns a fully populated entry.
func sampleEntry(t testing.TB) *Entry {
	t.Helper()
	return &Entry{
		ID:     newID(time.Unix(1700000000, 0)),
		Parent: newID(time.Unix(1690000000, 0)),
		family: 3, recoveries: 1,
		Envelope: Envelope{
			Queue: Out, Domain: "example.org", List: "dev", Alias: "post", Extension: "bob=x.org",
			Sender: "alice@example.net", Recipients: []string{"a@x.org", "b@y.org"},
			Arrived: time.Unix(1700000000, 123456789), Attempts: 2, LastError: "451 try later",
			Origin: In, NotBefore: time.Unix(1700000500, 0), Meta: map[string]string{"approved": "1", "z": ""},
		},
		Message: []byte("From: alice@example.net\r\nSubject: hi\r\n\r\nbody\r\n"),
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	full := sampleEntry(t)
	cases := []struct {
		name string
		e    *Entry
	}{
		{"full", full},
		{"minimal", &Entry{ID: newID(time.Now()), Envelope: Envelope{Queue: In}}},
		{"binary message", &Entry{ID: newID(time.Now()), Envelope: Envelope{Queue: Shunt}, Message: []byte{0, 0xff, '\n', 0}}},
		{"large message", &Entry{ID: newID(time.Now()), Envelope: Envelope{Queue: Virgin}, Message: bytes.Repeat([]byte("x"), 1<<20)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, c.e); err != nil {
				t.Fatal(err)
			}
			got, err := Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			assertSameEntry(t, got, c.e)
		})
	}
}

func assertSameEntry(t *testing.T, got, want *Entry) {
	t.Helper()
	if got.ID != want.ID || got.Parent != want.Parent || got.family != want.family || got.recoveries != want.recoveries {
		t.Errorf("ids: got %s/%s/%d/%d, want %s/%s/%d/%d", got.ID, got.Parent, got.family, got.recoveries,
			want.ID, want.Parent, want.family, want.recoveries)
	}
	if !bytes.Equal(got.Message, want.Message) {
		t.Errorf("message differs: %d vs %d bytes", len(got.Message), len(want.Message))
	}
	g, w := got.Envelope, want.Envelope
	if !g.Arrived.Equal(w.Arrived) || !g.NotBefore.Equal(w.NotBefore) {
		t.Errorf("times: got %v %v, want %v %v", g.Arrived, g.NotBefore, w.Arrived, w.NotBefore)
	}
	g.Arrived, w.Arrived, g.NotBefore, w.NotBefore = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(g.Meta) == 0 && len(w.Meta) == 0 {
		g.Meta, w.Meta = nil, nil
	}
	if len(g.Recipients) == 0 && len(w.Recipients) == 0 {
		g.Recipients, w.Recipients = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("envelope:\n got %+v\nwant %+v", g, w)
	}
}

func TestDecodeRejectsEveryTruncation(t *testing.T) {
	b, err := encodeBytes(sampleEntry(t))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if _, err := Decode(bytes.NewReader(b[:n])); !errors.Is(err, errCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err %v, want corrupt", n, len(b), err)
		}
	}
	if _, err := Decode(bytes.NewReader(append(slices.Clone(b), 0))); !errors.Is(err, errCorrupt) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
}

func TestDecodeRejectsEveryBitFlip(t *testing.T) {
	b, err := encodeBytes(sampleEntry(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		for _, bit := range []byte{1, 0x80} {
			c := slices.Clone(b)
			c[i] ^= bit
			if _, err := Decode(bytes.NewReader(c)); err == nil {
				t.Fatalf("flip of bit %#x at %d accepted", bit, i)
			}
		}
	}
}

func TestIDs(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var ids []string
	for i := range 200 {
		id := newID(t0.Add(time.Duration(i) * time.Millisecond))
		if len(id) != idLen {
			t.Fatalf("id %q: length %d", id, len(id))
		}
		k, ok := parseKey(id)
		if !ok || k.String() != id {
			t.Fatalf("id %q: key round trip gave %q, %v", id, k.String(), ok)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Error("ids made later do not sort later")
	}
	// Made in one millisecond (or with a clock that went back), they still
	// sort in the order they were made.
	same := make([]string, 1000)
	for i := range same {
		same[i] = newID(t0)
	}
	if !slices.IsSorted(same) || len(slices.Compact(slices.Clone(same))) != len(same) {
		t.Error("ids of one millisecond are not increasing")
	}
	a, _ := parseKey(ids[0])
	b, _ := parseKey(ids[1])
	if bytes.Compare(a[:], b[:]) >= 0 {
		t.Error("key order differs from id order")
	}
	for _, bad := range []string{"", "short", "0123456789abcdefgi", "0123456789ABCDEFGH", "0123456789abcdefghj"} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
	if got := hashPath("/q", 2, "0123456789abcdefgh"); got != filepath.FromSlash("/q/9/a/0123456789abcdefgh") {
		t.Errorf("hashPath = %s", got)
	}
}

func FuzzSpoolDecode(f *testing.F) {
	b, err := encodeBytes(sampleEntry(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip.
		again, err := encodeBytes(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeBytes(again); err != nil {
			t.Fatalf("re-encoded entry rejected: %v", err)
		}
	})
}
