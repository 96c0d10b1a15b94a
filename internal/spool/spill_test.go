package spool

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// spillOptions: resident entries with no memory budget, so every one is
// spilled (kept in the journal only).
func spillOptions(t *testing.T, dir string) Options {
	t.Helper()
	o := residentOptions(t, dir)
	o.testingSpill = true
	return o
}

// Spilled entries have no file and hold no memory, yet List, Get and a
// claim read them back from the journal, a Forward's children too.
func TestSpilledEntriesNeedNoFile(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, spillOptions(t, dir))
	ctx := context.Background()
	bodies := []string{"first", "second, longer than the first", "third"}
	ids := map[string]string{}
	for _, b := range bodies {
		ids[mustEnqueue(t, s, newItem(In, b))] = b
		time.Sleep(time.Millisecond) // claimed in order
	}
	if n := countFiles(t, filepath.Join(dir, In)); n != 0 {
		t.Fatalf("in holds %d files", n)
	}
	if m := s.Metrics(); m.Spilled != 3 || s.residentBytes != 0 || s.spilledBytes == 0 {
		t.Fatalf("spilled %d, bytes in memory %d, spilled %d", m.Spilled, s.residentBytes, s.spilledBytes)
	}
	for id, b := range ids {
		if e, err := s.Get(id); err != nil || string(e.Message) != b {
			t.Fatalf("Get %s: %+v %v", id, e, err)
		}
	}
	if l, err := s.List(In); err != nil || len(l) != 3 {
		t.Fatalf("List: %d %v", len(l), err)
	}
	for range bodies {
		c := mustClaim(t, s, In, time.Second)
		if string(c.Message) != ids[c.ID] {
			t.Fatalf("claimed %s: %q, want %q", c.ID, c.Message, ids[c.ID])
		}
		kids, err := c.Forward(ctx, newItem(Out, "child of "+ids[c.ID]))
		if err != nil {
			t.Fatal(err)
		}
		child := mustClaim(t, s, Out, time.Second)
		if child.ID != kids[0] || string(child.Message) != "child of "+ids[c.ID] {
			t.Fatalf("child %s %q", child.ID, child.Message)
		}
		if err := child.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m := s.Metrics(); m.FilesCreated != 0 || m.Spilled != 6 || s.spilledBytes != 0 {
		t.Fatalf("files created %d, spilled %d, spilled bytes left %d", m.FilesCreated, m.Spilled, s.spilledBytes)
	}
}

// A carrying checkpoint moves spilled entries to the new segment (a
// claim then reads them there), and after a crash they come back.
func TestSpilledCarriedAndRestored(t *testing.T) {
	dir := t.TempDir()
	opts := spillOptions(t, dir)
	s := openTest(t, opts)
	ctx := context.Background()
	// Finished before the checkpoint: not carried, so the carried records
	// lie elsewhere in the new segment than in the old.
	mustEnqueue(t, s, newItem(In, "finished first"))
	if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}
	a := mustEnqueue(t, s, newItem(In, "carried then claimed"))
	time.Sleep(time.Millisecond)
	b := mustEnqueue(t, s, newItem(In, "carried then restored"))
	mustEnqueue(t, s, newItem(Out, "pushes the offsets along"))
	if err := s.j.checkpointWith(ckCarryAll); err != nil {
		t.Fatal(err)
	}
	if segs := segments(t, s); len(segs) != 1 || segs[0].n != 2 {
		t.Fatalf("segments %v, want only the new one", segs)
	}
	if m := s.Metrics(); m.Carried != 3 || m.FilesCreated != 0 || s.residentBytes != 0 {
		t.Fatalf("carried %d, files created %d, bytes in memory %d", m.Carried, m.FilesCreated, s.residentBytes)
	}
	if c := mustClaim(t, s, In, time.Second); c.ID != a || string(c.Message) != "carried then claimed" {
		t.Fatalf("claimed %s %q", c.ID, c.Message)
	}
	s.abandon()
	s2 := openTest(t, opts)
	if c := s2.Counts(); c[In] != 2 || c[Out] != 1 {
		t.Fatalf("after the crash: counts %v", c)
	}
	got := map[string]string{}
	for range 2 {
		c := mustClaim(t, s2, In, time.Second)
		got[c.ID] = string(c.Message)
	}
	if got[a] != "carried then claimed" || got[b] != "carried then restored" {
		t.Fatalf("restored %v", got)
	}
}

// Close writes the files of spilled entries; the next instance claims
// them from their files.
func TestCloseWritesSpilledEntries(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, spillOptions(t, dir))
	id := mustEnqueue(t, s, newItem(In, "spilled"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, In)); n != 1 {
		t.Fatalf("in holds %d files after Close", n)
	}
	s2 := openTest(t, journalOptions(t, dir))
	if c := mustClaim(t, s2, In, time.Second); c.ID != id || string(c.Message) != "spilled" {
		t.Fatalf("claimed %s %q", c.ID, c.Message)
	}
}

