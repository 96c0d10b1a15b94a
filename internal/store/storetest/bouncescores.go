package storetest

import (
	"encoding/hex"
	"testing"
	"time"

	"herald/internal/store"
)

// bounceSetup makes dev@example.org with members bob and carol and an
// owner, and returns the list.
func bounceSetup(t *testing.T, s store.Store) *store.List {
	t.Helper()
	l := setup(t, s)
	for _, m := range []store.Member{
		store.DefaultMember(l.ID, "bob@example.net", store.RoleMember),
		store.DefaultMember(l.ID, "carol@example.net", store.RoleMember),
		store.DefaultMember(l.ID, "owner@example.net", store.RoleOwner),
	} {
		must(t, s.AddMember(ctx(t), &m), "add "+m.Email)
	}
	return l
}

func testBounceScores(t *testing.T, open Opener) {
	t.Run("Info", func(t *testing.T) { testBounceInfo(t, open) })
	t.Run("Disable", func(t *testing.T) { testBounceDisable(t, open) })
	t.Run("Probes", func(t *testing.T) { testBounceProbes(t, open) })
	t.Run("Between", func(t *testing.T) { testBouncesBetween(t, open) })
	t.Run("Holds", func(t *testing.T) { testBounceHolds(t, open) })
}

func testBounceInfo(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := bounceSetup(t, s)
	bi, err := s.BounceInfo(c, l.ID, "Bob@Example.NET")
	must(t, err, "BounceInfo of a member without bounces")
	if bi.ListID != l.ID || bi.Email != "bob@example.net" || bi.DeliveryStatus != store.DeliveryEnabled ||
		bi.Score != 0 || !bi.LastBounce.IsZero() || bi.WarningsSent != 0 {
		t.Errorf("fresh record = %+v", *bi)
	}
	_, err = s.BounceInfo(c, l.ID, "owner@example.net")
	wantErr(t, err, store.ErrNotFound, "BounceInfo of an owner")
	_, err = s.BounceInfo(c, l.ID, "stranger@example.net")
	wantErr(t, err, store.ErrNotFound, "BounceInfo of a stranger")

	t0 := time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.UTC)
	ev := &store.BounceEvent{ListID: l.ID, Email: "bob@example.net", Permanent: true, Reason: "unknown_user", At: t0}
	must(t, s.RecordBounce(c, ev), "RecordBounce")
	bi.Score, bi.LastBounce, bi.ProbeSent = 1, t0, t0.Add(time.Hour)
	must(t, s.SaveBounceInfo(c, bi, ev.ID), "SaveBounceInfo")
	got, err := s.BounceInfo(c, l.ID, "bob@example.net")
	must(t, err, "BounceInfo after save")
	if got.Score != 1 || !sameTime(got.LastBounce, t0) || !sameTime(got.ProbeSent, t0.Add(time.Hour)) ||
		!got.DisabledAt.IsZero() || got.LastBounce.Location() != time.UTC {
		t.Errorf("saved record = %+v", *got)
	}
	if un, _ := s.UnprocessedBounces(c, 10); len(un) != 0 {
		t.Errorf("SaveBounceInfo left the event unprocessed: %+v", un)
	}

	// An unknown event rolls the whole save back.
	bad := *got
	bad.Score = 99
	wantErr(t, s.SaveBounceInfo(c, &bad, ev.ID+1000), store.ErrNotFound, "SaveBounceInfo unknown event")
	if again, _ := s.BounceInfo(c, l.ID, "bob@example.net"); again == nil || again.Score != 1 {
		t.Errorf("failed save changed the record: %+v", again)
	}
	stranger := store.BounceInfo{ListID: l.ID, Email: "stranger@example.net", Score: 1}
	wantErr(t, s.SaveBounceInfo(c, &stranger, 0), store.ErrNotFound, "SaveBounceInfo of a stranger")

	infos, err := s.BounceInfos(c, l.ID, false)
	must(t, err, "BounceInfos")
	if len(infos) != 1 || infos[0].Email != "bob@example.net" || infos[0].Score != 1 {
		t.Errorf("BounceInfos = %+v, want bob's record only", infos)
	}
	if infos, _ := s.BounceInfos(c, l.ID, true); len(infos) != 0 {
		t.Errorf("BounceInfos(disabledOnly) = %+v, want none", infos)
	}

	// The record goes with the membership.
	must(t, s.RemoveMember(c, l.ID, "bob@example.net", store.RoleMember), "RemoveMember")
	if infos, _ := s.BounceInfos(c, 0, false); len(infos) != 0 {
		t.Errorf("record survives its member: %+v", infos)
	}
	bob := store.DefaultMember(l.ID, "bob@example.net", store.RoleMember)
	must(t, s.AddMember(c, &bob), "re-add bob")
	if bi, _ := s.BounceInfo(c, l.ID, "bob@example.net"); bi == nil || bi.Score != 0 || !bi.LastBounce.IsZero() {
		t.Errorf("re-added member inherits a record: %+v", bi)
	}
}

