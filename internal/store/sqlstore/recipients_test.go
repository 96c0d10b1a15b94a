package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"herald/internal/store"

	_ "modernc.org/sqlite" // the driver only: herald's sqlite package imports this one
)

// TestRecipientSpans walks members whose ids lie far apart (several
// spans, empty spans between) and one whose address defeats the joined
// form, on a bare SQLite schema with just the columns the walk reads (the
// conformance suite cannot make 32768 members cheaply).
func TestRecipientSpans(t *testing.T) {
	ctx := context.Background()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "walk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(4)
	schema := []string{
		`CREATE TABLE addresses (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)`,
		`CREATE TABLE members (id INTEGER PRIMARY KEY, list_id INTEGER NOT NULL, address_id INTEGER NOT NULL,
			role TEXT NOT NULL, delivery_status TEXT NOT NULL, delivery_mode TEXT NOT NULL,
			receive_own_postings INTEGER NOT NULL, receive_list_copy INTEGER NOT NULL)`,
		`CREATE INDEX members_list_role ON members (list_id, role)`,
		`CREATE TABLE member_versions (list_id INTEGER PRIMARY KEY, version INTEGER NOT NULL)`,
		`INSERT INTO member_versions VALUES (1, 10), (2, 20)`,
	}
	for _, q := range schema {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]store.Recipient{}
	add := func(id int64, list int64, email string, own, cp bool) {
		if _, err := raw.ExecContext(ctx, `INSERT INTO addresses (id, email) VALUES (?, ?)`, id, email); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO members VALUES (?, ?, ?, 'member', 'enabled', 'regular', ?, ?)`,
			id, list, id, own, cp); err != nil {
			t.Fatal(err)
		}
		if list == 1 {
			want[email] = store.Recipient{Email: email, ReceiveOwnPostings: own, ReceiveListCopy: cp}
		}
	}
	for i, id := range []int64{3, 4, recipientSpan + 2, 5*recipientSpan + 7, 9*recipientSpan + 1, 9*recipientSpan + 2} {
		add(id, 1, fmt.Sprintf("m%d@example.com", i), i%2 == 0, i%3 != 0)
	}
	add(2*recipientSpan, 2, "other-list@example.com", true, true)
	add(5*recipientSpan+9, 1, "line\nbreak@example.com", true, false)

	db := New(raw, raw, Dialect{Name: "sqlite", IsUnique: func(error) bool { return false },
		IsForeignKey: func(error) bool { return false }})
	got := map[string]store.Recipient{}
	if err := db.EachRecipient(ctx, 1, false, func(r *store.Recipient) error {
		if _, dup := got[r.Email]; dup {
			t.Errorf("%q twice", r.Email)
		}
		got[r.Email] = *r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("walked %d, want %d", len(got), len(want))
	}
	for e, w := range want {
		if got[e] != w {
			t.Errorf("%q: got %+v, want %+v", e, got[e], w)
		}
	}

	stop := errors.New("stop")
	var seen []string
	err = db.EachRecipient(ctx, 1, false, func(r *store.Recipient) error {
		seen = append(seen, r.Email)
		if len(seen) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 3 {
		t.Errorf("stopped walk: err %v after %v", err, seen)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.EachRecipient(cctx, 1, false, func(*store.Recipient) error { return nil }); err == nil {
		t.Error("walk with a cancelled context succeeded")
	}
}

// TestRecipientCache checks that a kept walk is used while the list's
// version stands (the rows changed behind the version's back do not show)
// and walked again once it moves; that a walk stopped by fn is not kept;
// and that the byte limit drops the least recently used list.
func TestRecipientCache(t *testing.T) {
	ctx := context.Background()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE addresses (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)`)
	exec(`CREATE TABLE members (id INTEGER PRIMARY KEY, list_id INTEGER NOT NULL, address_id INTEGER NOT NULL,
		role TEXT NOT NULL, delivery_status TEXT NOT NULL, delivery_mode TEXT NOT NULL,
		receive_own_postings INTEGER NOT NULL, receive_list_copy INTEGER NOT NULL)`)
	exec(`CREATE TABLE member_versions (list_id INTEGER PRIMARY KEY, version INTEGER NOT NULL)`)
	exec(`INSERT INTO member_versions VALUES (1, 1), (2, 1), (3, 1)`)
	for id := int64(1); id <= 9; id++ {
		exec(`INSERT INTO addresses VALUES (?, ?)`, id, fmt.Sprintf("m%d@example.com", id))
		exec(`INSERT INTO members VALUES (?, ?, ?, 'member', 'enabled', 'regular', 1, 1)`, id, (id-1)/3+1, id)
	}
	db := New(raw, raw, Dialect{Name: "sqlite", IsUnique: func(error) bool { return false },
		IsForeignKey: func(error) bool { return false }})
	db.SetRecipientCache(1, 1<<20)
	walk := func(list int64) int {
		t.Helper()
		n := 0
		if err := db.EachRecipient(ctx, list, false, func(*store.Recipient) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := walk(1); n != 3 {
		t.Fatalf("first walk: %d recipients, want 3", n)
	}
	exec(`DELETE FROM members WHERE id = 1`) // no version change: the kept walk stands
	if n := walk(1); n != 3 {
		t.Errorf("walk at the same version: %d recipients, want the 3 kept", n)
	}
	exec(`UPDATE member_versions SET version = 2 WHERE list_id = 1`)
	if n := walk(1); n != 2 {
		t.Errorf("walk at a new version: %d recipients, want 2", n)
	}

	stop := errors.New("stop")
	if err := db.EachRecipient(ctx, 2, false, func(*store.Recipient) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("stopped walk: %v", err)
	}
	exec(`DELETE FROM members WHERE id = 4`)
	if n := walk(2); n != 2 {
		t.Errorf("walk after a stopped one: %d recipients, want 2 (a stopped walk is not kept)", n)
	}

	// Room for about two lists: walking a third drops the one used least
	// recently (list 1, as list 2 was just walked).
	db.SetRecipientCache(1, 2*(len("m1@example.com\nm2@example.com\nm3@example.com")+spanOverhead))
	walk(1)
	walk(2)
	walk(3)
	_, has1 := db.recipients.walks.Get(1)
	_, has3 := db.recipients.walks.Get(3)
	if bytes, limit := db.recipients.walks.Bytes(), db.recipients.walks.Limit(); has1 || !has3 || bytes > limit {
		t.Errorf("after three lists in room for two: list 1 kept %v, list 3 kept %v, %d bytes of %d", has1, has3, bytes, limit)
	}
}
