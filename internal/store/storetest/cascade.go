package storetest

import (
	"testing"

	"herald/internal/store"
)

func testCascade(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	keep := &store.List{Name: "users", Domain: "example.org"}
	must(t, s.CreateList(c, keep), "create users")
	for _, list := range []int64{l.ID, keep.ID} {
		for _, e := range []string{"alice@example.com", "bob@example.net"} {
			m := store.DefaultMember(list, e, store.RoleMember)
			must(t, s.AddMember(c, &m), "AddMember")
		}
		must(t, s.HoldMessage(c, &store.Held{ListID: list, Subject: "held", Message: []byte("m")}), "HoldMessage")
	}
	held, err := s.ListHeld(c, l.ID)
	must(t, err, "ListHeld")

	must(t, s.DeleteList(c, l.ID), "DeleteList")

	n, err := s.CountMembers(c, l.ID, "")
	must(t, err, "CountMembers")
	if n != 0 {
		t.Errorf("deleted list still has %d members", n)
	}
	_, err = s.GetMember(c, l.ID, "alice@example.com", store.RoleMember)
	wantErr(t, err, store.ErrNotFound, "member of deleted list")
	_, err = s.GetHeld(c, l.ID, held[0].ID)
	wantErr(t, err, store.ErrNotFound, "held message of deleted list")
	hs, err := s.ListHeld(c, l.ID)
	must(t, err, "ListHeld")
	if len(hs) != 0 {
		t.Errorf("deleted list still has %d held messages", len(hs))
	}

	n, err = s.CountMembers(c, keep.ID, "")
	must(t, err, "CountMembers")
	hs, err = s.ListHeld(c, keep.ID)
	must(t, err, "ListHeld")
	if n != 2 || len(hs) != 1 {
		t.Errorf("other list lost rows: %d members, %d held", n, len(hs))
	}
	_, err = s.GetAddress(c, "alice@example.com")
	must(t, err, "addresses outlive the list")

	// A list of the same name can be created again and starts empty.
	again := &store.List{Name: "dev", Domain: "example.org"}
	must(t, s.CreateList(c, again), "re-create list")
	if n, _ := s.CountMembers(c, again.ID, ""); n != 0 || again.ID == l.ID && n != 0 {
		t.Errorf("re-created list has %d members", n)
	}
}