func testBounceDisable(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := bounceSetup(t, s)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	must(t, s.SaveBounceInfo(c, &store.BounceInfo{ListID: l.ID, Email: "bob@example.net", Score: 4,
		LastBounce: t0, ProbeSent: t0}, 0), "SaveBounceInfo")
	ev := &store.BounceEvent{ListID: l.ID, Email: "bob@example.net", Permanent: true, Source: "probe", At: t0}
	must(t, s.RecordBounce(c, ev), "RecordBounce")

	at := t0.Add(2 * time.Hour)
	ok, err := s.DisableByBounces(c, l.ID, "bob@example.net", at, ev.ID)
	must(t, err, "DisableByBounces")
	if !ok {
		t.Fatal("DisableByBounces of an enabled member reported false")
	}
	m, err := s.GetMember(c, l.ID, "bob@example.net", store.RoleMember)
	must(t, err, "GetMember")
	if m.DeliveryStatus != store.DeliveryByBounces {
		t.Errorf("delivery status = %q, want by_bounces", m.DeliveryStatus)
	}
	bi, err := s.BounceInfo(c, l.ID, "bob@example.net")
	must(t, err, "BounceInfo")
	if bi.DeliveryStatus != store.DeliveryByBounces || bi.Score != 0 || !bi.ProbeSent.IsZero() ||
		!sameTime(bi.DisabledAt, at) || !sameTime(bi.LastBounce, t0) || bi.WarningsSent != 0 {
		t.Errorf("record after disable = %+v", *bi)
	}
	if un, _ := s.UnprocessedBounces(c, 10); len(un) != 0 {
		t.Errorf("DisableByBounces left the event unprocessed")
	}
	if ok, err := s.DisableByBounces(c, l.ID, "bob@example.net", at.Add(time.Hour), 0); err != nil || ok {
		t.Errorf("second DisableByBounces = %v, %v; want false, nil", ok, err)
	}
	_, err = s.DisableByBounces(c, l.ID, "owner@example.net", at, 0)
	wantErr(t, err, store.ErrNotFound, "DisableByBounces of an owner")

	// Warnings are saved without touching DisabledAt.
	bi.LastWarning, bi.WarningsSent = at, 1
	bi.DisabledAt = time.Time{}
	must(t, s.SaveBounceInfo(c, bi, 0), "save warning")
	if got, _ := s.BounceInfo(c, l.ID, "bob@example.net"); got == nil || !sameTime(got.DisabledAt, at) ||
		got.WarningsSent != 1 || !sameTime(got.LastWarning, at) {
		t.Errorf("record after warning = %+v", got)
	}

	// A member disabled by bounces some other way (import, operator)
	// counts as disabled without a record.
	carol, err := s.GetMember(c, l.ID, "carol@example.net", store.RoleMember)
	must(t, err, "GetMember carol")
	carol.DeliveryStatus = store.DeliveryByBounces
	must(t, s.UpdateMember(c, carol), "UpdateMember carol")
	for _, id := range []int64{l.ID, 0} {
		infos, err := s.BounceInfos(c, id, true)
		must(t, err, "BounceInfos disabled")
		if len(infos) != 2 || infos[0].Email != "bob@example.net" || infos[1].Email != "carol@example.net" ||
			!infos[1].DisabledAt.IsZero() {
			t.Errorf("BounceInfos(%d, disabled) = %+v", id, infos)
		}
	}
}

func testBounceProbes(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := bounceSetup(t, s)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	p := &store.BounceProbe{ListID: l.ID, Email: "Bob@Example.NET", Sent: t0}
	must(t, s.AddBounceProbe(c, p), "AddBounceProbe")
	if b, err := hex.DecodeString(p.Token); err != nil || len(b) != 16 {
		t.Errorf("Token %q is not 32 hex characters", p.Token)
	}
	got, err := s.GetBounceProbe(c, p.Token)
	must(t, err, "GetBounceProbe")
	if got.ListID != l.ID || got.Email != "bob@example.net" || !sameTime(got.Sent, t0) {
		t.Errorf("probe = %+v", *got)
	}
	for _, tok := range []string{"", "00" + p.Token[2:], "nope"} {
		if tok == p.Token {
			continue
		}
		_, err := s.GetBounceProbe(c, tok)
		wantErr(t, err, store.ErrNotFound, "GetBounceProbe "+tok)
	}
	later := &store.BounceProbe{ListID: l.ID, Email: "carol@example.net"}
	must(t, s.AddBounceProbe(c, later), "AddBounceProbe without time")
	recent(t, later.Sent, "zero Sent set to")
	wantErr(t, s.AddBounceProbe(c, &store.BounceProbe{ListID: l.ID + 1000, Email: "x@example.net"}),
		store.ErrNotFound, "AddBounceProbe unknown list")

	n, err := s.DeleteBounceProbes(c, t0.Add(time.Minute))
	must(t, err, "DeleteBounceProbes")
	if n != 1 {
		t.Errorf("DeleteBounceProbes removed %d, want 1", n)
	}
	_, err = s.GetBounceProbe(c, p.Token)
	wantErr(t, err, store.ErrNotFound, "GetBounceProbe after delete")
	if _, err := s.GetBounceProbe(c, later.Token); err != nil {
		t.Errorf("the later probe went too: %v", err)
	}
	must(t, s.DeleteList(c, l.ID), "DeleteList")
	_, err = s.GetBounceProbe(c, later.Token)
	wantErr(t, err, store.ErrNotFound, "probe survives its list")
}

