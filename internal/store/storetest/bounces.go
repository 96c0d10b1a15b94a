package storetest

import (
	"testing"
	"time"

	"herald/internal/store"
)

func testBounces(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.UTC)
	evs := []*store.BounceEvent{
		{ListID: l.ID, Email: "Bob@Example.NET", Permanent: true, Reason: "unknown_user",
			Detail: "550 5.1.1 no such user", Source: "smtp", At: t0.Add(time.Minute)},
		{ListID: l.ID, Email: "carol@example.net", Reason: "temporary", Detail: "451 4.3.0 later", Source: "smtp", At: t0},
		{ListID: l.ID, Email: "dave@example.net", Permanent: true, Reason: "other", Source: "dsn"},
	}
	for _, e := range evs {
		must(t, s.RecordBounce(c, e), "RecordBounce "+e.Email)
		if e.ID == 0 {
			t.Errorf("RecordBounce %s left ID 0", e.Email)
		}
	}
	if evs[0].Email != "bob@example.net" {
		t.Errorf("RecordBounce kept email %q, want it normalized", evs[0].Email)
	}
	recent(t, evs[2].At, "zero At set to")
	wantErr(t, s.RecordBounce(c, &store.BounceEvent{ListID: l.ID + 1000, Email: "x@example.net"}),
		store.ErrNotFound, "RecordBounce unknown list")
	if err := s.RecordBounce(c, &store.BounceEvent{ListID: l.ID}); err == nil {
		t.Error("RecordBounce without email succeeded")
	}

	got, err := s.UnprocessedBounces(c, 10)
	must(t, err, "UnprocessedBounces")
	if len(got) != 3 {
		t.Fatalf("UnprocessedBounces = %d events, want 3", len(got))
	}
	// Oldest first: carol (t0), bob (t0+1m), dave (now).
	for i, want := range []*store.BounceEvent{evs[1], evs[0], evs[2]} {
		g := got[i]
		if g.ID != want.ID || g.ListID != want.ListID || g.Email != want.Email || g.Permanent != want.Permanent ||
			g.Reason != want.Reason || g.Detail != want.Detail || g.Source != want.Source ||
			!sameTime(g.At, want.At) || g.Processed {
			t.Errorf("event %d =\n %+v\nwant\n %+v", i, g, *want)
		}
	}
	if got, _ := s.UnprocessedBounces(c, 1); len(got) != 1 || got[0].ID != evs[1].ID {
		t.Errorf("UnprocessedBounces(1) = %+v, want only the oldest", got)
	}

	must(t, s.MarkBounceProcessed(c, evs[1].ID), "MarkBounceProcessed")
	wantErr(t, s.MarkBounceProcessed(c, evs[2].ID+1000), store.ErrNotFound, "MarkBounceProcessed unknown")
	got, err = s.UnprocessedBounces(c, 10)
	must(t, err, "UnprocessedBounces after mark")
	if len(got) != 2 || got[0].ID != evs[0].ID || got[1].ID != evs[2].ID {
		t.Errorf("after marking carol's event: %+v", got)
	}

	// Events go with their list.
	must(t, s.DeleteList(c, l.ID), "DeleteList")
	if got, _ := s.UnprocessedBounces(c, 10); len(got) != 0 {
		t.Errorf("events survive their list: %+v", got)
	}
}
