package spool

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// residentOptions: the default, entries kept in memory and the journal,
// with no timed checkpoints.
func residentOptions(t *testing.T, dir string) Options {
	t.Helper()
	o := journalOptions(t, dir)
	o.testingNoResident = false
	return o
}

// An entry processed before a checkpoint never has a file: enqueue, claim
// and Done create no inode, yet List, Get and Counts see it.
func TestResidentEntryNeedsNoFile(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, residentOptions(t, dir))
	ctx := context.Background()
	id := mustEnqueue(t, s, newItem(In, "in memory"))
	if n := countFiles(t, filepath.Join(dir, In)); n != 0 {
		t.Fatalf("in holds %d files", n)
	}
	if l, err := s.List(In); err != nil || len(l) != 1 || l[0].ID != id {
		t.Fatalf("List: %v %v", l, err)
	}
	if e, err := s.Get(id); err != nil || string(e.Message) != "in memory" {
		t.Fatalf("Get: %v %v", e, err)
	}
	c := mustClaim(t, s, In, time.Second)
	if string(c.Message) != "in memory" {
		t.Fatalf("claimed %q", c.Message)
	}
	ids, err := c.Forward(ctx, newItem(Out, "child"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mustClaim(t, s, Out, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}
	if m := s.Metrics(); m.FilesCreated != 0 || m.Torn != 0 {
		t.Fatalf("files created %d, torn %d", m.FilesCreated, m.Torn)
	}
	if _, err := s.Get(ids[0]); err == nil {
		t.Fatal("finished child still there")
	}
}

// A checkpoint writes the files of resident entries, ready and claimed,
// before it deletes their segment; a claim then released goes back to
// its queue by rename.
func TestCheckpointWritesResidentEntries(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, residentOptions(t, dir))
	ctx := context.Background()
	ready := mustEnqueue(t, s, newItem(In, "ready"))
	time.Sleep(2 * time.Millisecond)
	claimed := mustEnqueue(t, s, newItem(In, "claimed"))
	c := mustClaim(t, s, In, time.Second)
	if c.ID != ready {
		t.Fatalf("claimed %s first", c.ID)
	}
	if err := c.Release(ctx); err != nil { // back in memory
		t.Fatal(err)
	}
	c = mustClaim(t, s, In, time.Second)
	if c.ID != ready {
		t.Fatalf("claimed %s again, want %s", c.ID, ready)
	}
	if err := s.j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, In)); n != 1 {
		t.Fatalf("in holds %d files after the checkpoint, want the ready entry", n)
	}
	if e, err := readEntry(hashPath(filepath.Join(dir, In), 1, claimed)); err != nil || string(e.Message) != "claimed" {
		t.Fatalf("ready entry's file: %v %v", e, err)
	}
	if n := countFiles(t, filepath.Join(dir, "active")); n != 1 {
		t.Fatalf("active holds %d files, want the claim", n)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	s.abandon()
	s2 := openTest(t, residentOptions(t, dir))
	if m := s2.Metrics(); m.Restored != 0 || s2.Counts()[In] != 2 {
		t.Fatalf("after reopen: restored %d, in %d", m.Restored, s2.Counts()[In])
	}
}

// A resident entry claimed when the process dies comes back from the
// journal with the recovery counted, and one that keeps crashing the
// process goes to shunt.
func TestResidentClaimCrashCounted(t *testing.T) {
	dir := t.TempDir()
	opts := residentOptions(t, dir)
	opts.MaxAttempts = 2
	s := openTest(t, opts)
	id := mustEnqueue(t, s, newItem(In, "crashes the runner"))
	for round := 1; ; round++ {
		mustClaim(t, s, In, time.Second)
		s.abandon()
		s = openTest(t, opts)
		if round <= 2 {
			// Restored as a file; later rounds count by its claim file.
			c := mustClaim(t, s, In, time.Second)
			if c.ID != id || c.Envelope.Attempts != round {
				t.Fatalf("round %d: claimed %s attempts %d", round, c.ID, c.Envelope.Attempts)
			}
			if err := c.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		c := mustClaim(t, s, Shunt, time.Second)
		if c.ID != id || c.Envelope.LastError != "too many recoveries" {
			t.Fatalf("shunted %+v", c.Envelope)
		}
		return
	}
}

// A Forward of resident entries, then a crash: the children come back
// from the journal (their parent's tombstone is in the same round) and the
// parent does not; cut before the round, the parent comes back (its claim
// counted) and no child does.
func TestResidentForwardCrash(t *testing.T) {
	for _, cut := range []bool{false, true} {
		dir := t.TempDir()
		opts := residentOptions(t, dir)
		s := openTest(t, opts)
		parent := mustEnqueue(t, s, newItem(In, "post"))
		c := mustClaim(t, s, In, time.Second)
		if cut {
			s.testingBeforeRound = func() error { return errCrash }
		}
		ids, err := c.Forward(context.Background(), newItem(Out, "copy 1"), newItem(Out, "copy 2"))
		if cut != (err != nil) {
			t.Fatalf("cut %v: forward: %v", cut, err)
		}
		s.abandon()
		s2 := openTest(t, opts)
		if cut {
			if s2.Counts()[Out] != 0 {
				t.Fatalf("cut: out holds %d", s2.Counts()[Out])
			}
			c := mustClaim(t, s2, In, time.Second)
			if c.ID != parent || c.Envelope.Attempts != 1 {
				t.Fatalf("cut: claimed %s attempts %d", c.ID, c.Envelope.Attempts)
			}
			continue
		}
		assertEmpty(t, s2, In)
		got := map[string]bool{}
		for range 2 {
			got[mustClaim(t, s2, Out, time.Second).ID] = true
		}
		if !got[ids[0]] || !got[ids[1]] || s2.Metrics().Restored != 2 {
			t.Fatalf("children %v, restored %d; want %v", got, s2.Metrics().Restored, ids)
		}
	}
}
