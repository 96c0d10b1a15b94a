package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"herald/internal/store"
)

// Goroutines and members per goroutine in the concurrency test.
const (
	workers          = 10
	membersPerWorker = 20
)

func testConcurrency(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)

	var wg sync.WaitGroup
	errs := make(chan error, workers*membersPerWorker*3)
	for w := range workers {
		wg.Go(func() {
			for i := range membersPerWorker {
				m := store.DefaultMember(l.ID, fmt.Sprintf("w%d-%d@example.net", w, i), store.RoleMember)
				if err := s.AddMember(c, &m); err != nil {
					errs <- fmt.Errorf("worker %d: add %s: %w", w, m.Email, err)
				}
				if _, err := s.NextPostID(c, l.ID, time.Now()); err != nil {
					errs <- fmt.Errorf("worker %d: next post id: %w", w, err)
				}
				if _, err := s.CountMembers(c, l.ID, ""); err != nil {
					errs <- fmt.Errorf("worker %d: count: %w", w, err)
				}
			}
			// Every worker adds the same address too: exactly one wins.
			shared := store.DefaultMember(l.ID, "shared@example.net", store.RoleNonmember)
			if err := s.AddMember(c, &shared); err != nil && !isConflict(err) {
				errs <- fmt.Errorf("worker %d: add shared: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := s.CountMembers(c, l.ID, store.RoleMember)
	must(t, err, "CountMembers")
	if n != workers*membersPerWorker {
		t.Errorf("%d members after concurrent adds, want %d", n, workers*membersPerWorker)
	}
	n, err = s.CountMembers(c, l.ID, store.RoleNonmember)
	must(t, err, "CountMembers")
	if n != 1 {
		t.Errorf("shared address added %d times, want once", n)
	}
	got, err := s.GetListByID(c, l.ID)
	must(t, err, "GetListByID")
	if got.PostID != workers*membersPerWorker {
		t.Errorf("PostID = %d after %d concurrent NextPostID calls", got.PostID, workers*membersPerWorker)
	}
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