// A resident entry released while a checkpoint deletes its segment (the
// checkpoint saw it neither ready nor among the claims it writes) is
// journaled again, so a crash after the deletion does not lose it.
func TestReleaseDuringCheckpointJournalsAgain(t *testing.T) {
	for _, spill := range []bool{false, true} {
		dir := t.TempDir()
		opts := residentOptions(t, dir)
		opts.testingSpill = spill
		s := openTest(t, opts)
		id := mustEnqueue(t, s, newItem(In, "released mid-checkpoint"))
		c := mustClaim(t, s, In, time.Second)
		// The checkpoint's first steps: a new segment, the old one's
		// deletion under way.
		s.j.wmu.Lock()
		if err := s.j.newSegment(s.j.seg + 1); err != nil {
			t.Fatal(err)
		}
		s.j.wmu.Unlock()
		s.setCheckpointing(1)
		if err := c.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.j.removeSegments(1); err != nil {
			t.Fatal(err)
		}
		s.setCheckpointing(0)
		if e, err := s.Get(id); err != nil || string(e.Message) != "released mid-checkpoint" {
			t.Fatalf("spill %v: Get after the checkpoint: %+v %v", spill, e, err)
		}
		s.abandon()
		s2 := openTest(t, opts)
		if c := mustClaim(t, s2, In, time.Second); c.ID != id || string(c.Message) != "released mid-checkpoint" {
			t.Fatalf("spill %v: after the crash claimed %s %q", spill, c.ID, c.Message)
		}
	}
}

// A quiet journal is due a checkpoint that carries everything; one under
// load, every checkpointEvery or checkpointBytes of new records, one that
// deletes a prefix; carried records alone are no reason.
func TestCheckpointDue(t *testing.T) {
	s := openTest(t, residentOptions(t, t.TempDir()))
	j := s.j
	now := time.Now()
	set := func(fresh, carried int64, sinceCheckpoint time.Duration) {
		j.wmu.Lock()
		j.size, j.carried = int64(len(segMagic))+fresh+carried, carried
		j.wmu.Unlock()
		j.mu.Lock()
		j.lastWrite, j.lastCheckpoint = now, now.Add(-sinceCheckpoint)
		j.mu.Unlock()
	}
	for _, tc := range []struct {
		fresh, carried int64
		since          time.Duration
		want           ckMode
	}{
		{fresh: 1, since: time.Second, want: ckFiles},
		{fresh: 1, since: checkpointEvery, want: ckCarryPrefix},
		{fresh: checkpointBytes, since: time.Second, want: ckCarryPrefix},
		{fresh: 0, carried: checkpointBytes, since: checkpointEvery, want: ckFiles},
	} {
		set(tc.fresh, tc.carried, tc.since)
		if got := j.due(now); got != tc.want {
			t.Errorf("fresh %d carried %d, %v since the last: due %v, want %v", tc.fresh, tc.carried, tc.since, got, tc.want)
		}
		if got := j.due(now.Add(checkpointQuiet)); tc.fresh > 0 && got != ckCarryAll {
			t.Errorf("fresh %d carried %d: due %v when quiet", tc.fresh, tc.carried, got)
		}
	}
	set(0, 0, 0)
}

