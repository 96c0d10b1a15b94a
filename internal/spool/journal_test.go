package spool

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// journalOptions opens with the journal and no timed checkpoints, so a
// test decides when entries leave the journal.
func journalOptions(t *testing.T, dir string) Options {
	t.Helper()
	if !syncfsAvailable {
		t.Skip("the journal needs syncfs")
	}
	o := testOptions(dir)
	o.testingNoCheckpoint = true
	return o
}

func segments(t *testing.T, s *Spool) []segment {
	t.Helper()
	segs, err := listSegments(s.sub(journalDir), s.owner)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// An acknowledged entry whose file never reached the disk (here: removed,
// as a crash before writeback would leave it) comes back from the journal.
func TestJournalRestoresLostEntry(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	if s.j == nil {
		t.Fatal("no journal in the default mode")
	}
	lost := mustEnqueue(t, s, newItem(In, "lost file"))
	stale := mustEnqueue(t, s, newItem(In, "stale file"))
	kept := mustEnqueue(t, s, newItem(In, "kept"))
	if err := os.Remove(hashPath(filepath.Join(dir, In), 1, lost)); err != nil {
		t.Fatal(err)
	}
	// A reused spare renamed before its new data was written: another
	// entry's bytes under this name.
	b, err := os.ReadFile(hashPath(filepath.Join(dir, In), 1, kept))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hashPath(filepath.Join(dir, In), 1, stale), b, 0o640); err != nil {
		t.Fatal(err)
	}
	s.abandon()

	s2 := openTest(t, journalOptions(t, dir))
	if m := s2.Metrics(); m.Restored != 2 || m.Torn != 1 {
		t.Fatalf("restored %d, torn %d; want 2, 1", m.Restored, m.Torn)
	}
	got := map[string]string{}
	for range 3 {
		c := mustClaim(t, s2, In, time.Second)
		got[c.ID] = string(c.Message)
	}
	if got[lost] != "lost file" || got[stale] != "stale file" || got[kept] != "kept" {
		t.Fatalf("claimed %v", got)
	}
	assertEmpty(t, s2, In)
	if n := countFiles(t, filepath.Join(dir, journalDir)); n != 1 {
		t.Fatalf("journal holds %d files, want only the new owner's segment", n)
	}
}

// Done of a journaled entry writes its tombstone first: if the crash
// loses the claim file's removal, the entry is still finished.
func TestJournalTombstoneFinishes(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	ctx := context.Background()
	id := mustEnqueue(t, s, newItem(In, "done once"))
	c := mustClaim(t, s, In, time.Second)
	saved, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Done(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.path, saved, 0o640); err != nil { // the lost unlink
		t.Fatal(err)
	}
	s.abandon()

	s2 := openTest(t, journalOptions(t, dir))
	if m := s2.Metrics(); m.Restored != 0 || m.Recoveries != 0 {
		t.Fatalf("finished entry %s came back: %+v", id, m)
	}
	assertEmpty(t, s2, In)
}

// Forward of a journaled entry: tombstone after the children are durable,
// so a crash keeps the children and drops the parent.
func TestJournalForwardThenCrash(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	ctx := context.Background()
	mustEnqueue(t, s, newItem(In, "parent"))
	c := mustClaim(t, s, In, time.Second)
	ids, err := c.Forward(ctx, newItem(Out, "child"))
	if err != nil {
		t.Fatal(err)
	}
	s.abandon()
	s2 := openTest(t, journalOptions(t, dir))
	assertEmpty(t, s2, In)
	if ch := mustClaim(t, s2, Out, time.Second); ch.ID != ids[0] {
		t.Fatalf("claimed %s, want the child %s", ch.ID, ids[0])
	}
	if m := s2.Metrics(); m.Restored != 0 {
		t.Fatalf("restored %d", m.Restored)
	}
}

