package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

func testLists(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	must(t, s.CreateDomain(c, store.Domain{Name: "example.org"}), "create domain")
	must(t, s.CreateDomain(c, store.Domain{Name: "example.com"}), "create domain")
	dev := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	must(t, s.CreateList(c, dev), "create dev")
	if dev.ID == 0 {
		t.Fatal("CreateList left ID 0")
	}
	recent(t, dev.Created, "Created")

	create := []struct {
		name string
		l    store.List
		want error
	}{
		{"other list", store.List{Name: "users", Domain: "example.org"}, nil},
		{"same name other domain", store.List{Name: "dev", Domain: "example.com"}, nil},
		{"upper case", store.List{Name: "Announce", Domain: "EXAMPLE.org"}, nil},
		{"duplicate", store.List{Name: "dev", Domain: "example.org"}, store.ErrConflict},
		{"duplicate other case", store.List{Name: "DEV", Domain: "Example.Org"}, store.ErrConflict},
		{"unknown domain", store.List{Name: "dev", Domain: "nope.example"}, store.ErrNotFound},
	}
	for _, tc := range create {
		t.Run("create "+tc.name, func(t *testing.T) {
			l := tc.l
			wantErr(t, s.CreateList(c, &l), tc.want, "CreateList")
		})
	}

	t.Run("zero settings get defaults", func(t *testing.T) {
		l, err := s.GetList(c, "users", "example.org")
		must(t, err, "GetList")
		if !reflect.DeepEqual(l.Settings, store.DefaultSettings("users")) {
			t.Errorf("settings = %+v, want defaults", l.Settings)
		}
	})

	get := []struct {
		name, list, domain string
		want               error
	}{
		{"exact", "dev", "example.org", nil},
		{"upper case", "DEV", "Example.ORG", nil},
		{"normalized at create", "announce", "example.org", nil},
		{"absent list", "nope", "example.org", store.ErrNotFound},
		{"absent domain", "dev", "nope.example", store.ErrNotFound},
	}
	for _, tc := range get {
		t.Run("get "+tc.name, func(t *testing.T) {
			l, err := s.GetList(c, tc.list, tc.domain)
			wantErr(t, err, tc.want, "GetList")
			if err == nil && (l.Name != norm(tc.list) || l.Domain != norm(tc.domain)) {
				t.Errorf("GetList = %s, want %s@%s", l.Address(), tc.list, tc.domain)
			}
		})
	}

	t.Run("get by id", func(t *testing.T) {
		l, err := s.GetListByID(c, dev.ID)
		must(t, err, "GetListByID")
		if l.ID != dev.ID || l.Address() != "dev@example.org" || !sameTime(l.Created, dev.Created) || l.PostID != 0 || !l.LastPostAt.IsZero() {
			t.Errorf("GetListByID = %+v, want %+v", l, dev)
		}
		if !reflect.DeepEqual(l.Settings, dev.Settings) {
			t.Errorf("settings = %+v, want %+v", l.Settings, dev.Settings)
		}
		_, err = s.GetListByID(c, dev.ID+1000)
		wantErr(t, err, store.ErrNotFound, "GetListByID absent")
	})

	list := []struct {
		name, domain string
		want         []string
	}{
		{"all", "", []string{"dev@example.com", "announce@example.org", "dev@example.org", "users@example.org"}},
		{"one domain", "example.org", []string{"announce@example.org", "dev@example.org", "users@example.org"}},
		{"other domain", "Example.COM", []string{"dev@example.com"}},
		{"unknown domain", "nope.example", nil},
	}
	for _, tc := range list {
		t.Run("list "+tc.name, func(t *testing.T) {
			ls, err := s.ListLists(c, tc.domain)
			must(t, err, "ListLists")
			var got []string
			for _, l := range ls {
				got = append(got, l.Address())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListLists(%q) = %v, want %v", tc.domain, got, tc.want)
			}
		})
	}

	t.Run("post ids", func(t *testing.T) {
		at := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.FixedZone("X", 3600))
		for want := int64(1); want <= 3; want++ {
			id, err := s.NextPostID(c, dev.ID, at)
			must(t, err, "NextPostID")
			if id != want {
				t.Errorf("NextPostID = %d, want %d", id, want)
			}
		}
		l, err := s.GetListByID(c, dev.ID)
		must(t, err, "GetListByID")
		if l.PostID != 3 || !l.LastPostAt.Equal(at) {
			t.Errorf("after 3 posts: PostID %d LastPostAt %v, want 3 %v", l.PostID, l.LastPostAt, at)
		}
		_, err = s.NextPostID(c, dev.ID+1000, at)
		wantErr(t, err, store.ErrNotFound, "NextPostID absent list")
	})

	t.Run("delete", func(t *testing.T) {
		l, err := s.GetList(c, "dev", "example.com")
		must(t, err, "GetList")
		must(t, s.DeleteList(c, l.ID), "DeleteList")
		_, err = s.GetListByID(c, l.ID)
		wantErr(t, err, store.ErrNotFound, "get deleted list")
		wantErr(t, s.DeleteList(c, l.ID), store.ErrNotFound, "delete twice")
		_, err = s.GetList(c, "dev", "example.org")
		must(t, err, "other dev list survives")
	})
}

func norm(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
