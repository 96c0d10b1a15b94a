package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/internal/store"
)

func newRequest(listID int64, email, hash string, expires time.Time) store.Request {
	return store.Request{ListID: listID, Kind: store.RequestSubscribe, Email: email, State: store.StateConfirm,
		TokenHash: hash, Expires: expires, Source: "email", DeliveryMode: store.ModeRegular}
}

func testRequests(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	t0 := time.Now().UTC().Truncate(time.Microsecond)

	r := newRequest(l.ID, "Bob@Example.NET", "h1", t0.Add(72*time.Hour))
	r.DisplayName, r.Created, r.Sent = "Bob", t0, t0
	must(t, s.AddRequest(c, &r), "add request")
	if r.ID == 0 || r.Email != "bob@example.net" {
		t.Fatalf("after AddRequest: ID %d Email %q", r.ID, r.Email)
	}
	t.Run("get", func(t *testing.T) {
		got, err := s.GetRequest(c, l.ID, r.ID)
		must(t, err, "GetRequest")
		if got.Email != r.Email || got.Kind != r.Kind || got.State != r.State || got.TokenHash != "h1" ||
			!sameTime(got.Expires, r.Expires) || !sameTime(got.Created, t0) || !sameTime(got.Sent, t0) ||
			got.DisplayName != "Bob" || got.Source != "email" || got.DeliveryMode != store.ModeRegular {
			t.Errorf("GetRequest = %+v, want %+v", got, r)
		}
		_, err = s.GetRequest(c, l.ID+1, r.ID)
		wantErr(t, err, store.ErrNotFound, "GetRequest on another list")
		byTok, err := s.RequestByToken(c, "h1")
		must(t, err, "RequestByToken")
		if byTok.ID != r.ID {
			t.Errorf("RequestByToken = %d, want %d", byTok.ID, r.ID)
		}
		_, err = s.RequestByToken(c, "nope")
		wantErr(t, err, store.ErrNotFound, "RequestByToken unknown")
		_, err = s.RequestByToken(c, "")
		wantErr(t, err, store.ErrNotFound, "RequestByToken empty")
		p, err := s.PendingRequest(c, l.ID, " BOB@example.net")
		must(t, err, "PendingRequest")
		if p.ID != r.ID {
			t.Errorf("PendingRequest = %d, want %d", p.ID, r.ID)
		}
	})
	t.Run("one per address and list", func(t *testing.T) {
		dup := newRequest(l.ID, "bob@example.net", "h2", t0.Add(time.Hour))
		dup.Kind = store.RequestUnsubscribe
		wantErr(t, s.AddRequest(c, &dup), store.ErrConflict, "second request")
		same := newRequest(l.ID, "carol@example.net", "h1", t0.Add(time.Hour))
		wantErr(t, s.AddRequest(c, &same), store.ErrConflict, "same token hash")
		none := newRequest(l.ID+1000, "carol@example.net", "h3", time.Time{})
		wantErr(t, s.AddRequest(c, &none), store.ErrNotFound, "unknown list")
	})
	t.Run("expired request is replaced", func(t *testing.T) {
		old := newRequest(l.ID, "dave@example.net", "hd1", t0.Add(time.Second))
		old.Created = t0
		must(t, s.AddRequest(c, &old), "add dave")
		early := newRequest(l.ID, "dave@example.net", "hd2", t0.Add(time.Hour))
		early.Created = t0.Add(500 * time.Millisecond) // sub-second: still pending
		wantErr(t, s.AddRequest(c, &early), store.ErrConflict, "before expiry")
		late := newRequest(l.ID, "dave@example.net", "hd3", t0.Add(time.Hour))
		late.Created = t0.Add(1001 * time.Millisecond)
		must(t, s.AddRequest(c, &late), "after expiry")
		_, err := s.RequestByToken(c, "hd1")
		wantErr(t, err, store.ErrNotFound, "old token after replacement")
	})
	t.Run("compare and swap", func(t *testing.T) {
		next := r
		next.State, next.TokenHash, next.Expires = store.StateModerate, "", time.Time{}
		wantErr(t, s.UpdateRequest(c, &next, store.StateConfirm, "wrong"), store.ErrNotFound, "update with wrong hash")
		must(t, s.UpdateRequest(c, &next, store.StateConfirm, "h1"), "update")
		wantErr(t, s.UpdateRequest(c, &next, store.StateConfirm, "h1"), store.ErrNotFound, "update twice")
		got, err := s.GetRequest(c, l.ID, r.ID)
		must(t, err, "GetRequest")
		if got.State != store.StateModerate || got.TokenHash != "" || !got.Expires.IsZero() {
			t.Errorf("after update: %+v", got)
		}
		_, err = s.RequestByToken(c, "h1")
		wantErr(t, err, store.ErrNotFound, "used token")
		wantErr(t, s.DeleteRequest(c, l.ID, r.ID, store.StateConfirm, "h1"), store.ErrNotFound, "delete in wrong state")
		must(t, s.DeleteRequest(c, l.ID, r.ID, store.StateModerate, ""), "delete")
		wantErr(t, s.DeleteRequest(c, l.ID, r.ID, store.StateModerate, ""), store.ErrNotFound, "delete twice")
	})
	t.Run("list and expire", func(t *testing.T) {
		for i, exp := range []time.Duration{-time.Minute, -time.Millisecond, time.Hour, 0} {
			q := newRequest(l.ID, fmt.Sprintf("x%d@example.net", i), fmt.Sprintf("hx%d", i), time.Time{})
			if exp != 0 {
				q.Expires = t0.Add(exp)
			}
			q.Created = t0.Add(time.Duration(i) * time.Second)
			must(t, s.AddRequest(c, &q), "add")
		}
		all, err := s.ListRequests(c, l.ID)
		must(t, err, "ListRequests")
		before := len(all)
		for i := 1; i < len(all); i++ {
			if all[i].Created.Before(all[i-1].Created) {
				t.Errorf("ListRequests not oldest first at %d", i)
			}
		}
		n, err := s.DeleteExpiredRequests(c, t0)
		must(t, err, "DeleteExpiredRequests")
		// x0 and x1 have expired; dave's replacement, x2 and x3 have not.
		if n != 2 {
			t.Errorf("DeleteExpiredRequests removed %d, want 2", n)
		}
		all, err = s.ListRequests(c, l.ID)
		must(t, err, "ListRequests")
		if len(all) != before-n {
			t.Errorf("%d requests left, want %d", len(all), before-n)
		}
	})
}

