package storetest

import (
	"errors"
	"slices"
	"testing"

	"herald/internal/store"
)

// testRecipients checks EachRecipient against EachMember's filter: only
// role member, delivery enabled, regular mode; the flags and, for the
// personal walk, the personal fields.
func testRecipients(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "other", Domain: "example.org", Settings: store.DefaultSettings("other")}
	must(t, s.CreateList(c, other), "create other list")
	add := func(listID int64, email string, role store.Role, tweak func(*store.Member)) {
		m := store.DefaultMember(listID, email, role)
		m.DisplayName = "Name " + email
		if tweak != nil {
			tweak(&m)
		}
		must(t, s.AddMember(c, &m), "add "+email)
	}
	add(l.ID, "Alice@Example.com", store.RoleMember, nil)
	add(l.ID, "own@example.com", store.RoleMember, func(m *store.Member) { m.ReceiveOwnPostings = false })
	add(l.ID, "nocopy@example.net", store.RoleMember, func(m *store.Member) { m.ReceiveListCopy = false; m.Language = "de" })
	add(l.ID, "off@example.com", store.RoleMember, func(m *store.Member) { m.DeliveryStatus = store.DeliveryByUser })
	add(l.ID, "digest@example.com", store.RoleMember, func(m *store.Member) { m.DeliveryMode = store.ModeMIMEDigest })
	add(l.ID, "owner@example.com", store.RoleOwner, nil)
	add(l.ID, "poster@example.com", store.RoleNonmember, nil)
	add(other.ID, "elsewhere@example.com", store.RoleMember, nil)
	add(l.ID, "late@example.org", store.RoleMember, nil)

	for _, personal := range []bool{false, true} {
		got := map[string]store.Recipient{}
		must(t, s.EachRecipient(c, l.ID, personal, func(r *store.Recipient) error {
			got[r.Email] = *r
			return nil
		}), "EachRecipient")
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"alice@example.com", "late@example.org", "nocopy@example.net", "own@example.com"}; !slices.Equal(keys, want) {
			t.Fatalf("personal=%v: recipients %v, want %v", personal, keys, want)
		}
		if r := got["own@example.com"]; r.ReceiveOwnPostings || !r.ReceiveListCopy {
			t.Errorf("own: %+v", r)
		}
		if r := got["nocopy@example.net"]; !r.ReceiveOwnPostings || r.ReceiveListCopy {
			t.Errorf("nocopy: %+v", r)
		}
		m, err := s.GetMember(c, l.ID, "nocopy@example.net", store.RoleMember)
		must(t, err, "GetMember")
		r := got["nocopy@example.net"]
		switch {
		case personal && (r.DisplayName != "Name nocopy@example.net" || r.Token != m.Token || r.Language != "de"):
			t.Errorf("personal walk: %+v, member %+v", r, m)
		case !personal && (r.DisplayName != "" || r.Token != "" || r.Language != ""):
			t.Errorf("plain walk filled personal fields: %+v", r)
		}
	}

	// An address with a line break (the store does not forbid one) comes
	// out whole all the same.
	add(other.ID, "odd\nline@example.com", store.RoleMember, nil)
	var others []string
	must(t, s.EachRecipient(c, other.ID, false, func(r *store.Recipient) error {
		others = append(others, r.Email)
		return nil
	}), "EachRecipient of other")
	slices.Sort(others)
	if want := []string{"elsewhere@example.com", "odd\nline@example.com"}; !slices.Equal(others, want) {
		t.Errorf("other list: %q, want %q", others, want)
	}

	stop := errors.New("stop")
	n := 0
	err := s.EachRecipient(c, l.ID, false, func(*store.Recipient) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("walk stopped by fn: err %v after %d calls", err, n)
	}
	must(t, s.EachRecipient(c, 999999, false, func(*store.Recipient) error {
		t.Error("recipient of a list that does not exist")
		return nil
	}), "EachRecipient of an unknown list")
}
