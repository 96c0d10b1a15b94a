package storetest

import (
	"slices"
	"testing"

	"herald/internal/store"
)

func testBans(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "users", Domain: "example.org"}
	must(t, s.CreateList(c, other), "create users")

	adds := []struct {
		ban  store.Ban
		want error
	}{
		{store.Ban{ListID: l.ID, Pattern: " Spammer@Example.NET "}, nil},
		{store.Ban{ListID: l.ID, Pattern: `^.*@bad\.example$`}, nil},
		{store.Ban{ListID: 0, Pattern: "troll@example.com"}, nil},
		{store.Ban{ListID: 0, Pattern: `^bot-[0-9]+@`}, nil},
		{store.Ban{ListID: other.ID, Pattern: "spammer@example.net"}, nil},
		{store.Ban{ListID: l.ID, Pattern: "spammer@example.net"}, store.ErrConflict},
		{store.Ban{ListID: 0, Pattern: "TROLL@example.com"}, store.ErrConflict},
		{store.Ban{ListID: l.ID + 1000, Pattern: "x@example.com"}, store.ErrNotFound},
	}
	for _, a := range adds {
		b := a.ban
		wantErr(t, s.AddBan(c, &b), a.want, "AddBan "+a.ban.Pattern)
		if a.want == nil && (b.ID == 0 || b.Created.IsZero()) {
			t.Errorf("AddBan %q left ID or Created unset: %+v", a.ban.Pattern, b)
		}
	}
	bad := store.Ban{ListID: l.ID, Pattern: "^(unclosed"}
	if err := s.AddBan(c, &bad); err == nil {
		t.Errorf("AddBan accepted an invalid regexp")
	}

	t.Run("is banned", func(t *testing.T) {
		cases := []struct {
			list  int64
			email string
			want  bool
		}{
			{l.ID, "spammer@example.net", true},
			{l.ID, "SPAMMER@example.NET", true},
			{l.ID, "anyone@bad.example", true},
			{l.ID, "anyone@BAD.example", true},
			{l.ID, "anyone@notbad.example.org", false},
			{l.ID, "troll@example.com", true},
			{l.ID, "bot-42@anywhere.org", true},
			{l.ID, "bot-x@anywhere.org", false},
			{other.ID, "anyone@bad.example", false},
			{other.ID, "troll@example.com", true},
			{l.ID, "alice@example.com", false},
			{l.ID, "", false},
		}
		for _, tc := range cases {
			got, err := s.IsBanned(c, tc.list, tc.email)
			must(t, err, "IsBanned "+tc.email)
			if got != tc.want {
				t.Errorf("IsBanned(%d, %q) = %v, want %v", tc.list, tc.email, got, tc.want)
			}
		}
	})

	t.Run("list and remove", func(t *testing.T) {
		bans, err := s.ListBans(c, l.ID)
		must(t, err, "ListBans")
		var pats []string
		for _, b := range bans {
			pats = append(pats, b.Pattern)
			if b.ListID != l.ID {
				t.Errorf("ListBans: ban %q has list %d", b.Pattern, b.ListID)
			}
		}
		if want := []string{`^.*@bad\.example$`, "spammer@example.net"}; !slices.Equal(pats, want) {
			t.Errorf("ListBans = %q, want %q", pats, want)
		}
		global, err := s.ListBans(c, 0)
		must(t, err, "ListBans global")
		if len(global) != 2 || global[0].ListID != 0 {
			t.Errorf("global bans = %+v", global)
		}
		must(t, s.RemoveBan(c, l.ID, "Spammer@example.net"), "RemoveBan")
		wantErr(t, s.RemoveBan(c, l.ID, "spammer@example.net"), store.ErrNotFound, "RemoveBan twice")
		must(t, s.RemoveBan(c, 0, "troll@example.com"), "RemoveBan global")
		for _, email := range []string{"spammer@example.net", "troll@example.com"} {
			if got, err := s.IsBanned(c, l.ID, email); err != nil || got {
				t.Errorf("IsBanned(%s) after RemoveBan = %v, %v", email, got, err)
			}
		}
		if got, err := s.IsBanned(c, other.ID, "spammer@example.net"); err != nil || !got {
			t.Errorf("the other list's ban went too: %v, %v", got, err)
		}
	})

	t.Run("deleted with the list", func(t *testing.T) {
		must(t, s.DeleteList(c, other.ID), "DeleteList")
		bans, err := s.ListBans(c, other.ID)
		must(t, err, "ListBans")
		if len(bans) != 0 {
			t.Errorf("bans of a deleted list: %+v", bans)
		}
	})
}