func testMemberLookup(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	m := store.DefaultMember(l.ID, "alice@example.com", store.RoleMember)
	must(t, s.AddMember(c, &m), "add alice")

	got, err := s.MemberByToken(c, m.Token)
	must(t, err, "MemberByToken")
	if got.ID != m.ID || got.Email != m.Email || got.ListID != l.ID {
		t.Errorf("MemberByToken = %+v, want %+v", got, m)
	}
	_, err = s.MemberByToken(c, "")
	wantErr(t, err, store.ErrNotFound, "MemberByToken empty")
	must(t, s.RemoveMember(c, l.ID, m.Email, store.RoleMember), "remove")
	_, err = s.MemberByToken(c, m.Token)
	wantErr(t, err, store.ErrNotFound, "token after leaving")

	at := time.Now().UTC().Truncate(time.Microsecond)
	must(t, s.SetAddressVerified(c, "New@Example.org", at), "verify new address")
	a, err := s.GetAddress(c, "new@example.org")
	must(t, err, "GetAddress")
	if !sameTime(a.Verified, at) {
		t.Errorf("Verified = %v, want %v", a.Verified, at)
	}

	b := store.DefaultMember(l.ID, "bouncy@example.com", store.RoleMember)
	must(t, s.AddMember(c, &b), "add bouncy")
	for _, want := range []bool{false, true} {
		if want {
			b.DeliveryStatus = store.DeliveryByBounces
			must(t, s.UpdateMember(c, &b), "disable")
		}
		got, err := s.BounceDisabled(c, "BOUNCY@example.com")
		must(t, err, "BounceDisabled")
		if got != want {
			t.Errorf("BounceDisabled = %v, want %v", got, want)
		}
	}
}

func testQuotas(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	site := store.Quota{Scope: "site", Window: time.Hour, Limit: 5}
	list := store.Quota{Scope: "list:1", Window: time.Hour, Limit: 3}
	charge := func(at time.Time, qs ...store.Quota) bool {
		t.Helper()
		ok, err := s.ChargeQuotas(c, at, qs)
		must(t, err, "ChargeQuotas")
		return ok
	}
	for i := range 3 {
		if !charge(t0.Add(time.Duration(i)*time.Millisecond), site, list) {
			t.Fatalf("charge %d refused", i)
		}
	}
	if charge(t0.Add(10*time.Millisecond), site, list) {
		t.Error("fourth charge of a 3/hour quota accepted")
	}
	for _, tc := range []struct {
		qs   []store.Quota
		want bool
	}{{[]store.Quota{site}, true}, {[]store.Quota{site, list}, false}, {[]store.Quota{{Scope: "new", Window: time.Hour, Limit: 1}}, true}} {
		ok, err := s.QuotasAvailable(c, t0.Add(10*time.Millisecond), tc.qs)
		must(t, err, "QuotasAvailable")
		if ok != tc.want {
			t.Errorf("QuotasAvailable(%v) = %v, want %v", tc.qs, ok, tc.want)
		}
	}
	// The refused charge recorded nothing: the site has 2 uses left.
	other := store.Quota{Scope: "list:2", Window: time.Hour, Limit: 10}
	for i := range 2 {
		if !charge(t0.Add(time.Duration(20+i)*time.Millisecond), site, other) {
			t.Fatalf("site charge %d refused", 3+i)
		}
	}
	if charge(t0.Add(30*time.Millisecond), site, other) {
		t.Error("sixth charge of a 5/hour site quota accepted")
	}
	// The window slides: an hour after the first uses they no longer count.
	if !charge(t0.Add(time.Hour+time.Millisecond), list) {
		t.Error("charge after the window refused")
	}
	if !charge(t0, store.Quota{Scope: "x", Window: time.Hour, Limit: 0}) {
		t.Error("unlimited quota refused")
	}
	must(t, s.PruneQuotas(c, t0.Add(2*time.Hour)), "PruneQuotas")
	for i := range 3 {
		if !charge(t0.Add(2*time.Hour+time.Duration(i)), list) {
			t.Errorf("charge %d after pruning refused", i)
		}
	}

	t.Run("concurrent", func(t *testing.T) {
		q := store.Quota{Scope: "race", Window: time.Hour, Limit: 17}
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 10 {
					ok, err := s.ChargeQuotas(c, time.Now(), []store.Quota{q})
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						granted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if got := granted.Load(); got != int64(q.Limit) {
			t.Errorf("%d concurrent charges granted, want exactly %d", got, q.Limit)
		}
	})
}
