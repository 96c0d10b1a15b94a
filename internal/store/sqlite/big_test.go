package sqlite

import (
	"fmt"
	"testing"
	"time"

	"herald/internal/store"
	"herald/internal/store/storetest"
)

// bigList is the member count of TestEachMemberLarge.
const bigList = 100_000

// TestEachMemberLarge walks a 100,000-member list and checks that the
// walk streams: the heap must not grow with the list.
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

	// Bulk load in one transaction; AddMember's per-call commit (an
	// fsync each) is measured separately below.
	start := time.Now()
	tx, err := db.W.BeginTx(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	insAddr, err := tx.PrepareContext(c, `INSERT INTO addresses (email, created) VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	insMember, err := tx.PrepareContext(c, `INSERT INTO members (list_id, address_id, role, token, created)
		VALUES (?, ?, 'member', ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bigList {
		// Inserted in a shuffled order so the walk must really sort.
		n := (i * 7919) % bigList
		email := fmt.Sprintf("user%06d@example.net", n)
		res, err := insAddr.ExecContext(c, email, now)
		if err != nil {
			t.Fatal(err)
		}
		aid, _ := res.LastInsertId()
		if _, err := insMember.ExecContext(c, l.ID, aid, fmt.Sprintf("tok%d", n), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("bulk insert of %d members: %v", bigList, time.Since(start))

	storetest.WalkLarge(t, db, l.ID, bigList)
}

// TestAddMemberRate measures AddMember, one committed transaction each.
func TestAddMemberRate(t *testing.T) {
	storetest.SkipLarge(t)
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
	const n = 500
	start := time.Now()
	for i := range n {
		m := store.DefaultMember(l.ID, fmt.Sprintf("u%d@example.net", i), store.RoleMember)
		if err := db.AddMember(c, &m); err != nil {
			t.Fatal(err)
		}
	}
	d := time.Since(start)
	t.Logf("AddMember: %d in %v (%v each)", n, d, d/n)
}
