package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

// memberVersioner is a store that versions memberships (sqlstore):
// delivery keeps big lists' recipients in memory under the version.
type memberVersioner interface {
	MembersVersion(ctx context.Context, listID int64) (int64, bool, error)
	BigLists(ctx context.Context, min int) ([]int64, error)
}

// testMemberVersions changes a membership every way the store can and
// checks that each change moves the list's version (what delivery keeps
// in memory must never outlive a change) and shows in the walk; that a
// list deleted and made again never has a version seen before; and
// BigLists.
func testMemberVersions(t *testing.T, open Opener) {
	s := fresh(t, open)
	mv, ok := s.(memberVersioner)
	if !ok {
		t.Skip("the store has no membership versions")
	}
	c := ctx(t)
	l := setup(t, s)
	seen := map[int64]bool{}
	version := func(step string) {
		t.Helper()
		v, ok, err := mv.MembersVersion(c, l.ID)
		must(t, err, "MembersVersion")
		if !ok {
			t.Fatalf("after %s: the list has no version", step)
		}
		if seen[v] {
			t.Fatalf("after %s: version %d seen before", step, v)
		}
		seen[v] = true
	}
	walk := func(step string, want ...string) {
		t.Helper()
		version(step)
		var got []string
		must(t, s.EachRecipient(c, l.ID, false, func(r *store.Recipient) error {
			got = append(got, r.Email)
			return nil
		}), "EachRecipient")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("after %s: recipients %q, want %q", step, got, want)
		}
	}
	add := func(email string) {
		m := store.DefaultMember(l.ID, email, store.RoleMember)
		must(t, s.AddMember(c, &m), "add "+email)
	}
	walk("nothing")
	add("a@example.com")
	add("b@example.com")
	walk("two adds", "a@example.com", "b@example.com")

	batch := []*store.Member{}
	for _, e := range []string{"c@example.com", "d@example.com"} {
		m := store.DefaultMember(l.ID, e, store.RoleMember)
		batch = append(batch, &m)
	}
	_, err := s.AddMembers(c, batch)
	must(t, err, "AddMembers")
	walk("a batch", "a@example.com", "b@example.com", "c@example.com", "d@example.com")

	must(t, s.RemoveMember(c, l.ID, "a@example.com", store.RoleMember), "remove a")
	walk("a removal", "b@example.com", "c@example.com", "d@example.com")

	m, err := s.GetMember(c, l.ID, "b@example.com", store.RoleMember)
	must(t, err, "get b")
	m.DeliveryStatus = store.DeliveryByUser
	must(t, s.UpdateMember(c, m), "disable b")
	walk("delivery disabled", "c@example.com", "d@example.com")
	m.DeliveryStatus = store.DeliveryEnabled
	m.DeliveryMode = store.ModeMIMEDigest
	must(t, s.UpdateMember(c, m), "b to digests")
	walk("digest mode", "c@example.com", "d@example.com")
	m.DeliveryMode = store.ModeRegular
	must(t, s.UpdateMember(c, m), "b back to regular")
	walk("back to regular", "b@example.com", "c@example.com", "d@example.com")
	m.ReceiveOwnPostings = false // the flags come with the walk
	must(t, s.UpdateMember(c, m), "b's receive_own_postings")
	version("receive_own_postings turned off")
	m.ReceiveListCopy = false
	must(t, s.UpdateMember(c, m), "b's receive_list_copy")
	version("receive_list_copy turned off")

	ev := &store.BounceEvent{ListID: l.ID, Email: "c@example.com", Permanent: true, Source: "probe", At: time.Now()}
	must(t, s.RecordBounce(c, ev), "RecordBounce")
	_, err = s.DisableByBounces(c, l.ID, "c@example.com", time.Now(), ev.ID)
	must(t, err, "DisableByBounces")
	walk("disabled by bounces", "b@example.com", "d@example.com")

	big, err := mv.BigLists(c, 2)
	must(t, err, "BigLists")
	if !slices.Equal(big, []int64{l.ID}) {
		t.Errorf("BigLists(2) = %v, want [%d]", big, l.ID)
	}
	if big, err = mv.BigLists(c, 3); err != nil || len(big) != 0 {
		t.Errorf("BigLists(3) = %v, %v; want none", big, err)
	}

	// A list deleted and made again (SQLite may give it the same id)
	// starts empty, at a version never seen.
	must(t, s.DeleteList(c, l.ID), "delete list")
	if _, ok, err := mv.MembersVersion(c, l.ID); err != nil || ok {
		t.Errorf("a deleted list's version: ok %v, err %v", ok, err)
	}
	l2 := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	must(t, s.CreateList(c, l2), "create list again")
	l = l2
	walk("the list made again")
	add("e@example.com")
	walk("an add to the new list", "e@example.com")
}
