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
