package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// pausedWalk is the real store with a walk that stops after a number of
// recipients until the test releases it, then goes on or fails.
type pausedWalk struct {
	Store
	after   int
	paused  chan struct{}
	release chan error
}

func (p *pausedWalk) EachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error {
	n := 0
	return p.Store.EachRecipient(ctx, listID, personal, func(r *store.Recipient) error {
		if n++; n == p.after+1 {
			close(p.paused)
			if err := <-p.release; err != nil {
				return err
			}
		}
		return fn(r)
	})
}

// pausedEnv is an env whose walk pauses after `after` recipients, with
// n members at 4 domains and one post to them queued.
func pausedEnv(t *testing.T, n, after int) (*env, *pausedWalk) {
	t.Helper()
	var pw *pausedWalk
	e := newEnv(t, func(o *Options) {
		pw = &pausedWalk{Store: o.Store, after: after, paused: make(chan struct{}), release: make(chan error)}
		o.Store = pw
	})
	e.addMembers(n, 4, nil)
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
	return e, pw
}

// waitRecipients waits until the sink has at least n recipients.
func (e *env) waitRecipients(n int) {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(e.sink.Recipients()) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("sink has %d recipients, want %d", len(e.sink.Recipients()), n)
		}
	}
}

// TestFeedSendsDuringWalk: domains that fill transactions go out while the
// walk is still running.
func TestFeedSendsDuringWalk(t *testing.T) {
	e, pw := pausedEnv(t, 1200, 600) // 150 a domain by the pause: 100 each can go
	done := e.processAsync()
	<-pw.paused
	e.waitRecipients(400)
	pw.release <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := e.eachOnce()
	if got != 1200 {
		t.Errorf("%d recipients, want 1200", got)
	}
}

// TestFeedStopDuringWalk: Stop while the members are walked; every member
// ends delivered or in the out entry for the rest, never both.
func TestFeedStopDuringWalk(t *testing.T) {
	e, pw := pausedEnv(t, 1200, 600)
	done := e.processAsync()
	<-pw.paused
	e.waitRecipients(400)
	e.d.Stop()
	pw.release <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := e.sink.Recipients()
	outs, err := e.sp.List(spool.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 {
		t.Fatalf("%d out entries after Stop, want 1 (the rest)", len(outs))
	}
	rest := outs[0].Envelope.Recipients
	for _, r := range rest {
		if got[r] != 0 {
			t.Errorf("%s delivered and requeued", r)
		}
	}
	if len(got)+len(rest) != 1200 || len(rest) == 0 {
		t.Errorf("delivered %d + requeued %d, want 1200 with some requeued", len(got), len(rest))
	}
}

// TestFeedWalkFails: the store fails in the middle of the walk; what went
// out is journaled, the entry is retried, and the next attempt sends only
// the others.
func TestFeedWalkFails(t *testing.T) {
	e, pw := pausedEnv(t, 1200, 600)
	c, done := e.claimAndProcessAsync()
	<-pw.paused
	e.waitRecipients(400)
	pw.release <- errors.New("disk I/O error")
	if err := <-done; err == nil || !status.IsTemporary(err) {
		t.Fatalf("Process = %v, want a temporary error", err)
	}
	if err := c.Release(context.Background()); err != nil { // as the runner does with a temporary error
		t.Fatal(err)
	}
	sent := len(e.sink.Recipients())
	pw.Store, pw.after = e.st, -1 // the store works again
	e.process()
	got := e.eachOnce()
	if got != 1200 || sent < 400 {
		t.Errorf("%d recipients in all (%d before the failure), want 1200 (400 or more)", got, sent)
	}
}

// TestFeedGroupFullAtCheck: a domain's group fills a transaction on the
// very recipient at which the feed checks the scheduler's backlog; it must
// be scheduled once, not by the check and again as full (the second time
// as an empty transaction).
func TestFeedGroupFullAtCheck(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxRecipients = feedCheckEvery / 2 })
	e.addMembers(feedCheckEvery, 1, nil) // one domain: its second group fills at the check
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
	e.process()
	got := e.eachOnce()
	if got != feedCheckEvery {
		t.Errorf("%d recipients, want %d", got, feedCheckEvery)
	}
	if n := e.d.Stats.Transactions.Load(); n != 2 {
		t.Errorf("%d transactions, want 2 of %d", n, feedCheckEvery/2)
	}
}

// TestFeedFirstTransactionEarly: with nothing in flight, a bulk job's
// first full transaction of small domains goes while the walk is still
// short of a backlog's worth (8 connections x 500), and only whole
// transactions are packed before the walk ends.
func TestFeedFirstTransactionEarly(t *testing.T) {
	var pw *pausedWalk
	e := newEnv(t, func(o *Options) {
		o.Connections, o.MaxRecipients = 8, 500
		pw = &pausedWalk{Store: o.Store, after: 600, paused: make(chan struct{}), release: make(chan error)}
		o.Store = pw
	})
	e.addMembers(2000, 99, nil)
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
	done := e.processAsync()
	<-pw.paused
	e.waitRecipients(500)
	time.Sleep(50 * time.Millisecond) // anything more would show by now
	if msgs := e.sink.Messages(); len(msgs) != 1 || len(msgs[0].To) != 500 {
		t.Errorf("during the walk: %d transactions (%d recipients); want one full transaction of 500", len(msgs), len(e.sink.Recipients()))
	}
	pw.release <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := e.eachOnce()
	if got != 2000 {
		t.Errorf("%d recipients, want 2000", got)
	}
}
