package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

func testArchive(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "users", Domain: "example.org", Settings: store.DefaultSettings("users")}
	must(t, s.CreateList(c, other), "create users")

	date := time.Date(2025, 12, 24, 18, 30, 0, 0, time.UTC)
	msgs := []*store.ArchivedMessage{
		{ListID: l.ID, PostID: 1, MessageID: "<1@example.net>", Subject: "first", Sender: "ann@example.net", Date: date,
			Message: []byte("Subject: first\r\n\r\nbinary \x00\xff\r\n")},
		{ListID: other.ID, MessageID: "<1@example.net>", Subject: "same id, other list", Message: []byte("x")},
		{ListID: l.ID, PostID: 2, MessageID: "<2@example.net>", InReplyTo: "<1@example.net>", Subject: "Re: first",
			Message: []byte("y")},
		{ListID: l.ID, MessageID: "<1@example.net>", Subject: "a repeat in the same batch", Message: []byte("r")},
		{ListID: l.ID, Subject: "no Message-ID", Message: []byte("z")},
		{ListID: l.ID, Subject: "no Message-ID either", Message: []byte("w")},
	}
	added, err := s.ArchiveMessages(c, msgs)
	must(t, err, "ArchiveMessages")
	if want := []bool{true, true, true, false, true, true}; !slices.Equal(added, want) {
		t.Errorf("ArchiveMessages added %v, want %v", added, want)
	}
	for i, m := range msgs {
		if added[i] && m.ID == 0 {
			t.Errorf("ArchiveMessages left %q's ID 0", m.Subject)
		}
		recent(t, m.Archived, "Archived")
	}
	recent(t, msgs[2].Date, "a zero Date set to")
	again, err := s.ArchiveMessages(c, []*store.ArchivedMessage{{ListID: l.ID, MessageID: "<2@example.net>", Message: []byte("again")}})
	must(t, err, "ArchiveMessages again")
	if !slices.Equal(again, []bool{false}) {
		t.Errorf("an archived Message-ID was added again: %v", again)
	}
	_, err = s.ArchiveMessages(c, []*store.ArchivedMessage{{ListID: l.ID, Subject: "in a failed batch", Message: []byte("f")},
		{ListID: l.ID + 1000, Message: []byte("x")}})
	wantErr(t, err, store.ErrNotFound, "ArchiveMessages with an unknown list")

	n, err := s.ArchiveCount(c, l.ID)
	must(t, err, "ArchiveCount")
	if n != 4 {
		t.Errorf("ArchiveCount = %d, want 4 (a failed batch adds nothing)", n)
	}
	got, err := s.ArchivedMessages(c, l.ID, 0, 2)
	must(t, err, "ArchivedMessages")
	if len(got) != 2 || got[0].ID != msgs[0].ID || got[1].ID != msgs[2].ID {
		t.Fatalf("ArchivedMessages first page = %+v", got)
	}
	w := msgs[0]
	if g := got[0]; g.PostID != 1 || g.MessageID != w.MessageID || g.Subject != w.Subject || g.Sender != w.Sender ||
		!sameTime(g.Date, date) || !sameTime(g.Archived, w.Archived) || !bytes.Equal(g.Message, w.Message) {
		t.Errorf("ArchivedMessages[0] = %+v, want %+v", g, w)
	}
	if got[1].InReplyTo != "<1@example.net>" {
		t.Errorf("InReplyTo = %q", got[1].InReplyTo)
	}
	rest, err := s.ArchivedMessages(c, l.ID, got[1].ID, 10)
	must(t, err, "ArchivedMessages next page")
	if len(rest) != 2 || rest[0].ID != msgs[4].ID || rest[1].ID != msgs[5].ID {
		t.Errorf("ArchivedMessages next page = %+v", rest)
	}
	t.Run("cascade", func(t *testing.T) {
		must(t, s.DeleteList(c, other.ID), "DeleteList")
		if n, _ := s.ArchiveCount(c, other.ID); n != 0 {
			t.Errorf("a deleted list's archive holds %d", n)
		}
	})
}
