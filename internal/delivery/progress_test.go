package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestJournalWritesAtOnce: a record is in the file as soon as add
// returns, before any sync round (what a SIGKILL leaves behind), from
// several connections at once; a reopened journal skips those addresses.
func TestJournalWritesAtOnce(t *testing.T) {
	dir := t.TempDir()
	j, err := newJournal(dir, time.Hour, quietLog()) // no round during the test
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	p, err := j.open("e1")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if err := p.add([]string{addr(c, i), addr(c, i+1000)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "e1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 400 {
		t.Fatalf("journal has %d lines before any sync, want 400", n)
	}
	q, err := j.open("e1")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.done) != 400 || !q.done[addr(3, 1049)] {
		t.Errorf("reloaded %d addresses", len(q.done))
	}
	p.remove()
	if err := p.add([]string{"late@example.com"}); err != nil {
		t.Errorf("add after remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "e1")); !os.IsNotExist(err) {
		t.Errorf("journal still there after remove: %v", err)
	}
}

// TestJournalSyncRounds: the syncer's rounds (and the last one at close)
// run while entries come and go, without holding up writers.
func TestJournalSyncRounds(t *testing.T) {
	dir := t.TempDir()
	j, err := newJournal(dir, time.Millisecond, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	for e := range 20 {
		p, err := j.open(addr(e, 0))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if err := p.add([]string{addr(e, i)}); err != nil {
				t.Fatal(err)
			}
			if i%7 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if e%2 == 0 {
			p.remove()
		}
	}
	j.close()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 10 {
		t.Errorf("%d journals left, want the 10 not removed", len(ents))
	}
}

func addr(c, i int) string { return fmt.Sprintf("u%d-%d@example.com", c, i) }

// record journals addrs as delivered for entry id, as an attempt that
// ends with the entry still to finish (the journal kept).
func record(t *testing.T, j *journal, id string, addrs ...string) *progress {
	t.Helper()
	p, err := j.open(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.add(addrs); err != nil {
		t.Fatal(err)
	}
	p.keep()
	return p
}

// inode is the inode number of path.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestJournalReusesSpareFiles(t *testing.T) {
	dir := t.TempDir()
	j, err := newJournal(dir, time.Hour, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	a, err := j.open("a")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.add([]string{"x@example.com", "y@example.com"}); err != nil {
		t.Fatal(err)
	}
	ino := inode(t, filepath.Join(dir, "a"))
	a.remove()
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("finished journal still there: %v", err)
	}
	b := record(t, j, "b", "z@example.com")
	if got := inode(t, filepath.Join(dir, "b")); got != ino {
		t.Errorf("b's journal is inode %d, not a's spare %d", got, ino)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "b")); string(data) != "z@example.com\n" {
		t.Errorf("b's journal holds %q: a spare must start empty", data)
	}
	// An earlier attempt's journal is appended to, never replaced by a spare.
	b.remove()
	if err := os.WriteFile(filepath.Join(dir, "c"), []byte("old@example.com\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	record(t, j, "c", "new@example.com")
	if data, _ := os.ReadFile(filepath.Join(dir, "c")); string(data) != "old@example.com\nnew@example.com\n" {
		t.Errorf("c's journal holds %q", data)
	}
	// Spares left behind are removed at start.
	j.close()
	j2, err := newJournal(dir, time.Hour, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	if m, _ := filepath.Glob(filepath.Join(dir, sparePrefix+"*")); len(m) != 0 {
		t.Errorf("spares left after a restart: %v", m)
	}
}
