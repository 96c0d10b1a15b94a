package runner

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/testutil/fixture"
)

// TestStoppedRunnerTakesNoMore: once its context ends a runner finishes
// the entry it holds and claims no other, even when the processor puts
// every entry straight back (as the out runner does once delivery stops).
func TestStoppedRunnerTakesNoMore(t *testing.T) {
	sp := fixture.Spool(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 5 {
		if _, err := sp.Enqueue(ctx, spool.Item{Queue: spool.Out, Envelope: spool.Envelope{Recipients: []string{"a@example.org"}},
			Message: []byte("Subject: x\r\n\r\nx\r\n")}); err != nil {
			t.Fatal(err)
		}
	}
	var seen atomic.Int64
	giveBack := ProcessorFunc(func(ctx context.Context, c *spool.Claim) error {
		seen.Add(1)
		cancel() // the server stops while this entry is processed
		_, err := c.Forward(ctx, spool.Item{Queue: spool.Out, Envelope: c.Envelope, Message: c.Message})
		return err
	})
	r := New("out", spool.Out, sp, giveBack, Options{Workers: 1})
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("runner still running after stop; %d entries processed", seen.Load())
	}
	if n := seen.Load(); n != 1 {
		t.Errorf("processed %d entries after stop, want the 1 it held", n)
	}
	es, err := sp.List(spool.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 5 {
		t.Errorf("%d entries ready, want all 5 kept", len(es))
	}
}

// TestDiskFullParksInsteadOfRetrying: an entry whose processing fails for
// lack of disk space is given back to its queue after a short wait, not
// moved to the retry queue for minutes, and is processed again.
func TestDiskFullParksInsteadOfRetrying(t *testing.T) {
	sp := fixture.Spool(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := sp.Enqueue(ctx, spool.Item{Queue: spool.In, Message: []byte("Subject: x\r\n\r\nx\r\n")}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	fullOnce := ProcessorFunc(func(ctx context.Context, c *spool.Claim) error {
		if calls.Add(1) == 1 {
			return fmt.Errorf("forward: %w", spool.ErrDiskFull)
		}
		return c.Done(ctx)
	})
	r := New("post", spool.In, sp, fullOnce, Options{Workers: 1})
	go func() { _ = r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats.Processed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not processed again; calls %d, retried %d", calls.Load(), r.Stats.Retried.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls.Load() != 2 || r.Stats.Retried.Load() != 0 || sp.Counts()[spool.Retry] != 0 {
		t.Fatalf("calls %d, retried %d, retry queue %d", calls.Load(), r.Stats.Retried.Load(), sp.Counts()[spool.Retry])
	}
}