func testBouncesBetween(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := bounceSetup(t, s)
	other := &store.List{Name: "users", Domain: "example.org", Settings: store.DefaultSettings("users")}
	must(t, s.CreateList(c, other), "create users")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var ids []int64
	for i, d := range []time.Duration{0, 30 * time.Minute, time.Hour, 2 * time.Hour} {
		e := &store.BounceEvent{ListID: l.ID, Email: "bob@example.net", Reason: "policy", At: t0.Add(d)}
		must(t, s.RecordBounce(c, e), "RecordBounce")
		ids = append(ids, e.ID)
		if i == 0 {
			must(t, s.MarkBounceProcessed(c, e.ID), "MarkBounceProcessed")
		}
	}
	must(t, s.RecordBounce(c, &store.BounceEvent{ListID: other.ID, Email: "bob@example.net", At: t0}), "other list")
	got, err := s.BouncesBetween(c, l.ID, t0, t0.Add(time.Hour))
	must(t, err, "BouncesBetween")
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] || !got[0].Processed || got[1].Processed ||
		got[1].Reason != "policy" || !sameTime(got[1].At, t0.Add(30*time.Minute)) {
		t.Errorf("BouncesBetween = %+v, want the first two events", got)
	}
	if got, _ := s.BouncesBetween(c, l.ID, t0.Add(3*time.Hour), t0.Add(4*time.Hour)); len(got) != 0 {
		t.Errorf("BouncesBetween an empty window = %+v", got)
	}
}

func testBounceHolds(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := bounceSetup(t, s)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	h := &store.BounceHold{ListID: l.ID, Start: t0, Until: t0.Add(24 * time.Hour), Reason: "blocklist"}
	must(t, s.AddBounceHold(c, h), "AddBounceHold")
	if h.ID == 0 {
		t.Error("AddBounceHold left ID 0")
	}
	recent(t, h.Created, "Created")
	wantErr(t, s.AddBounceHold(c, &store.BounceHold{ListID: l.ID + 1000, Start: t0, Until: t0}),
		store.ErrNotFound, "AddBounceHold unknown list")

	for _, tc := range []struct {
		name   string
		list   int64
		after  time.Time
		wantOK bool
	}{
		{"during", l.ID, t0.Add(time.Hour), true},
		{"all lists", 0, t0, true},
		{"zero time", l.ID, time.Time{}, true},
		{"after its end", l.ID, t0.Add(24 * time.Hour), false},
		{"other list", l.ID + 1000, t0, false},
	} {
		got, err := s.BounceHolds(c, tc.list, tc.after)
		must(t, err, "BounceHolds "+tc.name)
		if ok := len(got) == 1 && got[0].ID == h.ID && got[0].Reason == "blocklist" &&
			sameTime(got[0].Start, t0) && sameTime(got[0].Until, t0.Add(24*time.Hour)); ok != tc.wantOK {
			t.Errorf("BounceHolds %s = %+v, want the hold: %v", tc.name, got, tc.wantOK)
		}
	}
	h.Until, h.Reason = t0.Add(48*time.Hour), "blocklist, again"
	must(t, s.UpdateBounceHold(c, h), "UpdateBounceHold")
	if got, _ := s.BounceHolds(c, l.ID, t0.Add(30*time.Hour)); len(got) != 1 || got[0].Reason != "blocklist, again" {
		t.Errorf("after update: %+v", got)
	}
	wantErr(t, s.UpdateBounceHold(c, &store.BounceHold{ID: h.ID + 1000, Start: t0, Until: t0}),
		store.ErrNotFound, "UpdateBounceHold unknown")
	must(t, s.DeleteList(c, l.ID), "DeleteList")
	if got, _ := s.BounceHolds(c, 0, t0); len(got) != 0 {
		t.Errorf("holds survive their list: %+v", got)
	}
}
