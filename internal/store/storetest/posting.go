package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"herald/internal/store"
)

func testPosting(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	t.Run("post counts survive resubscription", func(t *testing.T) {
		m := store.DefaultMember(l.ID, "alice@example.com", store.RoleMember)
		must(t, s.AddMember(c, &m), "AddMember")
		for i := int64(1); i <= 3; i++ {
			n, err := s.RecordPost(c, l.ID, "Alice@Example.com", t0)
			must(t, err, "RecordPost")
			if n != i {
				t.Errorf("RecordPost #%d = %d", i, n)
			}
		}
		must(t, s.RemoveMember(c, l.ID, "alice@example.com", store.RoleMember), "RemoveMember")
		m = store.DefaultMember(l.ID, "alice@example.com", store.RoleMember)
		must(t, s.AddMember(c, &m), "AddMember again")
		n, err := s.PostCount(c, l.ID, "alice@example.com")
		must(t, err, "PostCount")
		if n != 3 {
			t.Errorf("PostCount after resubscribe = %d, want 3", n)
		}
		if n, err := s.PostCount(c, l.ID, "nobody@example.com"); err != nil || n != 0 {
			t.Errorf("PostCount unknown = %d, %v", n, err)
		}
		_, err = s.RecordPost(c, l.ID+1000, "alice@example.com", t0)
		wantErr(t, err, store.ErrNotFound, "RecordPost unknown list")
	})

	t.Run("number post", func(t *testing.T) {
		before, err := s.GetListByID(c, l.ID)
		must(t, err, "GetListByID")
		id, err := s.NumberPost(c, l.ID, "Bob@Example.net", t0)
		must(t, err, "NumberPost")
		id2, err := s.NumberPost(c, l.ID, "", t0.Add(time.Minute))
		must(t, err, "NumberPost without a poster")
		if id != before.PostID+1 || id2 != id+1 {
			t.Errorf("NumberPost ids %d, %d after %d", id, id2, before.PostID)
		}
		after, err := s.GetListByID(c, l.ID)
		must(t, err, "GetListByID")
		if after.PostID != id2 || !sameTime(after.LastPostAt, t0.Add(time.Minute)) {
			t.Errorf("list after NumberPost: post_id %d, last post %v", after.PostID, after.LastPostAt)
		}
		if n, err := s.PostCount(c, l.ID, "bob@example.net"); err != nil || n != 1 {
			t.Errorf("PostCount after NumberPost = %d, %v", n, err)
		}
		_, err = s.NumberPost(c, l.ID+1000, "bob@example.net", t0)
		wantErr(t, err, store.ErrNotFound, "NumberPost unknown list")
	})

	t.Run("number post concurrently", func(t *testing.T) {
		// Concurrent posts share transactions (group commit): every one
		// gets its own number, none is lost, and a failing one (unknown
		// list) fails alone.
		before, err := s.GetListByID(c, l.ID)
		must(t, err, "GetListByID")
		const workers, each = 12, 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[int64]bool{}
		for w := range workers {
			wg.Go(func() {
				for range each {
					if w%4 == 0 {
						if _, err := s.NumberPost(c, l.ID+1000, "ghost@example.net", t0); !errors.Is(err, store.ErrNotFound) {
							t.Errorf("NumberPost on an unknown list: %v", err)
						}
					}
					id, err := s.NumberPost(c, l.ID, fmt.Sprintf("poster%d@example.net", w), t0)
					if err != nil {
						t.Errorf("NumberPost: %v", err)
						return
					}
					mu.Lock()
					if seen[id] {
						t.Errorf("post number %d given twice", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		after, err := s.GetListByID(c, l.ID)
		must(t, err, "GetListByID")
		if after.PostID != before.PostID+workers*each || len(seen) != workers*each {
			t.Errorf("post_id %d after %d, %d numbers; want %d more", after.PostID, before.PostID, len(seen), workers*each)
		}
		for w := range workers {
			if n, err := s.PostCount(c, l.ID, fmt.Sprintf("poster%d@example.net", w)); err != nil || n != each {
				t.Errorf("poster %d: PostCount %d, %v; want %d", w, n, err, each)
			}
		}
	})

	t.Run("number posts of two lists and a shared sender concurrently", func(t *testing.T) {
		// A group numbers its posts together (one statement per list and
		// per sender on the SQL stores): each list still counts 1, 2, 3...
		// with no gap, a goroutine's posts get rising numbers, and a
		// sender's posts in one group are all counted.
		l2 := &store.List{Name: "users", Domain: "example.org", Settings: store.DefaultSettings("users")}
		must(t, s.CreateList(c, l2), "CreateList")
		lists := []*store.List{l, l2}
		first := map[int64]int64{}
		for _, x := range lists {
			got, err := s.GetListByID(c, x.ID)
			must(t, err, "GetListByID")
			first[x.ID] = got.PostID
		}
		const workers, each = 10, 15
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[int64]map[int64]bool{l.ID: {}, l2.ID: {}}
		for w := range workers {
			wg.Go(func() {
				list := lists[w%2].ID
				prev := int64(0)
				for range each {
					id, err := s.NumberPost(c, list, "shared@example.net", t0)
					if err != nil {
						t.Errorf("NumberPost: %v", err)
						return
					}
					if id <= prev {
						t.Errorf("worker %d: number %d after %d", w, id, prev)
					}
					prev = id
					mu.Lock()
					if seen[list][id] {
						t.Errorf("list %d: number %d given twice", list, id)
					}
					seen[list][id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, x := range lists {
			want := int64(workers / 2 * each)
			for id := first[x.ID] + 1; id <= first[x.ID]+want; id++ {
				if !seen[x.ID][id] {
					t.Errorf("list %s: number %d not given", x.Name, id)
				}
			}
			got, err := s.GetListByID(c, x.ID)
			must(t, err, "GetListByID")
			if got.PostID != first[x.ID]+want {
				t.Errorf("list %s: post_id %d, want %d", x.Name, got.PostID, first[x.ID]+want)
			}
			if n, err := s.PostCount(c, x.ID, "shared@example.net"); err != nil || n != want {
				t.Errorf("list %s: PostCount %d, %v; want %d", x.Name, n, err, want)
			}
		}
	})

	t.Run("autoresponse limits", func(t *testing.T) {
		allow := func(email, kind string, at time.Time, perDay int, grace time.Duration) bool {
			t.Helper()
			ok, err := s.AllowAutoresponse(c, l.ID, email, kind, at, perDay, grace)
			must(t, err, "AllowAutoresponse")
			return ok
		}
		for i := range 3 {
			if !allow("bob@example.net", "hold", t0.Add(time.Duration(i)*time.Minute), 3, 0) {
				t.Errorf("response %d refused under the daily limit", i+1)
			}
		}
		if allow("bob@example.net", "hold", t0.Add(time.Hour), 3, 0) {
			t.Errorf("fourth response the same day allowed")
		}
		if !allow("bob@example.net", "postings", t0.Add(time.Hour), 3, 0) {
			t.Errorf("another kind shares the limit")
		}
		if !allow("carol@example.net", "hold", t0.Add(time.Hour), 3, 0) {
			t.Errorf("another address shares the limit")
		}
		if !allow("bob@example.net", "hold", t0.Add(24*time.Hour), 3, 0) {
			t.Errorf("the next day is still limited")
		}
		if !allow("dave@example.net", "postings", t0, 0, 90*24*time.Hour) {
			t.Errorf("first response in a grace period refused")
		}
		if allow("dave@example.net", "postings", t0.Add(89*24*time.Hour), 0, 90*24*time.Hour) {
			t.Errorf("response within the grace period allowed")
		}
		if !allow("dave@example.net", "postings", t0.Add(91*24*time.Hour), 0, 90*24*time.Hour) {
			t.Errorf("response after the grace period refused")
		}
		_, err := s.AllowAutoresponse(c, l.ID+1000, "x@example.com", "hold", t0, 1, 0)
		wantErr(t, err, store.ErrNotFound, "AllowAutoresponse unknown list")
	})

	t.Run("daily limit under concurrency", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 20 {
			wg.Go(func() {
				ok, err := s.AllowAutoresponse(c, l.ID, "erin@example.net", "hold", t0, 5, 0)
				if err != nil {
					t.Errorf("AllowAutoresponse: %v", err)
					return
				}
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 5 {
			t.Errorf("%d of 20 concurrent responses allowed, want 5", allowed)
		}
	})

	t.Run("held tokens", func(t *testing.T) {
		h := &store.Held{ListID: l.ID, Sender: "bob@example.net", Message: []byte("x")}
		must(t, s.HoldMessage(c, h), "HoldMessage")
		if len(h.Token) < 32 {
			t.Fatalf("HoldMessage token = %q", h.Token)
		}
		mine := &store.Held{ListID: l.ID, Sender: "bob@example.net", Message: []byte("y"), Token: "mod-given"}
		must(t, s.HoldMessage(c, mine), "HoldMessage with token")
		dup := &store.Held{ListID: l.ID, Message: []byte("z"), Token: "mod-given"}
		wantErr(t, s.HoldMessage(c, dup), store.ErrConflict, "HoldMessage duplicate token")
		got, err := s.GetHeldByToken(c, l.ID, h.Token)
		must(t, err, "GetHeldByToken")
		if got.ID != h.ID || string(got.Message) != "x" || got.Token != h.Token {
			t.Errorf("GetHeldByToken = %+v", got)
		}
		if byID, err := s.GetHeld(c, l.ID, mine.ID); err != nil || byID.Token != "mod-given" {
			t.Errorf("GetHeld token = %v, %v", byID, err)
		}
		for _, tok := range []string{"", "nope"} {
			_, err := s.GetHeldByToken(c, l.ID, tok)
			wantErr(t, err, store.ErrNotFound, "GetHeldByToken "+tok)
		}
		_, err = s.GetHeldByToken(c, l.ID+1000, h.Token)
		wantErr(t, err, store.ErrNotFound, "GetHeldByToken other list")
	})
}
