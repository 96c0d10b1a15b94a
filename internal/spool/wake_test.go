package spool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestClaimersNeverMissAnEntry has many claimers wait on one queue, some
// of them giving up as entries arrive, and checks that every entry is
// claimed: a wake given to one claimer must never be lost.
func TestClaimersNeverMissAnEntry(t *testing.T) {
	for _, journal := range []bool{false, true} {
		t.Run(map[bool]string{false: "files", true: "journal"}[journal], func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.NoJournal = !journal
			s := openTest(t, opts)
			const entries, claimers = 300, 8
			var claimed atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			for i := range claimers {
				wg.Go(func() {
					for n := 0; ctx.Err() == nil; n++ {
						cctx, ccancel := context.WithCancel(ctx)
						if (n+i)%3 == 0 {
							// This claimer gives up very soon, as often as
							// not just when an add has chosen it.
							time.AfterFunc(time.Duration(n%5)*50*time.Microsecond, ccancel)
						}
						c, err := s.Claim(cctx, In)
						ccancel()
						if err != nil {
							if errors.Is(err, context.Canceled) {
								continue
							}
							t.Errorf("claim: %v", err)
							return
						}
						if err := c.Done(context.Background()); err != nil {
							t.Errorf("done: %v", err)
							return
						}
						claimed.Add(1)
					}
				})
			}
			for i := range entries {
				mustEnqueue(t, s, newItem(In, "message"))
				if i%7 == 0 {
					time.Sleep(200 * time.Microsecond) // let claimers go back to waiting
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for claimed.Load() < entries && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			wg.Wait()
			if got := claimed.Load(); got != entries {
				t.Fatalf("claimed %d of %d entries: a wake was lost", got, entries)
			}
		})
	}
}

// waiting returns how many claimers wait on queue q.
func waiting(s *Spool, q int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.q[q].waiters.Len()
}

// TestClaimerThatGaveUpTakesNoWake: claimers that stopped waiting (their
// context ended) must not be chosen by a later add in place of one that
// still waits.
func TestClaimerThatGaveUpTakesNoWake(t *testing.T) {
	s := openTest(t, testOptions(t.TempDir()))
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		if _, err := s.Claim(ctx, In); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("claim on an empty queue: %v", err)
		}
		cancel()
	}
	gaveUp := waiting(s, 0) // 0 unless those claimers stayed registered
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := s.Claim(ctx, In)
		if err == nil {
			err = c.Done(context.Background())
		}
		got <- err
	}()
	waitFor(t, func() bool { return waiting(s, 0) == gaveUp+1 }) // the claimer waits
	mustEnqueue(t, s, newItem(In, "message"))
	if err := <-got; err != nil {
		t.Fatalf("the claimer still waiting did not get the entry: %v", err)
	}
}
