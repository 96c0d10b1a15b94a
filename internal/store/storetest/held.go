package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

func testHeld(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "users", Domain: "example.org"}
	must(t, s.CreateList(c, other), "create users")

	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	msg := []byte("From: bob@example.net\r\nSubject: hi\r\n\r\nbinary \x00\xff body\r\n")
	held := []*store.Held{
		{ListID: l.ID, Sender: "bob@example.net", EnvSender: "bounce@example.net", Subject: "second",
			MessageID: "<2@example.net>", Reasons: []string{"nonmember post", "too big"}, Received: t0.Add(time.Minute), Message: msg},
		{ListID: l.ID, Sender: "carol@example.net", Subject: "first", MessageID: "<1@example.net>",
			Reasons: []string{"emergency"}, Received: t0, Message: []byte("x")},
		{ListID: other.ID, Sender: "dave@example.net", Subject: "elsewhere", Message: []byte("y")},
		{ListID: l.ID, Sender: "erin@example.net", Subject: "third, no reasons", Received: t0.Add(time.Hour), Message: []byte("z")},
	}
	for _, h := range held {
		must(t, s.HoldMessage(c, h), "HoldMessage "+h.Subject)
		if h.ID == 0 {
			t.Errorf("HoldMessage %q left ID 0", h.Subject)
		}
	}
	recent(t, held[2].Received, "zero Received set to")
	h := &store.Held{ListID: l.ID + 1000, Message: []byte("x")}
	wantErr(t, s.HoldMessage(c, h), store.ErrNotFound, "HoldMessage unknown list")

	t.Run("get", func(t *testing.T) {
		got, err := s.GetHeld(c, l.ID, held[0].ID)
		must(t, err, "GetHeld")
		w := held[0]
		if got.ID != w.ID || got.ListID != w.ListID || got.Sender != w.Sender || got.EnvSender != w.EnvSender ||
			got.Subject != w.Subject || got.MessageID != w.MessageID || !slices.Equal(got.Reasons, w.Reasons) ||
			!got.Received.Equal(w.Received) || !bytes.Equal(got.Message, w.Message) {
			t.Errorf("GetHeld =\n %+v\nwant\n %+v", got, w)
		}
		absent := []struct {
			name     string
			list, id int64
		}{
			{"id", l.ID, held[3].ID + 1000},
			{"other list's message", l.ID, held[2].ID},
			{"list", l.ID + 1000, held[0].ID},
		}
		for _, a := range absent {
			_, err := s.GetHeld(c, a.list, a.id)
			wantErr(t, err, store.ErrNotFound, "GetHeld absent "+a.name)
		}
	})

	t.Run("list oldest first without bytes", func(t *testing.T) {
		hs, err := s.ListHeld(c, l.ID)
		must(t, err, "ListHeld")
		var subjects []string
		for _, h := range hs {
			subjects = append(subjects, h.Subject)
			if len(h.Message) != 0 {
				t.Errorf("ListHeld returned the bytes of %q", h.Subject)
			}
			if h.Subject == "second" && !slices.Equal(h.Reasons, held[0].Reasons) {
				t.Errorf("ListHeld reasons = %q", h.Reasons)
			}
		}
		if want := []string{"first", "second", "third, no reasons"}; !slices.Equal(subjects, want) {
			t.Errorf("ListHeld = %v, want %v", subjects, want)
		}
		none, err := s.ListHeld(c, l.ID+1000)
		must(t, err, "ListHeld unknown list")
		if len(none) != 0 {
			t.Errorf("ListHeld unknown list = %v", none)
		}
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, s.DeleteHeld(c, l.ID, held[2].ID), store.ErrNotFound, "DeleteHeld other list's message")
		must(t, s.DeleteHeld(c, l.ID, held[1].ID), "DeleteHeld")
		_, err := s.GetHeld(c, l.ID, held[1].ID)
		wantErr(t, err, store.ErrNotFound, "get deleted")
		wantErr(t, s.DeleteHeld(c, l.ID, held[1].ID), store.ErrNotFound, "delete twice")
		hs, err := s.ListHeld(c, l.ID)
		must(t, err, "ListHeld")
		if len(hs) != 2 {
			t.Errorf("after delete ListHeld has %d messages, want 2", len(hs))
		}
	})
}
