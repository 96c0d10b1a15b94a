package storetest

import (
	"encoding/hex"
	"reflect"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

func testMembers(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "users", Domain: "example.org"}
	must(t, s.CreateList(c, other), "create users")

	alice := store.DefaultMember(l.ID, "Alice@Example.COM", store.RoleMember)
	alice.DisplayName = "Alice"
	must(t, s.AddMember(c, &alice), "add alice")
	t.Run("add sets fields", func(t *testing.T) {
		if alice.ID == 0 || alice.Email != "alice@example.com" {
			t.Errorf("after AddMember: ID %d Email %q", alice.ID, alice.Email)
		}
		if b, err := hex.DecodeString(alice.Token); err != nil || len(b) != 16 {
			t.Errorf("Token %q is not 32 hex characters", alice.Token)
		}
		recent(t, alice.Created, "Created")
	})

	add := []struct {
		name string
		m    store.Member
		want error
	}{
		{"second role", store.DefaultMember(l.ID, "alice@example.com", store.RoleOwner), nil},
		{"third role", store.DefaultMember(l.ID, "alice@example.com", store.RoleModerator), nil},
		{"other list", store.DefaultMember(other.ID, "alice@example.com", store.RoleMember), nil},
		{"other address", store.DefaultMember(l.ID, "bob@example.net", store.RoleMember), nil},
		{"nonmember", store.DefaultMember(l.ID, "carol@example.net", store.RoleNonmember), nil},
		{"given token", func() store.Member {
			m := store.DefaultMember(l.ID, "dave@example.net", store.RoleMember)
			m.Token = "given-token"
			return m
		}(), nil},
		{"duplicate", store.DefaultMember(l.ID, "alice@example.com", store.RoleMember), store.ErrConflict},
		{"duplicate other case", store.DefaultMember(l.ID, " ALICE@example.com", store.RoleMember), store.ErrConflict},
		{"duplicate token", func() store.Member {
			m := store.DefaultMember(l.ID, "erin@example.net", store.RoleMember)
			m.Token = "given-token"
			return m
		}(), store.ErrConflict},
		{"unknown list", store.DefaultMember(l.ID+1000, "alice@example.com", store.RoleMember), store.ErrNotFound},
	}
	for _, tc := range add {
		t.Run("add "+tc.name, func(t *testing.T) {
			m := tc.m
			wantErr(t, s.AddMember(c, &m), tc.want, "AddMember")
		})
	}
	t.Run("add invalid", func(t *testing.T) {
		bad := []store.Member{
			store.DefaultMember(l.ID, "frank@example.net", "admin"),
			store.DefaultMember(l.ID, "frank@example.net", ""),
			store.DefaultMember(l.ID, "", store.RoleMember),
		}
		for _, m := range bad {
			if err := s.AddMember(c, &m); err == nil {
				t.Errorf("AddMember(%q, %q) succeeded", m.Email, m.Role)
			}
		}
	})
	t.Run("distinct tokens", func(t *testing.T) {
		seen := map[string]bool{}
		must(t, s.EachMember(c, l.ID, "", func(m *store.Member) error {
			if seen[m.Token] {
				t.Errorf("token %q used twice", m.Token)
			}
			seen[m.Token] = true
			return nil
		}), "EachMember")
	})

	t.Run("get", func(t *testing.T) {
		got, err := s.GetMember(c, l.ID, "ALICE@example.com", store.RoleMember)
		must(t, err, "GetMember")
		if !membersEqual(*got, alice) {
			t.Errorf("GetMember =\n %+v\nwant\n %+v", *got, alice)
		}
		absent := []struct {
			name  string
			list  int64
			email string
			role  store.Role
		}{
			{"role", l.ID, "bob@example.net", store.RoleOwner},
			{"address", l.ID, "zed@example.net", store.RoleMember},
			{"list", l.ID + 1000, "alice@example.com", store.RoleMember},
		}
		for _, a := range absent {
			_, err := s.GetMember(c, a.list, a.email, a.role)
			wantErr(t, err, store.ErrNotFound, "GetMember absent "+a.name)
		}
	})

	t.Run("roles", func(t *testing.T) {
		cases := []struct {
			email string
			list  int64
			want  []store.Role
		}{
			{"alice@example.com", l.ID, []store.Role{store.RoleMember, store.RoleModerator, store.RoleOwner}},
			{"Alice@example.com", other.ID, []store.Role{store.RoleMember}},
			{"bob@example.net", l.ID, []store.Role{store.RoleMember}},
			{"zed@example.net", l.ID, nil},
		}
		for _, tc := range cases {
			ms, err := s.MemberRoles(c, tc.list, tc.email)
			must(t, err, "MemberRoles")
			var got []store.Role
			for _, m := range ms {
				got = append(got, m.Role)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("MemberRoles(%s) = %v, want %v", tc.email, got, tc.want)
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		m := alice
		m.DisplayName = "Alice Liddell"
		m.ModerationAction = "hold"
		m.DeliveryStatus = store.DeliveryByBounces
		m.DeliveryMode = store.ModeMIMEDigest
		m.ReceiveOwnPostings = false
		m.ReceiveListCopy = false
		m.AcknowledgePosts = true
		m.HideAddress = true
		m.Language = "de"
		must(t, s.UpdateMember(c, &m), "UpdateMember")
		got, err := s.GetMember(c, l.ID, m.Email, m.Role)
		must(t, err, "GetMember")
		if !membersEqual(*got, m) {
			t.Errorf("after update\n %+v\nwant\n %+v", *got, m)
		}
		owner, err := s.GetMember(c, l.ID, m.Email, store.RoleOwner)
		must(t, err, "GetMember owner")
		if owner.ModerationAction != "" || owner.Language != "en" {
			t.Errorf("update of member role changed the owner role: %+v", owner)
		}
		byKey := *got
		byKey.ID = 0
		byKey.Language = "fr"
		must(t, s.UpdateMember(c, &byKey), "UpdateMember by key")
		got, err = s.GetMember(c, l.ID, m.Email, m.Role)
		must(t, err, "GetMember")
		if got.Language != "fr" {
			t.Errorf("update by (list, email, role): Language %q, want fr", got.Language)
		}
		ghost := store.DefaultMember(l.ID, "zed@example.net", store.RoleMember)
		wantErr(t, s.UpdateMember(c, &ghost), store.ErrNotFound, "UpdateMember absent")
		ghost.ID = alice.ID + 100000
		wantErr(t, s.UpdateMember(c, &ghost), store.ErrNotFound, "UpdateMember absent id")
	})

	t.Run("count", func(t *testing.T) {
		cases := []struct {
			list int64
			role store.Role
			want int
		}{
			{l.ID, "", 6},
			{l.ID, store.RoleMember, 3},
			{l.ID, store.RoleOwner, 1},
			{l.ID, store.RoleNonmember, 1},
			{other.ID, "", 1},
			{l.ID + 1000, "", 0},
		}
		for _, tc := range cases {
			n, err := s.CountMembers(c, tc.list, tc.role)
			must(t, err, "CountMembers")
			if n != tc.want {
				t.Errorf("CountMembers(%d, %q) = %d, want %d", tc.list, tc.role, n, tc.want)
			}
		}
	})

	t.Run("address", func(t *testing.T) {
		a, err := s.GetAddress(c, "ALICE@example.com")
		must(t, err, "GetAddress")
		if a.ID == 0 || a.Email != "alice@example.com" || a.DisplayName != "Alice" || !a.Verified.IsZero() {
			t.Errorf("GetAddress = %+v", a)
		}
		recent(t, a.Created, "address Created")
		_, err = s.GetAddress(c, "zed@example.net")
		wantErr(t, err, store.ErrNotFound, "GetAddress absent")
	})

	t.Run("remove", func(t *testing.T) {
		must(t, s.RemoveMember(c, l.ID, "Alice@example.com", store.RoleOwner), "RemoveMember")
		_, err := s.GetMember(c, l.ID, "alice@example.com", store.RoleOwner)
		wantErr(t, err, store.ErrNotFound, "get removed")
		_, err = s.GetMember(c, l.ID, "alice@example.com", store.RoleMember)
		must(t, err, "other role survives")
		wantErr(t, s.RemoveMember(c, l.ID, "alice@example.com", store.RoleOwner), store.ErrNotFound, "remove twice")
		wantErr(t, s.RemoveMember(c, l.ID, "zed@example.net", store.RoleMember), store.ErrNotFound, "remove unknown address")
		_, err = s.GetAddress(c, "alice@example.com")
		must(t, err, "address survives removal")
		again := store.DefaultMember(l.ID, "alice@example.com", store.RoleOwner)
		must(t, s.AddMember(c, &again), "re-add removed role")
	})
}

// membersEqual compares members, the timestamp at microsecond precision.
func membersEqual(a, b store.Member) bool {
	if !sameTime(a.Created, b.Created) {
		return false
	}
	a.Created, b.Created = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
