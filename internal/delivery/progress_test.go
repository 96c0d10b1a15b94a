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

// openJournal starts a journal in dir with no timed rounds.
func openJournal(t *testing.T, dir string) *journal {
	t.Helper()
	j, err := newJournal(dir, time.Hour, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.close)
	return j
}

// openProgress opens entry id's progress.
func openProgress(t *testing.T, j *journal, id string) *progress {
	t.Helper()
	p, err := j.open(id, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// logLines counts the log lines of entry id in dir.
func logLines(t *testing.T, dir, id string) int {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, logPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		parseLog(b, func(e string, _ []string) {
			if e == id {
				n++
			}
		})
	}
	return n
}

// TestJournalWritesAtOnce: a record is in the log as soon as add returns,
// before any sync round (what a SIGKILL leaves behind), from several
// connections at once; a journal started on what a crash left skips those
// addresses.
func TestJournalWritesAtOnce(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	p := openProgress(t, j, "e1")
	other := openProgress(t, j, "e2")
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if err := p.add([]string{addr(c, i), addr(c, i+1000)}); err != nil {
					t.Error(err)
				}
				if err := other.add([]string{addr(c, i+2000)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := logLines(t, dir, "e1"); n != 200 {
		t.Fatalf("log has %d records of e1 before any sync, want 200", n)
	}
	// A restart after a crash: the records come back from the log.
	q := openProgress(t, openJournal(t, dir), "e1")
	if len(q.done) != 400 || !q.done[addr(3, 1049)] || q.done[addr(3, 2049)] {
		t.Errorf("reloaded %d addresses", len(q.done))
	}
	p.remove()
	if err := p.add([]string{"late@example.com"}); err != nil {
		t.Errorf("add after remove: %v", err)
	}
	if n := logLines(t, dir, "e1"); n != 200 {
		t.Errorf("a removed attempt recorded again: %d lines", n)
	}
}

// A torn last line, or a line whose checksum fails, is ignored: its
// recipients are sent again, never taken for accepted.
func TestJournalIgnoresDamagedLines(t *testing.T) {
	dir := t.TempDir()
	good := "u1@example.com"
	line := func(id, a string) string { return lineSum([]byte(id+"\t"+a)) + "\t" + id + "\t" + a + "\n" }
	bad := strings.Replace(line("e1", "u2@example.com"), "u2", "u3", 1)
	torn := line("e1", "u4@example.com.org")
	torn = torn[:len(torn)-5]
	if err := os.WriteFile(filepath.Join(dir, logPrefix+"7"), []byte(line("e1", good)+bad+torn), 0o640); err != nil {
		t.Fatal(err)
	}
	p := openProgress(t, openJournal(t, dir), "e1")
	if len(p.done) != 1 || !p.done[good] {
		t.Errorf("loaded %v, want only %s", p.done, good)
	}
}

// An attempt that ends unfinished keeps its records in the entry's own
// file, which the next attempt reads; a finished entry leaves nothing, and
// a log goes once no entry needs it.
func TestJournalKeepAndRemove(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	a := openProgress(t, j, "a")
	b := openProgress(t, j, "b")
	for i := range 3 {
		if err := a.add([]string{addr(0, i)}); err != nil {
			t.Fatal(err)
		}
		if err := b.add([]string{addr(1, i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.keep()
	if got := openProgress(t, j, "a").done; len(got) != 3 || !got[addr(0, 2)] {
		t.Errorf("next attempt of a: %v", got)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "a")); err != nil || strings.Count(string(data), "\n") != 3 {
		t.Errorf("a's file: %q %v", data, err)
	}
	b.remove()
	a2 := openProgress(t, j, "a")
	if err := a2.add([]string{addr(0, 9)}); err != nil {
		t.Fatal(err)
	}
	a2.remove()
	j.close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left after every entry finished: %v", left)
	}
}

// TestJournalSyncRounds: the syncer's rounds (and the last one at close)
// run while entries come and go and logs rotate, without holding up
// writers; what the unfinished entries recorded survives a restart.
func TestJournalSyncRounds(t *testing.T) {
	dir := t.TempDir()
	j, err := newJournal(dir, time.Millisecond, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var kept []*progress
	for e := range 20 {
		p, err := j.open(addr(e, 0), false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range logRotate / 8 {
			if err := p.add([]string{addr(e, i)}); err != nil {
				t.Fatal(err)
			}
			if i%500 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if e%2 == 0 {
			p.remove()
		} else {
			kept = append(kept, p)
		}
	}
	j.close()
	j2 := openJournal(t, dir)
	for e := 1; e < 20; e += 2 {
		if n := len(openProgress(t, j2, addr(e, 0)).done); n != logRotate/8 {
			t.Errorf("entry %d: %d records after a restart, want %d", e, n, logRotate/8)
		}
	}
	for _, p := range kept {
		p.remove()
	}
}

func addr(c, i int) string { return fmt.Sprintf("u%d-%d@example.com", c, i) }

// An entry whose records came back from a crashed run's log keeps them
// too when its next attempt ends unfinished: the entry's own file then
// holds everything accepted so far.
// A first attempt looks for the entry's own file only if the journal
// knows of it (found at start, or kept since): the file of an entry that
// another live process kept is read once the entry was retried.
func TestJournalLooksForKeptFiles(t *testing.T) {
	dir := t.TempDir()
	mine, other := openJournal(t, dir), openJournal(t, dir)
	p := openProgress(t, other, "e1")
	if err := p.add([]string{addr(0, 1)}); err != nil {
		t.Fatal(err)
	}
	p.keep()
	if got := openProgress(t, other, "e1").done; !got[addr(0, 1)] {
		t.Errorf("the process that kept e1 did not read its file: %v", got)
	}
	if got := openProgress(t, mine, "e1").done; len(got) != 0 {
		t.Errorf("a first attempt read a file it could not know of: %v", got)
	}
	q, err := mine.open("e1", true)
	if err != nil {
		t.Fatal(err)
	}
	if !q.done[addr(0, 1)] {
		t.Errorf("a retried entry's file not read: %v", q.done)
	}
	if got := openProgress(t, openJournal(t, dir), "e1").done; !got[addr(0, 1)] {
		t.Errorf("a journal started after the keep did not read e1's file: %v", got)
	}
	q.remove()
	if got := openProgress(t, other, "e1").done; len(got) != 0 {
		t.Errorf("e1 finished, but its file is still read: %v", got)
	}
}

func TestJournalKeepsRecoveredRecords(t *testing.T) {
	dir := t.TempDir()
	p := openProgress(t, openJournal(t, dir), "e1")
	if err := p.add([]string{addr(0, 1), addr(0, 2)}); err != nil {
		t.Fatal(err)
	}
	// The process dies here: a new journal starts on its log.
	q := openProgress(t, openJournal(t, dir), "e1")
	if err := q.add([]string{addr(0, 3)}); err != nil {
		t.Fatal(err)
	}
	q.keep()
	data, err := os.ReadFile(filepath.Join(dir, "e1"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if !strings.Contains(string(data), addr(0, i)+"\n") {
			t.Errorf("e1's file lacks %s: %q", addr(0, i), data)
		}
	}
}
