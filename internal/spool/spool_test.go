package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// testOptions uses the smallest hash fan-out above flat, so every test goes
// through hash directories.
func testOptions(dir string) Options {
	return Options{Dir: dir, HashDepth: 1, MinFreeBytes: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		testingNoResident: true}
}

func openTest(t *testing.T, opts Options) *Spool {
	t.Helper()
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newItem(queue, body string) Item {
	return Item{Queue: queue, Envelope: Envelope{Domain: "example.org", List: "dev", Alias: "post",
		Sender: "a@example.net", Recipients: []string{"dev@example.org"}}, Message: []byte(body)}
}

func mustEnqueue(t *testing.T, s *Spool, it Item) string {
	t.Helper()
	id, err := s.Enqueue(context.Background(), it)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

func mustClaim(t *testing.T, s *Spool, queue string, within time.Duration) *Claim {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := s.Claim(ctx, queue)
	if err != nil {
		t.Fatalf("claim %s: %v", queue, err)
	}
	return c
}

func assertEmpty(t *testing.T, s *Spool, queue string) {
	t.Helper()
	if c, ok, err := s.TryClaim(queue); err != nil || ok {
		t.Fatalf("queue %s: TryClaim = %v, %v, %v; want empty", queue, c, ok, err)
	}
}

// countFiles counts regular files below dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestEnqueueClaimDone(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	id := mustEnqueue(t, s, newItem(In, "hello"))
	if got := s.Counts()[In]; got != 1 {
		t.Fatalf("count = %d", got)
	}
	if _, err := os.Stat(hashPath(filepath.Join(dir, In), 1, id)); err != nil {
		t.Fatalf("entry file: %v", err)
	}
	c := mustClaim(t, s, In, time.Second)
	if c.ID != id || string(c.Message) != "hello" || c.Envelope.Queue != In || c.Envelope.List != "dev" {
		t.Fatalf("claimed %+v", c.Entry)
	}
	if c.Envelope.Arrived.IsZero() {
		t.Error("Arrived not set")
	}
	assertEmpty(t, s, In)
	if err := c.Done(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(ctx); !errors.Is(err, ErrFinished) {
		t.Fatalf("second Done: %v", err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Done: %v", err)
	}
	for _, d := range append([]string{"active"}, Queues...) {
		if n := countFiles(t, filepath.Join(dir, d)); n != 0 {
			t.Errorf("%s holds %d files", d, n)
		}
	}
	// The finished entry's file is kept as a spare until Close.
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 1 {
		t.Errorf("tmp holds %d files, want the one spare", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Errorf("tmp holds %d files after Close", n)
	}
}

func TestInvalidArguments(t *testing.T) {
	s := openTest(t, testOptions(t.TempDir()))
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, newItem("nope", "x")); !errors.Is(err, ErrInvalid) || IsTemporary(err) {
		t.Errorf("bad queue: %v", err)
	}
	if _, _, err := s.TryClaim("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad claim queue: %v", err)
	}
	if _, err := s.Get("zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
	if err := s.Unshunt(ctx, newID(time.Now())); !errors.Is(err, ErrNotFound) {
		t.Errorf("unshunt unknown: %v", err)
	}
}

func TestGroupCommit(t *testing.T) {
	for _, journal := range []bool{false, true} {
		t.Run(fmt.Sprintf("journal=%v", journal), func(t *testing.T) { groupCommit(t, journal) })
	}
}

// groupCommit has 32 writers enqueue at once: fewer rounds than writers,
// every entry durable. Under the journal the first round is held back
// until the writers wait, as a slow disk would, so they group.
func groupCommit(t *testing.T, journal bool) {
	const writers = 32
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.NoJournal = !journal
	s := openTest(t, opts)
	if journal {
		s.j.wmu.Lock()
		go func() {
			for s.Metrics().Enqueued < writers {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(10 * time.Millisecond) // the last ones stage their files
			s.j.wmu.Unlock()
		}()
	}
	start := make(chan struct{})
	ids := make([]string, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ids[i], errs[i] = s.Enqueue(context.Background(), newItem(Out, fmt.Sprintf("message %d", i)))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		e, err := s.Get(ids[i])
		if err != nil || string(e.Message) != fmt.Sprintf("message %d", i) {
			t.Fatalf("writer %d: entry %v, %v", i, e, err)
		}
	}
	m := s.Metrics()
	if m.Acked != writers || m.Enqueued != writers {
		t.Errorf("acked %d enqueued %d", m.Acked, m.Enqueued)
	}
	if m.SyncBatches >= writers {
		t.Errorf("%d sync batches for %d concurrent writers: no grouping", m.SyncBatches, writers)
	}
	t.Logf("%d writers in %d batches, histogram %v", writers, m.SyncBatches, m.BatchSizes)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, opts)
	if got := s2.Counts()[Out]; got != writers {
		t.Fatalf("after reopen: %d entries, want %d", got, writers)
	}
}

func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MinFreeBytes = 1 << 62
	s := openTest(t, opts)
	_, err := s.Enqueue(context.Background(), newItem(In, "x"))
	if !errors.Is(err, ErrDiskFull) || !IsTemporary(err) {
		t.Fatalf("enqueue on full disk: %v", err)
	}
	if _, err := s.EnqueueAll(context.Background(), []Item{newItem(In, "a"), newItem(In, "b")}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("EnqueueAll on full disk: %v", err)
	}
	for _, d := range []string{"tmp", In} {
		if n := countFiles(t, filepath.Join(dir, d)); n != 0 {
			t.Errorf("%s holds %d files after refusal", d, n)
		}
	}
	if s.Metrics().DiskFull == 0 {
		t.Error("DiskFull not counted")
	}
	// Space returns (here: a spool without the floor) and accepting resumes.
	s.minFree = -1
	mustEnqueue(t, s, newItem(In, "x"))
}

// Free space far above the floor is measured again only after
// freeSpaceReuse; near the floor, at every write.
func TestFreeSpaceMeasuredNearTheFloor(t *testing.T) {
	s := openTest(t, testOptions(t.TempDir()))
	free, err := freeBytes(s.dir)
	if err != nil || free < 0 {
		t.Skipf("no free-space figure here: %d %v", free, err)
	}
	// A fresh measure far above the floor is reused: a floor raised past
	// the free space is not seen yet.
	s.minFree = free + 1
	s.lastFree.Store(s.minFree + 2*freeSpaceMargin)
	s.freeAt.Store(time.Now().UnixNano())
	if err := s.checkSpace(); err != nil {
		t.Fatalf("within the reuse period far above the floor: %v", err)
	}
	// Near the floor every write measures.
	s.lastFree.Store(s.minFree + 1)
	if err := s.checkSpace(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("near the floor: %v, want ErrDiskFull", err)
	}
	// And an old measure is not reused, however far above.
	s.lastFree.Store(s.minFree + 2*freeSpaceMargin)
	s.freeAt.Store(time.Now().Add(-freeSpaceReuse).UnixNano())
	if err := s.checkSpace(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("after the reuse period: %v, want ErrDiskFull", err)
	}
}

func TestDiskErrClassification(t *testing.T) {
	var c counters
	for _, errno := range []error{errENOSPC, errEDQUOT, errEIO} {
		err := diskErr("write", "/x", &os.PathError{Op: "write", Path: "/x", Err: errno}, &c)
		if !errors.Is(err, ErrDiskFull) || !errors.Is(err, errno) || !IsTemporary(err) {
			t.Errorf("%v: got %v", errno, err)
		}
	}
	if err := diskErr("write", "/x", os.ErrPermission, &c); errors.Is(err, ErrDiskFull) {
		t.Errorf("EPERM classified as disk full")
	}
}

func TestReleaseAndClose(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	a := mustEnqueue(t, s, newItem(Command, "a"))
	time.Sleep(2 * time.Millisecond) // ids are FIFO by millisecond
	b := mustEnqueue(t, s, newItem(Command, "b"))
	ca := mustClaim(t, s, Command, time.Second)
	if ca.ID != a {
		t.Fatalf("FIFO: claimed %s, want %s", ca.ID, a)
	}
	if err := ca.Release(ctx); err != nil {
		t.Fatal(err)
	}
	ca = mustClaim(t, s, Command, time.Second)
	cb := mustClaim(t, s, Command, time.Second)
	if ca.ID != a || cb.ID != b {
		t.Fatalf("after release claimed %s %s", ca.ID, cb.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ca.Done(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Done after Close: %v", err)
	}
	if _, err := s.Enqueue(ctx, newItem(In, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close: %v", err)
	}
	s2 := openTest(t, testOptions(dir))
	for _, want := range []string{a, b} {
		c := mustClaim(t, s2, Command, time.Second)
		if c.ID != want || c.Envelope.Attempts != 0 {
			t.Fatalf("reopened: claimed %s attempts %d, want %s attempts 0", c.ID, c.Envelope.Attempts, want)
		}
	}
}

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	ctx := context.Background()
	id := mustEnqueue(t, s, newItem(Out, "m"))
	c := mustClaim(t, s, Out, time.Second)
	env := c.Envelope
	env.Recipients = []string{"left@x.org"}
	env.Meta = map[string]string{"delivered": "3"}
	env.Queue = In // ignored
	if err := c.Update(ctx, env); err != nil {
		t.Fatal(err)
	}
	if c.Envelope.Queue != Out || c.Envelope.Meta["delivered"] != "3" {
		t.Fatalf("claim envelope %+v", c.Envelope)
	}
	e, err := s.Get(id)
	if err != nil || e.Envelope.Meta["delivered"] != "3" || len(e.Envelope.Recipients) != 1 {
		t.Fatalf("Get after Update: %+v, %v", e, err)
	}
	// A crash keeps the update.
	s.abandon()
	s2 := openTest(t, testOptions(dir))
	c2 := mustClaim(t, s2, Out, time.Second)
	if c2.Envelope.Meta["delivered"] != "3" || c2.Envelope.Attempts != 1 {
		t.Fatalf("recovered %+v", c2.Envelope)
	}
}

func TestListGetCounts(t *testing.T) {
	s := openTest(t, testOptions(t.TempDir()))
	var ids []string
	for i := range 5 {
		ids = append(ids, mustEnqueue(t, s, newItem(Owner, fmt.Sprint(i))))
	}
	list, err := s.List(Owner)
	if err != nil || len(list) != 5 {
		t.Fatalf("List: %d entries, %v", len(list), err)
	}
	slices.Sort(ids) // List is oldest id first; ids of one millisecond sort by their random part
	for i, e := range list {
		if e.ID != ids[i] || e.Message != nil || e.Envelope.Queue != Owner || e.Envelope.Domain != "example.org" {
			t.Errorf("list[%d] = %+v", i, e)
		}
	}
	c := mustClaim(t, s, Owner, time.Second)
	if e, err := s.Get(c.ID); err != nil || c.ID != ids[0] || string(e.Message) != string(c.Message) {
		t.Errorf("Get of a claimed entry: %v, %v", e, err)
	}
	if got := s.Counts(); got[Owner] != 4 || got[In] != 0 || len(got) != len(Queues) {
		t.Errorf("Counts = %v", got)
	}
}

func TestHashDepthChange(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.HashDepth = -1
	s := openTest(t, opts)
	id := mustEnqueue(t, s, newItem(In, "x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts.HashDepth = 2
	s2 := openTest(t, opts)
	c := mustClaim(t, s2, In, time.Second)
	if c.ID != id {
		t.Fatalf("claimed %s, want %s", c.ID, id)
	}
	if _, err := os.Stat(filepath.Join(dir, In, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("flat file still there: %v", err)
	}
}

func TestTornEntryQuarantinedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	good := mustEnqueue(t, s, newItem(In, "good"))
	torn := mustEnqueue(t, s, newItem(In, "torn entry"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := hashPath(filepath.Join(dir, In), 1, torn)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, testOptions(dir))
	if s2.Metrics().Torn != 1 || countFiles(t, filepath.Join(dir, "corrupt")) != 1 {
		t.Fatalf("torn entry not quarantined: %+v", s2.Metrics())
	}
	if c := mustClaim(t, s2, In, time.Second); c.ID != good {
		t.Fatalf("claimed %s", c.ID)
	}
	assertEmpty(t, s2, In)
}

func TestTornEntryQuarantinedAtClaim(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	torn := mustEnqueue(t, s, newItem(In, "torn entry"))
	if err := os.Truncate(hashPath(filepath.Join(dir, In), 1, torn), 10); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, s, In)
	if s.Metrics().Torn != 1 || countFiles(t, filepath.Join(dir, "corrupt")) != 1 {
		t.Fatalf("torn entry not quarantined at claim")
	}
}
