package delivery

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
