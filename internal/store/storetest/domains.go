package storetest

import (
	"slices"
	"testing"

	"herald/internal/store"
)

func testDomains(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	must(t, s.CreateDomain(c, store.Domain{Name: "b.example", Description: "B"}), "create b")
	must(t, s.CreateDomain(c, store.Domain{Name: "A.Example"}), "create a")

	create := []struct {
		name string
		d    store.Domain
		want error
	}{
		{"new", store.Domain{Name: "c.example"}, nil},
		{"duplicate", store.Domain{Name: "b.example"}, store.ErrConflict},
		{"duplicate other case", store.Domain{Name: "B.EXAMPLE"}, store.ErrConflict},
	}
	for _, tc := range create {
		t.Run("create "+tc.name, func(t *testing.T) {
			wantErr(t, s.CreateDomain(c, tc.d), tc.want, "CreateDomain")
		})
	}

	get := []struct {
		name, domain, wantName, wantDesc string
		want                             error
	}{
		{"exact", "b.example", "b.example", "B", nil},
		{"normalized", "a.example", "a.example", "", nil},
		{"upper case lookup", "B.Example", "b.example", "B", nil},
		{"absent", "nope.example", "", "", store.ErrNotFound},
	}
	for _, tc := range get {
		t.Run("get "+tc.name, func(t *testing.T) {
			d, err := s.GetDomain(c, tc.domain)
			wantErr(t, err, tc.want, "GetDomain")
			if tc.want != nil || err != nil {
				return
			}
			if d.Name != tc.wantName || d.Description != tc.wantDesc {
				t.Errorf("GetDomain = %+v, want name %q description %q", d, tc.wantName, tc.wantDesc)
			}
			recent(t, d.Created, "Created")
		})
	}

	t.Run("list sorted", func(t *testing.T) {
		ds, err := s.ListDomains(c)
		must(t, err, "ListDomains")
		var names []string
		for _, d := range ds {
			names = append(names, d.Name)
		}
		if want := []string{"a.example", "b.example", "c.example"}; !slices.Equal(names, want) {
			t.Errorf("ListDomains = %v, want %v", names, want)
		}
	})

	t.Run("delete", func(t *testing.T) {
		l := &store.List{Name: "dev", Domain: "b.example"}
		must(t, s.CreateList(c, l), "create list")
		wantErr(t, s.DeleteDomain(c, "b.example"), store.ErrConflict, "delete domain with list")
		wantErr(t, s.DeleteDomain(c, "nope.example"), store.ErrNotFound, "delete absent domain")
		must(t, s.DeleteList(c, l.ID), "delete list")
		wantErr(t, s.DeleteDomain(c, "B.example"), nil, "delete emptied domain")
		_, err := s.GetDomain(c, "b.example")
		wantErr(t, err, store.ErrNotFound, "get deleted domain")
		wantErr(t, s.DeleteDomain(c, "b.example"), store.ErrNotFound, "delete twice")
	})

	t.Run("empty", func(t *testing.T) {
		ds, err := open2(t, open).ListDomains(c)
		must(t, err, "ListDomains")
		if len(ds) != 0 {
			t.Errorf("empty store has domains %v", ds)
		}
	})
}

// open2 opens a second, separate fresh store.
func open2(t *testing.T, open Opener) store.Store { return fresh(t, open) }
