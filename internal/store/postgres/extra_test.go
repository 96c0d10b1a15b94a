package postgres

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/store"
	"herald/internal/store/migrate"
	"herald/internal/store/storetest"
	"herald/internal/testutil/pgtest"
)

// TestConcurrentOpen starts several "nodes" on one empty database at
// once: the advisory lock must let exactly one apply each migration.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewSchema(t)
	const nodes = 6
	var wg sync.WaitGroup
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
			continue
		}
		defer dbs[i].Close()
	}
	if t.Failed() {
		return
	}
	migs, err := migrate.Load(Migrations())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dbs[0].R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migs) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migs))
	}
}

// TestStoreOpen checks the opener registered with store.Open.
func TestStoreOpen(t *testing.T) {
	url := pgtest.NewSchema(t)
	for _, u := range []string{url, strings.Replace(url, "postgres://", "postgresql://", 1)} {
		s, err := store.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("store.Open(%s): %v", u, err)
		}
		if _, ok := s.(*DB); !ok {
			t.Errorf("store.Open returned %T", s)
		}
		_, err = s.GetDomain(t.Context(), "example.org")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetDomain: %v, want ErrNotFound", err)
		}
		s.Close()
	}
	if _, err := store.Open(t.Context(), "postgres://127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("store.Open of a closed port succeeded")
	}
}

// TestSettingsJSONEvolves: unknown JSONB keys are ignored, absent ones
// take defaults.
func TestSettingsJSONEvolves(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	c := t.Context()
	if err := db.CreateDomain(c, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org"}
	if err := db.CreateList(c, l); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(c, `UPDATE lists SET settings = $1 WHERE id = $2`,
		`{"emergency": true, "no_such_setting": [1, 2]}`, l.ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetListByID(c, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.DefaultSettings("dev")
	want.Emergency = true
	if fmt.Sprint(got.Settings.Map()) != fmt.Sprint(want.Map()) {
		t.Errorf("settings = %v, want %v", got.Settings.Map(), want.Map())
	}
}

// TestTwoHandles writes through two pools at once, as two nodes do.
func TestTwoHandles(t *testing.T) {
	url := pgtest.NewSchema(t)
	a, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := t.Context()
	if err := a.CreateDomain(c, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org"}
	if err := a.CreateList(c, l); err != nil {
		t.Fatal(err)
	}
	const per = 100
	var wg sync.WaitGroup
	for i, db := range []*DB{a, b, a, b} {
		wg.Go(func() {
			for j := range per {
				m := store.DefaultMember(l.ID, fmt.Sprintf("n%d-%d@example.net", i, j), store.RoleMember)
				if err := db.AddMember(c, &m); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
				if _, err := db.NextPostID(c, l.ID, time.Now()); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, err := b.CountMembers(c, l.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.GetListByID(c, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4*per || got.PostID != 4*per {
		t.Errorf("%d members, post id %d; want %d of each", n, got.PostID, 4*per)
	}
}

// TestEachMemberLarge walks 100,000 members streaming from PostgreSQL.
func TestEachMemberLarge(t *testing.T) {
	storetest.SkipLarge(t)
	db := openTemp(t)
	defer db.Close()
	c := t.Context()
	if err := db.CreateDomain(c, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "big", Domain: "example.org"}
	if err := db.CreateList(c, l); err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	start := time.Now()
	// Shuffled insertion order, so the walk really has to sort.
	if _, err := db.W.ExecContext(c, `INSERT INTO addresses (email, created)
		SELECT format('user%s@example.net', lpad(((i * 7919) % $1)::text, 6, '0')), now()
		FROM generate_series(0, $1 - 1) i`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(c, `INSERT INTO members (list_id, address_id, role, token, created)
		SELECT $1, id, 'member', 'tok' || id, now() FROM addresses`, l.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("bulk insert: %v", time.Since(start))
	storetest.WalkLarge(t, db, l.ID, n)
}
