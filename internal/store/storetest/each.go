package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"herald/internal/store"
)

func testEachMember(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	emails := []string{"zoe@example.net", "Bob@example.net", "alice@example.com", "mallory@b.example", "carol@a.example"}
	for _, e := range emails {
		m := store.DefaultMember(l.ID, e, store.RoleMember)
		must(t, s.AddMember(c, &m), "add "+e)
	}
	for _, e := range []string{"owner@example.org", "bob@example.net"} {
		m := store.DefaultMember(l.ID, e, store.RoleOwner)
		must(t, s.AddMember(c, &m), "add owner "+e)
	}

	walk := func(role store.Role) ([]string, error) {
		var got []string
		err := s.EachMember(c, l.ID, role, func(m *store.Member) error {
			if m.ListID != l.ID || m.ID == 0 || m.Token == "" {
				return fmt.Errorf("incomplete member %+v", m)
			}
			if role != "" && m.Role != role {
				return fmt.Errorf("role %q in walk of %q", m.Role, role)
			}
			got = append(got, string(m.Role)+":"+m.Email)
			return nil
		})
		return got, err
	}
	cases := []struct {
		name string
		role store.Role
		want []string
	}{
		{"members", store.RoleMember, []string{"member:alice@example.com", "member:bob@example.net",
			"member:carol@a.example", "member:mallory@b.example", "member:zoe@example.net"}},
		{"owners", store.RoleOwner, []string{"owner:bob@example.net", "owner:owner@example.org"}},
		{"none", store.RoleModerator, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := walk(tc.role)
			must(t, err, "EachMember")
			if !slices.Equal(got, tc.want) {
				t.Errorf("EachMember(%q) = %v, want %v", tc.role, got, tc.want)
			}
		})
	}
	t.Run("all roles by email", func(t *testing.T) {
		got, err := walk("")
		must(t, err, "EachMember")
		var order []string
		for _, g := range got {
			_, e, _ := strings.Cut(g, ":")
			order = append(order, e)
		}
		if len(got) != 7 || !slices.IsSorted(order) {
			t.Errorf("EachMember(all) = %v, want 7 sorted by email", got)
		}
	})
	t.Run("error stops walk", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := s.EachMember(c, l.ID, "", func(*store.Member) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Errorf("EachMember = %v after %d calls, want stop after 2", err, n)
		}
	})
	t.Run("store usable inside walk", func(t *testing.T) {
		err := s.EachMember(c, l.ID, store.RoleMember, func(m *store.Member) error {
			got, err := s.GetMember(c, l.ID, m.Email, m.Role)
			if err != nil {
				return err
			}
			got.Language = "de"
			return s.UpdateMember(c, got)
		})
		must(t, err, "EachMember with nested calls")
		m, err := s.GetMember(c, l.ID, "zoe@example.net", store.RoleMember)
		must(t, err, "GetMember")
		if m.Language != "de" {
			t.Errorf("update inside walk lost: %+v", m)
		}
	})
	t.Run("unknown list", func(t *testing.T) {
		n := 0
		must(t, s.EachMember(c, l.ID+1000, "", func(*store.Member) error { n++; return nil }), "EachMember unknown list")
		if n != 0 {
			t.Errorf("unknown list walked %d members", n)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cc, cancel := context.WithCancel(c)
		cancel()
		err := s.EachMember(cc, l.ID, "", func(*store.Member) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("EachMember with cancelled context = %v, want context.Canceled", err)
		}
	})
}
