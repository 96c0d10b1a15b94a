package sqlstore

import (
	"testing"
	"time"

	"herald/internal/store"
)

// The memoized walks hold at most memoRecipientsHeld recipients, expired
// ones included; a walk memoized again replaces its old count.
func TestMemoWalksBounded(t *testing.T) {
	db := &DB{}
	db.Memoize(time.Hour)
	walk := make([]store.Recipient, memoRecipientsMax)
	tk := memoTicket{gen: db.memo.gen.Load(), at: time.Now()}
	per := memoRecipientsHeld / memoRecipientsMax
	for i := range per {
		db.memoizeWalk(recipKey{list: int64(i)}, walk, tk)
		db.memoizeWalk(recipKey{list: int64(i)}, walk, tk) // again: counted once
	}
	if n, held := len(db.memo.recips), db.memo.recipsHeld; n != per || held != memoRecipientsHeld {
		t.Fatalf("%d walks holding %d recipients, want %d holding %d", n, held, per, memoRecipientsHeld)
	}
	db.memoizeWalk(recipKey{list: -1}, walk[:1], tk)
	if n, held := len(db.memo.recips), db.memo.recipsHeld; n != 1 || held != 1 {
		t.Fatalf("past the bound: %d walks holding %d recipients, want the new one alone", n, held)
	}
	if _, _, ok := memoFresh(db, &db.memo.recips, recipKey{list: -1}); !ok {
		t.Fatal("the walk memoized past the bound is not there")
	}
}
