package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"herald/internal/store"
)

const (
	writersPerDB  = 4
	addsPerWriter = 50
	helperEnvPath = "HERALD_TEST_SQLITE_HELPER_PATH"
	helperEnvList = "HERALD_TEST_SQLITE_HELPER_LIST"
)

// seed creates example.org and dev@example.org in a new file.
func seed(t *testing.T) (path string, listID int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "herald.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDomain(t.Context(), store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org"}
	if err := db.CreateList(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	return path, l.ID
}

// hammer adds writersPerDB*addsPerWriter members labelled label through
// s, concurrently, each add followed by a NextPostID and a read.
func hammer(ctx context.Context, s store.Store, listID int64, label string) error {
	var wg sync.WaitGroup
	errs := make(chan error, writersPerDB)
	for w := range writersPerDB {
		wg.Go(func() {
			for i := range addsPerWriter {
				m := store.DefaultMember(listID, fmt.Sprintf("%s-%d-%d@example.net", label, w, i), store.RoleMember)
				if err := s.AddMember(ctx, &m); err != nil {
					errs <- err
					return
				}
				if _, err := s.NextPostID(ctx, listID, time.Now()); err != nil {
					errs <- err
					return
				}
				if _, err := s.GetMember(ctx, listID, m.Email, m.Role); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

// checkTotals verifies that every add and post id of n writers' worth
// of hammer calls landed.
func checkTotals(t *testing.T, path string, listID int64, n int) {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := n * writersPerDB * addsPerWriter
	got, err := db.CountMembers(t.Context(), listID, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.GetListByID(t.Context(), listID)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || l.PostID != int64(want) {
		t.Errorf("after concurrent writers: %d members, post id %d; want %d of each", got, l.PostID, want)
	}
}

// TestTwoHandlesOneFile opens the file twice in one process, as two
// herald processes would, and writes through both at once.
func TestTwoHandlesOneFile(t *testing.T) {
	path, listID := seed(t)
	var wg sync.WaitGroup
	for _, label := range []string{"a", "b"} {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wg.Go(func() {
			if err := hammer(t.Context(), db, listID, label); err != nil {
				t.Errorf("handle %s: %v", label, err)
			}
		})
	}
	wg.Wait()
	checkTotals(t, path, listID, 2)
}

// TestTwoProcessesOneFile runs a second writer in a child process (this
// test binary re-executed) while this process writes too: SQLite's file
// locks, not Go's, keep them apart.
func TestTwoProcessesOneFile(t *testing.T) {
	path, listID := seed(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperWriter$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnvPath+"="+path, helperEnvList+"="+strconv.FormatInt(listID, 10))
	out := make(chan error, 1)
	var output []byte
	go func() {
		var err error
		output, err = cmd.CombinedOutput()
		out <- err
	}()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := hammer(t.Context(), db, listID, "parent"); err != nil {
		t.Errorf("parent: %v", err)
	}
	if err := <-out; err != nil {
		t.Fatalf("child writer: %v\n%s", err, output)
	}
	checkTotals(t, path, listID, 2)
}

// TestHelperWriter is the child of TestTwoProcessesOneFile; it does
// nothing in a normal run.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperEnvPath)
	if path == "" {
		t.Skip("helper process for TestTwoProcessesOneFile")
	}
	listID, err := strconv.ParseInt(os.Getenv(helperEnvList), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := hammer(t.Context(), db, listID, "child"); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentOpen opens one new file from several goroutines at once,
// as processes starting together would: each must succeed, and the
// migrations must be applied once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	const handles = 6
	var wg sync.WaitGroup
	for i := range handles {
		wg.Go(func() {
			db, err := Open(t.Context(), path)
			if err != nil {
				t.Errorf("handle %d: %v", i, err)
				return
			}
			defer db.Close()
			if err := db.CreateDomain(t.Context(), store.Domain{Name: fmt.Sprintf("d%d.example", i)}); err != nil {
				t.Errorf("handle %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.ListDomains(t.Context())
	if err != nil || len(ds) != handles {
		t.Errorf("ListDomains = %d domains, %v; want %d", len(ds), err, handles)
	}
}

// TestMembersVersionAcrossHandles: a change made through one handle (the
// CLI, a second process) on the same file moves the version another
// handle (herald serve, which keeps recipients in memory under it) reads.
func TestMembersVersionAcrossHandles(t *testing.T) {
	path, listID := seed(t)
	ctx := t.Context()
	open := func() *DB {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	version := func() int64 {
		v, ok, err := a.MembersVersion(ctx, listID)
		if err != nil || !ok {
			t.Fatalf("MembersVersion: %v, %v", ok, err)
		}
		return v
	}
	v := version()
	m := store.DefaultMember(listID, "m@example.net", store.RoleMember)
	if err := b.AddMember(ctx, &m); err != nil {
		t.Fatal(err)
	}
	if w := version(); w == v {
		t.Error("an add through the other handle left the version as it was")
	} else {
		v = w
	}
	if err := b.RemoveMember(ctx, listID, m.Email, store.RoleMember); err != nil {
		t.Fatal(err)
	}
	if version() == v {
		t.Error("a removal through the other handle left the version as it was")
	}
}
