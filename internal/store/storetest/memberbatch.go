package storetest

import (
	"slices"
	"testing"

	"herald/internal/store"
)

// testMemberBatches: AddMembers adds like AddMember, skips (without
// failing) what exists already or repeats, and adds nothing on error.
func testMemberBatches(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	old := store.DefaultMember(l.ID, "old@example.com", store.RoleMember)
	must(t, s.AddMember(c, &old), "add old")

	batch := func(emails ...string) []*store.Member {
		var ms []*store.Member
		for _, e := range emails {
			m := store.DefaultMember(l.ID, e, store.RoleMember)
			m.DisplayName = "N " + e
			ms = append(ms, &m)
		}
		return ms
	}
	ms := batch("New@Example.com", "old@example.com", "second@example.net", "new@example.com")
	ms[2].ReceiveListCopy = false
	ms[2].Token = "fixedtoken"
	added, err := s.AddMembers(c, ms)
	must(t, err, "AddMembers")
	if want := []bool{true, false, true, false}; !slices.Equal(added, want) {
		t.Errorf("added %v, want %v", added, want)
	}
	if ms[0].ID == 0 || ms[0].Email != "new@example.com" || len(ms[0].Token) != 32 {
		t.Errorf("added member not filled in: %+v", ms[0])
	}
	recent(t, ms[0].Created, "Created")
	got, err := s.GetMember(c, l.ID, "second@example.net", store.RoleMember)
	must(t, err, "GetMember")
	if got.ReceiveListCopy || got.Token != "fixedtoken" || got.DisplayName != "N second@example.net" || got.ID != ms[2].ID {
		t.Errorf("stored %+v", got)
	}
	n, err := s.CountMembers(c, l.ID, store.RoleMember)
	must(t, err, "CountMembers")
	if n != 3 {
		t.Errorf("%d members, want 3", n)
	}

	// An owner role for a member's address is a new row, not a conflict.
	owner := store.DefaultMember(l.ID, "new@example.com", store.RoleOwner)
	added, err = s.AddMembers(c, []*store.Member{&owner})
	must(t, err, "AddMembers owner")
	if !added[0] {
		t.Error("owner role of a member not added")
	}

	bad := batch("x1@example.com", "x2@example.com")
	bad[1].ListID = 999999
	_, err = s.AddMembers(c, bad)
	wantErr(t, err, store.ErrNotFound, "AddMembers to a list that does not exist")
	if _, err := s.GetMember(c, l.ID, "x1@example.com", store.RoleMember); err == nil || bad[0].ID != 0 {
		t.Errorf("a failed batch added x1 (ID %d, lookup err %v)", bad[0].ID, err)
	}
	empty := batch("")
	if _, err := s.AddMembers(c, empty); err == nil {
		t.Error("AddMembers with an empty address succeeded")
	}
	if added, err := s.AddMembers(c, nil); err != nil || len(added) != 0 {
		t.Errorf("AddMembers(nil) = %v, %v", added, err)
	}
}
