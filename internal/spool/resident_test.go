package spool

import (
	"context"
	"os"
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
			// Adopted from the dead journal, resident again; each life that
			// died holding its claim counts one recovery.
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

// A timed checkpoint carries ready resident entries into the new segment
// instead of writing files, is not due again for them alone, and after a
// crash they come back, a Forward's child too although its parent's
// tombstone went with the old segment.
func TestTimedCheckpointCarriesResidents(t *testing.T) {
	dir := t.TempDir()
	opts := residentOptions(t, dir)
	s := openTest(t, opts)
	ctx := context.Background()
	mustEnqueue(t, s, newItem(In, "post"))
	ids, err := mustClaim(t, s, In, time.Second).Forward(ctx, newItem(Out, "child"))
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, newItem(In, "a"))
	mustEnqueue(t, s, newItem(In, "b"))
	seg1 := segments(t, s)[0].path
	old, err := os.ReadFile(seg1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.j.checkpointWith(ckCarryAll); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, In)) + countFiles(t, filepath.Join(dir, Out)); n != 0 {
		t.Fatalf("%d entry files after a carrying checkpoint", n)
	}
	if m := s.Metrics(); m.Carried != 3 || m.FilesCreated != 0 || m.Checkpoints != 1 {
		t.Fatalf("carried %d, files created %d, checkpoints %d", m.Carried, m.FilesCreated, m.Checkpoints)
	}
	if segs := segments(t, s); len(segs) != 1 || segs[0].n != 2 {
		t.Fatalf("segments %v, want only the new one", segs)
	}
	if s.j.due(time.Now().Add(time.Hour)) != ckFiles {
		t.Fatal("a checkpoint is due for carried records alone")
	}
	if err := s.j.checkpointWith(ckCarryAll); err != nil || s.Metrics().Checkpoints != 1 {
		t.Fatalf("second checkpoint: %v, checkpoints %d", err, s.Metrics().Checkpoints)
	}
	// As if the crash came before the old segment was deleted: every
	// entry is in two segments, and comes back once.
	if err := os.WriteFile(seg1, old, 0o600); err != nil {
		t.Fatal(err)
	}
	s.abandon()
	s2 := openTest(t, opts)
	if c := s2.Counts(); c[In] != 2 || c[Out] != 1 || s2.Metrics().Restored != 3 {
		t.Fatalf("after the crash: counts %v, restored %d", c, s2.Metrics().Restored)
	}
	if c := mustClaim(t, s2, Out, time.Second); c.ID != ids[0] || string(c.Message) != "child" {
		t.Fatalf("claimed %s %q", c.ID, c.Message)
	}
}

// An entry finished after it was carried is not restored, wherever its
// tombstone is.
func TestCarriedThenFinished(t *testing.T) {
	dir := t.TempDir()
	opts := residentOptions(t, dir)
	s := openTest(t, opts)
	mustEnqueue(t, s, newItem(In, "done soon"))
	if err := s.j.checkpointWith(ckCarryAll); err != nil {
		t.Fatal(err)
	}
	if err := mustClaim(t, s, In, time.Second).Done(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.abandon()
	s2 := openTest(t, opts)
	if c := s2.Counts(); c[In] != 0 || s2.Metrics().Restored != 0 {
		t.Fatalf("after the crash: counts %v, restored %d", c, s2.Metrics().Restored)
	}
}

// A one-shot instance (no journal: the CLI) shows what a live instance
// holds in its journal only, and claims none of it.
func TestOneShotShowsLiveJournaledEntries(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, residentOptions(t, dir))
	id := mustEnqueue(t, s, newItem(In, "resident"))
	mustEnqueue(t, s, newItem(In, "resident too"))
	if err := s.j.checkpointWith(ckCarryAll); err != nil {
		t.Fatal(err)
	}
	if err := mustClaim(t, s, In, time.Second).Done(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	opts.NoJournal = true
	cli := openTest(t, opts)
	if n := cli.Counts()[In]; n != 1 {
		t.Fatalf("one-shot counts %d in, want 1", n)
	}
	l, err := cli.List(In)
	if err != nil || len(l) != 1 || l[0].Envelope.Queue != In {
		t.Fatalf("one-shot list %+v %v", l, err)
	}
	if e, err := cli.Get(l[0].ID); err != nil || e.ID == id || string(e.Message) != "resident too" {
		t.Fatalf("one-shot get: %+v %v", e, err)
	}
	assertEmpty(t, cli, In) // shown, not claimable
}

// Carried entries have no file: they are not announced to other
// instances until the checkpoint at Close writes their files.
func TestCarriedNotAnnounced(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, residentOptions(t, dir))
	id := mustEnqueue(t, a, newItem(In, "mine"))
	b := openTest(t, journalOptions(t, dir))
	if err := a.j.checkpointWith(ckCarryAll); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if c, err := b.Claim(ctx, In); err == nil {
		t.Fatalf("another instance claimed carried entry %s", c.ID)
	}
	if n := b.Counts()[In]; n != 0 {
		t.Fatalf("another instance indexed %d carried entries", n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if c := mustClaim(t, b, In, 5*time.Second); c.ID != id {
		t.Fatalf("claimed %s", c.ID)
	}
}
