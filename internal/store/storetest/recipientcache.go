package storetest

import (
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

// testRecipientCache makes the store keep every walk, then changes the
// membership every way the store can and checks that the next walk
// shows each change: whatever the store remembers must never outlive a
// change to the list.
func testRecipientCache(t *testing.T, open Opener) {
	s := fresh(t, open)
	rc, ok := s.(interface{ SetRecipientCache(min, limitBytes int) })
	if !ok {
		t.Skip("the store keeps no recipient walks")
	}
	rc.SetRecipientCache(1, 1<<20)
	c := ctx(t)
	l := setup(t, s)
	walk := func(step string, want ...string) {
		t.Helper()
		for range 2 { // the first walk may fill the cache, the second reads it
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

	// The flags come with the walk: a change of one must show too.
	m.ReceiveOwnPostings = false
	must(t, s.UpdateMember(c, m), "b's receive_own_postings")
	var own bool
	must(t, s.EachRecipient(c, l.ID, false, func(r *store.Recipient) error {
		if r.Email == "b@example.com" {
			own = r.ReceiveOwnPostings
		}
		return nil
	}), "EachRecipient")
	if own {
		t.Error("receive_own_postings turned off does not show in the walk")
	}

	ev := &store.BounceEvent{ListID: l.ID, Email: "c@example.com", Permanent: true, Source: "probe", At: time.Now()}
	must(t, s.RecordBounce(c, ev), "RecordBounce")
	_, err = s.DisableByBounces(c, l.ID, "c@example.com", time.Now(), ev.ID)
	must(t, err, "DisableByBounces")
	walk("disabled by bounces", "b@example.com", "d@example.com")

	// A list deleted and made again (SQLite may give it the same id)
	// starts empty.
	must(t, s.DeleteList(c, l.ID), "delete list")
	l2 := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	must(t, s.CreateList(c, l2), "create list again")
	l = l2
	walk("the list made again")
	add("e@example.com")
	walk("an add to the new list", "e@example.com")
}