// Under load a checkpoint deletes the oldest segments whose entries have
// mostly been processed, carrying what is left of them, and keeps the
// newer ones, still mostly queued, for later; after a crash every queued
// entry comes back, from either.
func TestPrefixCheckpointKeepsBusySegments(t *testing.T) {
	dir := t.TempDir()
	opts := residentOptions(t, dir)
	s := openTest(t, opts)
	ctx := context.Background()
	var processed []string
	for i := range 8 {
		id := mustEnqueue(t, s, newItem(In, fmt.Sprintf("old %d", i)))
		if i > 0 {
			processed = append(processed, id)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.j.checkpointWith(ckCarryPrefix); err != nil { // segment 1: nothing processed yet, kept
		t.Fatal(err)
	}
	if segs := segments(t, s); len(segs) != 2 || s.Metrics().Checkpoints != 0 {
		t.Fatalf("segments %v, checkpoints %d: a busy segment was deleted", segs, s.Metrics().Checkpoints)
	}
	for range processed { // the runners take the oldest first
		c := mustClaim(t, s, In, time.Second)
		if c.Message[0] != 'o' {
			t.Fatalf("claimed %q", c.Message)
		}
		if err := c.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Segment 1 holds one queued entry of eight: it goes, the survivor
	// carried. Segment 2 (the claims and tombstones, and four new entries
	// still queued) stays.
	newest := mustEnqueue(t, s, newItem(In, "new"))
	for range 3 {
		mustEnqueue(t, s, newItem(In, "new too"))
	}
	if err := s.j.checkpointWith(ckCarryPrefix); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, s)
	if len(segs) != 2 || segs[0].n != 2 || s.Metrics().Carried != 1 {
		t.Fatalf("segments %v, carried %d; want 2 and 3 left, one entry carried", segs, s.Metrics().Carried)
	}
	s.abandon()
	s2 := openTest(t, opts)
	if c := s2.Counts(); c[In] != 5 {
		t.Fatalf("after the crash: %d queued, want 5", c[In])
	}
	if _, err := s2.Get(newest); err != nil {
		t.Fatalf("newest entry: %v", err)
	}
}

// New entries fill the memory budget, then the journal-only one, then
// get files; Options sets the budgets, -1 for none.
func TestBudgetsFillInTurn(t *testing.T) {
	dir := t.TempDir()
	opts := residentOptions(t, dir)
	opts.MemoryBytes, opts.JournalBytes = -1, -1
	if s := openTest(t, opts); s.residentMax != 0 || s.spillMax != 0 {
		t.Fatalf("budgets %d and %d with -1, want none", s.residentMax, s.spillMax)
	}
	opts.MemoryBytes, opts.JournalBytes = 0, 0
	if s := openTest(t, opts); s.residentMax != residentBudget || s.spillMax != spillBudget {
		t.Fatalf("default budgets %d and %d", s.residentMax, s.spillMax)
	}
	s := openTest(t, residentOptions(t, t.TempDir()))
	mustEnqueue(t, s, newItem(In, "in memory"))
	one := s.residentBytes // one entry's encoding
	s.residentMax, s.spillMax = one, one
	mustEnqueue(t, s, newItem(In, "spilled!!"))
	mustEnqueue(t, s, newItem(In, "in a file"))
	if m := s.Metrics(); s.residentBytes != one || s.spilledBytes != one || m.Spilled != 1 || m.FilesCreated != 1 {
		t.Fatalf("in memory %d, spilled %d (%d entries), files %d; one entry is %d bytes",
			s.residentBytes, s.spilledBytes, m.Spilled, m.FilesCreated, one)
	}
	if k, want := s.Kept(), (Kept{MemoryEntries: 1, JournalEntries: 1, MemoryBytes: one, JournalBytes: one}); k != want {
		t.Fatalf("Kept() = %+v, want %+v", k, want)
	}
	for range 3 {
		if err := mustClaim(t, s, In, time.Second).Done(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if k := s.Kept(); k != (Kept{}) {
		t.Fatalf("Kept() = %+v with every entry done", k)
	}
}

// However small the entries, no more than MaxKept are kept without a
// file (Close writes one for each); past it new entries get files, and
// once the runners take some, new ones are kept again.
func TestKeptEntriesBounded(t *testing.T) {
	opts := residentOptions(t, t.TempDir())
	if s := openTest(t, opts); s.keptMax != keptMax {
		t.Fatalf("default cap %d, want %d", s.keptMax, keptMax)
	}
	opts.MaxKept = -1
	if s := openTest(t, opts); s.keptMax != -1 {
		t.Fatalf("cap %d with -1, want none (-1)", s.keptMax)
	}
	opts.MaxKept = 2
	s := openTest(t, opts)
	for _, body := range []string{"one", "two", "three"} {
		mustEnqueue(t, s, newItem(In, body))
	}
	if m := s.Metrics(); len(s.resident) != 2 || m.FilesCreated != 1 {
		t.Fatalf("kept %d, files %d; want 2 kept and 1 file", len(s.resident), m.FilesCreated)
	}
	c := mustClaim(t, s, In, time.Second)
	if err := c.Done(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, newItem(In, "four"))
	if m := s.Metrics(); len(s.resident) != 2 || m.FilesCreated != 1 {
		t.Fatalf("after one done: kept %d, files %d; want 2 kept and still 1 file", len(s.resident), m.FilesCreated)
	}
}

// After a crash, an instance with a journal adopts the dead journal's
// entries (resident, in memory or spilled, no file each), journaled in
// its own segment, so a second crash before any checkpoint loses none; a
// one-shot instance (no journal) writes their files.
func TestRestartAdoptsJournaledEntries(t *testing.T) {
	for _, spill := range []bool{false, true} {
		dir := t.TempDir()
		opts := residentOptions(t, dir)
		opts.testingSpill = spill
		s := openTest(t, opts)
		want := map[string]string{}
		for _, b := range []string{"one", "two", "three"} {
			want[mustEnqueue(t, s, newItem(In, b))] = b
		}
		for range 2 { // crash, adopt, crash again
			s.abandon()
			s = openTest(t, opts)
			m := s.Metrics()
			if m.Restored != 3 || m.FilesCreated != 0 || s.Counts()[In] != 3 {
				t.Fatalf("spill %v: restored %d, files %d, queued %d", spill, m.Restored, m.FilesCreated, s.Counts()[In])
			}
			if spill != (s.spilledBytes > 0) || spill == (s.residentBytes > 0) {
				t.Fatalf("spill %v: %d bytes in memory, %d spilled", spill, s.residentBytes, s.spilledBytes)
			}
		}
		c := mustClaim(t, s, In, time.Second)
		if want[c.ID] != string(c.Message) {
			t.Fatalf("claimed %s %q, want %q", c.ID, c.Message, want[c.ID])
		}
		s.abandon()
		oneShot := testOptions(dir)
		oneShot.NoJournal = true
		cli := openTest(t, oneShot)
		if m := cli.Metrics(); m.Restored != 3 || m.FilesCreated != 3 || countFiles(t, filepath.Join(dir, In)) != 3 {
			t.Fatalf("one-shot: restored %d, files %d", m.Restored, m.FilesCreated)
		}
	}
}
