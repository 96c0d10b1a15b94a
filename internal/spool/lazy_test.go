package spool

import (
	"context"
	"os"
	"testing"
	"time"
)

// segmentSize returns the current segment and its length.
func segmentSize(s *Spool) (uint64, int64) {
	s.j.wmu.Lock()
	defer s.j.wmu.Unlock()
	return s.j.seg, s.j.size
}

// unsyncedSince returns when the oldest unsynced lazy round was written.
func unsyncedSince(s *Spool) time.Time {
	s.j.wmu.Lock()
	defer s.j.wmu.Unlock()
	return s.j.unsynced
}

// A resident claim's Forward is written without a sync of its own
// (appendLazy). A power failure may lose that round whole, or only the
// blocks of its first records (the kernel writes dirty pages back in any
// order): either way the parent comes back to be processed again, and no
// child does. Nothing acknowledged is lost.
func TestLazyFinishLosesOnlyRepeats(t *testing.T) {
	for _, loss := range []string{"none", "truncated", "zeroed", "child zeroed"} {
		t.Run(loss, func(t *testing.T) {
			dir := t.TempDir()
			opts := residentOptions(t, dir)
			s := openTest(t, opts)
			parent := mustEnqueue(t, s, newItem(In, "post"))
			c := mustClaim(t, s, In, time.Second)
			seg, before := segmentSize(s)
			syncs := s.Metrics().JournalSyncs
			ids, err := c.Forward(context.Background(), newItem(Out, "copy"))
			if err != nil {
				t.Fatal(err)
			}
			if m := s.Metrics(); m.JournalSyncs != syncs || m.LazyRounds != 1 {
				t.Fatalf("forward: %d syncs, %d lazy rounds; want no sync, 1 lazy round", m.JournalSyncs-syncs, m.LazyRounds)
			}
			_, after := segmentSize(s)
			s.abandon()
			path := s.j.segPath(seg)
			switch loss {
			case "truncated":
				if err := os.Truncate(path, before); err != nil {
					t.Fatal(err)
				}
			case "zeroed":
				zeroRange(t, path, before, after)
			case "child zeroed": // the tombstone's block reached the disk
				zeroRange(t, path, before, after-recordHeader-int64(len(key{})))
			}
			s2 := openTest(t, opts)
			if loss == "none" {
				assertEmpty(t, s2, In)
				if got := mustClaim(t, s2, Out, time.Second); got.ID != ids[0] {
					t.Fatalf("claimed %s, want the child %s", got.ID, ids[0])
				}
				return
			}
			assertEmpty(t, s2, Out)
			if got := mustClaim(t, s2, In, time.Second); got.ID != parent {
				t.Fatalf("claimed %s, want the parent %s", got.ID, parent)
			}
		})
	}
}

func zeroRange(t *testing.T, path string, from, to int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, to-from), from); err != nil {
		t.Fatal(err)
	}
}

// A lazy round is synced by the next synced round, by the checkpointer
// within lazySyncAfter when none comes, and before its segment is left.
func TestLazyRoundsSynced(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, residentOptions(t, dir))
	ctx := context.Background()
	finish := func() {
		t.Helper()
		mustEnqueue(t, s, newItem(In, "post"))
		if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
			t.Fatal(err)
		}
		if unsyncedSince(s).IsZero() {
			t.Fatal("a lazy Done left nothing unsynced")
		}
	}

	finish()
	mustEnqueue(t, s, newItem(In, "next"))
	if !unsyncedSince(s).IsZero() {
		t.Fatal("a synced round left the lazy one before it unsynced")
	}
	if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}

	syncs := s.Metrics().JournalSyncs
	deadline := time.Now().Add(5 * time.Second)
	for !unsyncedSince(s).IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the checkpointer never synced the lazy round")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.Metrics().JournalSyncs != syncs+1 {
		t.Fatalf("%d syncs, want 1", s.Metrics().JournalSyncs-syncs)
	}

	finish()
	if err := s.j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if !unsyncedSince(s).IsZero() {
		t.Fatal("a new segment left the old one's lazy round unsynced")
	}
}

// A claim with a file is finished by a synced round: its file is removed
// after the round, and only the round then holds the entry's successor.
func TestFinishWithClaimFileSyncs(t *testing.T) {
	dir := t.TempDir()
	opts := journalOptions(t, dir) // no resident entries: every one has a file
	s := openTest(t, opts)
	mustEnqueue(t, s, newItem(In, "post"))
	c := mustClaim(t, s, In, time.Second)
	syncs := s.Metrics().JournalSyncs
	if _, err := c.Forward(context.Background(), newItem(Out, "copy")); err != nil {
		t.Fatal(err)
	}
	if m := s.Metrics(); m.JournalSyncs != syncs+1 || m.LazyRounds != 0 {
		t.Fatalf("%d syncs, %d lazy rounds; want 1 sync", m.JournalSyncs-syncs, m.LazyRounds)
	}
}