// Another process does not take a journaled entry until its writer has
// checkpointed it (after which the writer's crash cannot bring it back).
func TestJournalEntriesAnnouncedAtCheckpoint(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, journalOptions(t, dir))
	id := mustEnqueue(t, a, newItem(In, "mine until checkpointed"))
	b := openTest(t, journalOptions(t, dir))
	if n := b.Counts()[In]; n != 0 {
		t.Fatalf("second instance indexed %d journaled entries", n)
	}
	if err := a.j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if n := len(segments(t, a)); n != 1 {
		t.Fatalf("%d segments after checkpoint, want the new one", n)
	}
	if c := mustClaim(t, b, In, 5*time.Second); c.ID != id {
		t.Fatalf("claimed %s", c.ID)
	}
}

// Close checkpoints: nothing is restored at the next Open, and the
// journal directory is empty.
func TestJournalCloseCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	mustEnqueue(t, s, newItem(In, "x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, journalDir)); n != 0 {
		t.Fatalf("journal holds %d files after Close", n)
	}
	s2 := openTest(t, journalOptions(t, dir))
	if s2.Metrics().Restored != 0 || s2.Counts()[In] != 1 {
		t.Fatalf("after reopen: %+v %v", s2.Metrics(), s2.Counts())
	}
}

// A record cut short by a crash ends the segment: the records before it
// are read, nothing after.
func TestReadSegmentStopsAtTornRecord(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, journalOptions(t, dir))
	mustEnqueue(t, s, newItem(In, "first"))
	mustEnqueue(t, s, newItem(In, "second"))
	path := segments(t, s)[0].path
	_, size := segmentSize(s)
	for _, cut := range []int64{1, 3, 10} {
		b, _ := os.ReadFile(path)
		torn := filepath.Join(dir, "torn")
		if err := os.WriteFile(torn, b[:size-cut], 0o640); err != nil {
			t.Fatal(err)
		}
		recs, err := readSegment(torn)
		if err != nil || len(recs.entries) != 1 || string(recs.entries[0].Message) != "first" {
			t.Fatalf("cut %d: %v, %v", cut, recs, err)
		}
	}
}

// FuzzParseSegment: any bytes (a torn or garbled segment) decode to a
// prefix of records without panicking, and every entry read checks out.
func FuzzParseSegment(f *testing.F) {
	b, err := encodeBytes(sampleEntry(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, v2 := range []bool{true, false} {
		seg := segmentOf(v2, jrec{kind: kindEntry, b: b}, tombstoneRecord(key{1}, key{2}))
		f.Add(seg)
		f.Add(seg[:len(seg)-5])
	}
	f.Add([]byte{0, 0, 0, 1, 'T'})
	f.Add(append([]byte(segMagic), 0, 0, 0, 1, 0, 0, 0, 0, 'T'))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs := parseSegment(b)
		for _, e := range recs.entries {
			if _, err := encodeBytes(e); err != nil {
				t.Fatalf("entry read from a segment does not encode: %v", err)
			}
		}
	})
}

// A rescan (after missed kicks) neither takes another owner's journaled
// entries nor this instance's Forward children before the Forward is
// durable.
func TestRescanLeavesJournaledEntries(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, journalOptions(t, dir))
	b := openTest(t, journalOptions(t, dir))
	id := mustEnqueue(t, a, newItem(In, "a's"))
	b.rescan()
	if n := b.Counts()[In]; n != 0 {
		t.Fatalf("rescan took %d journaled entries of another owner", n)
	}
	c := mustClaim(t, a, In, time.Second)
	if c.ID != id {
		t.Fatalf("claimed %s", c.ID)
	}
	a.testingBeforeRound = func() error {
		a.rescan()
		if n := a.Counts()[Out]; n != 0 {
			t.Errorf("rescan indexed %d children of an unfinished Forward", n)
		}
		return nil
	}
	if _, err := c.Forward(context.Background(), newItem(Out, "child")); err != nil {
		t.Fatal(err)
	}
	if n := a.Counts()[Out]; n != 1 {
		t.Fatalf("out holds %d after the Forward", n)
	}
	if err := a.j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	b.rescan()
	if n := b.Counts()[Out]; n != 1 {
		t.Fatalf("after the checkpoint, rescan found %d", n)
	}
}
