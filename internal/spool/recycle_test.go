package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// onlyFile returns the one file under dir.
func onlyFile(t *testing.T, dir string) string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			found = append(found, p)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("files under %s: %v (%v), want one", dir, found, err)
	}
	return found[0]
}

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// A finished entry's file is rewritten for the next entry: same inode,
// and the shorter new entry reads back whole (the file was truncated).
func TestSpareFileReused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	mustEnqueue(t, s, newItem(In, strings.Repeat("long message ", 500)))
	if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}
	spare := stat(t, onlyFile(t, filepath.Join(dir, "tmp")))

	id := mustEnqueue(t, s, newItem(In, "short"))
	entry := stat(t, hashPath(filepath.Join(dir, In), 1, id))
	if !os.SameFile(spare, entry) {
		t.Fatal("the new entry did not reuse the spare file")
	}
	if entry.Size() >= spare.Size() {
		t.Fatalf("entry size %d, spare was %d: not truncated", entry.Size(), spare.Size())
	}
	c := mustClaim(t, s, In, time.Second)
	if c.ID != id || string(c.Message) != "short" {
		t.Fatalf("claimed %s %q", c.ID, c.Message)
	}
	// Forward retires the claim file; the child reuses it.
	ids, err := c.Forward(ctx, newItem(Out, "child"))
	if err != nil {
		t.Fatal(err)
	}
	child := mustClaim(t, s, Out, time.Second)
	if child.ID != ids[0] || string(child.Message) != "child" {
		t.Fatalf("child %s %q", child.ID, child.Message)
	}
	if s.Metrics().Torn != 0 {
		t.Fatalf("torn entries: %+v", s.Metrics())
	}
}

// A spare is never rewritten with the entry it last held: if the new data
// did not reach the disk before a crash, the stale content must not pass
// for the entry under its own name.
func TestSpareNotReusedForSameID(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	id := mustEnqueue(t, s, newItem(In, "again and again"))
	if err := mustClaim(t, s, In, time.Second).Retry(ctx, time.Now(), errors.New("first")); err != nil {
		t.Fatal(err)
	}
	// tmp now holds the old claim file, which last held id.
	old := stat(t, onlyFile(t, filepath.Join(dir, "tmp")))
	c := mustClaim(t, s, Retry, 2*time.Second)
	if c.ID != id {
		t.Fatalf("claimed %s", c.ID)
	}
	if err := c.Retry(ctx, time.Now(), errors.New("second")); err != nil {
		t.Fatal(err)
	}
	now := stat(t, hashPath(filepath.Join(dir, Retry), 1, id))
	if os.SameFile(old, now) {
		t.Fatal("entry rewritten into the spare that last held it")
	}
	c = mustClaim(t, s, Retry, 2*time.Second)
	if c.Envelope.Attempts != 2 || c.Envelope.LastError != "second" {
		t.Fatalf("envelope %+v", c.Envelope)
	}
}

// The crash the rules above guard against: a spare renamed to a new
// entry's name without its new data. Open quarantines it.
func TestStaleSpareQuarantined(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	mustEnqueue(t, s, newItem(In, "finished"))
	if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}
	next := newID(time.Now())
	dst := hashPath(filepath.Join(dir, In), 1, next)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(onlyFile(t, filepath.Join(dir, "tmp")), dst); err != nil {
		t.Fatal(err)
	}
	s.spares.drain() // the crashed process forgot it too
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, testOptions(dir))
	if s2.Metrics().Torn != 1 || countFiles(t, filepath.Join(dir, "corrupt")) != 1 {
		t.Fatalf("stale spare not quarantined: %+v", s2.Metrics())
	}
	assertEmpty(t, s2, In)
}

// Update renames over the live claim file, so it never uses a spare.
func TestUpdateWritesNewFile(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	mustEnqueue(t, s, newItem(In, "one"))
	if err := mustClaim(t, s, In, time.Second).Done(ctx); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, newItem(In, "two")) // takes the spare
	mustEnqueue(t, s, newItem(In, "three"))
	a, b := mustClaim(t, s, In, time.Second), mustClaim(t, s, In, time.Second)
	if err := a.Done(ctx); err != nil {
		t.Fatal(err)
	}
	spare := onlyFile(t, filepath.Join(dir, "tmp"))
	before := stat(t, spare)
	env := b.Envelope
	env.Recipients = []string{"x@example.org"}
	if err := b.Update(ctx, env); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, stat(t, spare)) {
		t.Fatal("Update took the spare")
	}
}
