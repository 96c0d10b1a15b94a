package spool

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// Claim is an entry claimed exclusively by this Spool instance: its file
// sits in active/<owner>, where no other instance or process takes it. The
// holder finishes it with exactly one of Done, Forward, Retry, Shunt or
// Release; Update may come before. If the process dies first, the next Open
// (of any instance) gives the entry back to its queue with Attempts+1.
type Claim struct {
	Entry
	s     *Spool
	k     key
	queue int
	path  string // active/<owner>/<id>
	// resident: the entry has no file yet (resident.go); c.mu guards it.
	resident *resident

	mu    sync.Mutex
	state claimState
}

type claimState int

const (
	claimOpen claimState = iota
	claimFinished
	claimReleased // by Close
)

// TryClaim claims the first ready entry of queue (for Retry: the first one
// due by NotBefore) if there is one; ok is false when there is none now.
func (s *Spool) TryClaim(queue string) (c *Claim, ok bool, err error) {
	qi, err := checkQueue(queue)
	if err != nil {
		return nil, false, err
	}
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.leave()
	c, _, _, err = s.tryClaim(qi, false)
	return c, c != nil, err
}

// Claim blocks until an entry of queue is ready and claims it. For Retry it
// waits on a timer for the earliest NotBefore, or for a new entry, whichever
// comes first. It returns ctx's error when ctx ends and ErrClosed when the
// spool closes.
func (s *Spool) Claim(ctx context.Context, queue string) (*Claim, error) {
	qi, err := checkQueue(queue)
	if err != nil {
		return nil, err
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := s.enter(); err != nil {
			return nil, err
		}
		c, wake, next, err := s.tryClaim(qi, true)
		s.leave()
		if c != nil || err != nil {
			return c, err
		}
		var due <-chan time.Time
		if next != 0 {
			d := time.Duration(next - s.now().UnixNano())
			if d <= 0 {
				s.unwait(qi, wake, true)
				continue
			}
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			due = timer.C
		}
		select {
		case <-ctx.Done():
			s.unwait(qi, wake, false)
			return nil, fmt.Errorf("spool claim %s: %w", queue, ctx.Err())
		case <-s.closing:
			s.unwait(qi, wake, false)
			return nil, ErrClosed
		case <-wake:
		case <-due:
			s.unwait(qi, wake, true)
		}
	}
}

// unwait withdraws a waiting claimer of queue qi (index.unwait).
func (s *Spool) unwait(qi int, wake <-chan struct{}, claims bool) {
	s.mu.Lock()
	s.idx.unwait(qi, wake, claims)
	s.mu.Unlock()
}

// tryClaim pops ready ids off the index and renames each into active/ until
// one rename wins. A lost race (another process claimed or removed it) just
// moves on; a torn entry is quarantined. Claims are not synced: a claim lost
// in a crash leaves the entry ready, which is what recovery would do anyway.
// When there is none and wait is set, the caller is registered as a waiter
// (index.wait) under the same lock, so no add between the two is missed.
func (s *Spool) tryClaim(qi int, wait bool) (*Claim, <-chan struct{}, int64, error) {
	q := Queues[qi]
	for {
		s.mu.Lock()
		it, ok, next := s.idx.pop(qi, s.now().UnixNano())
		var rc *Claim
		var wake <-chan struct{}
		if ok {
			rc = s.claimResident(it.k, qi)
		} else if wait {
			wake = s.idx.wait(qi)
		}
		s.mu.Unlock()
		if !ok {
			return nil, wake, next, nil
		}
		id := it.k.String()
		src, dst := s.readyPath(q, id), s.claimPath(id)
		if rc != nil {
			rc.path = dst // rc is locked until claimedResident returns
			c, err := s.claimedResident(rc, it.due)
			return c, nil, 0, err
		}
		if err := os.Rename(src, dst); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				s.metrics.ClaimRaces.Add(1)
				continue
			}
			s.mu.Lock()
			s.idx.add(qi, it.k, it.due)
			s.mu.Unlock()
			return nil, nil, 0, diskErr("claim", src, err, &s.metrics)
		}
		e, err := readEntry(dst)
		if err == nil && (e.ID != id || e.Envelope.Queue != q) {
			err = corruptf("entry %s of queue %s found as %s", e.ID, e.Envelope.Queue, src)
		}
		if err != nil {
			if errors.Is(err, errCorrupt) {
				s.quarantine(dst, id, q, err)
				continue
			}
			if rerr := os.Rename(dst, src); rerr == nil {
				s.mu.Lock()
				s.idx.add(qi, it.k, it.due)
				s.mu.Unlock()
			}
			return nil, nil, 0, diskErr("read", dst, err, &s.metrics)
		}
		c := &Claim{Entry: *e, s: s, k: it.k, queue: qi, path: dst}
		s.mu.Lock()
		s.claims[it.k] = c
		s.mu.Unlock()
		s.metrics.Claims.Add(1)
		return c, nil, 0, nil
	}
}

// begin locks c for a state change; end must follow when it returns nil.
func (c *Claim) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	switch c.state {
	case claimFinished:
		c.mu.Unlock()
		return fmt.Errorf("spool claim %s: %w", c.ID, ErrFinished)
	case claimReleased:
		c.mu.Unlock()
		return fmt.Errorf("spool claim %s: %w", c.ID, ErrClosed)
	}
	if err := c.s.enter(); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}

// end unlocks c; finished marks the claim done and forgets it.
func (c *Claim) end(finished bool) {
	if finished {
		c.state = claimFinished
		c.s.mu.Lock()
		delete(c.s.claims, c.k)
		c.s.mu.Unlock()
	}
	c.s.leave()
	c.mu.Unlock()
}

// Done removes the processed entry. It returns once the removal is durable,
// so a finished entry is not processed again after a crash.
func (c *Claim) Done(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	var err error
	if c.s.j != nil {
		err = c.s.finishJournaled(c, nil)
	} else {
		o := newOp()
		o.remove = []retired{c.retired()}
		o.gone = []key{c.k}
		err = c.s.run(o)
	}
	c.end(err == nil)
	if err != nil {
		return fmt.Errorf("spool done %s: %w", c.ID, err)
	}
	c.s.metrics.Done.Add(1)
	return nil
}

// Forward replaces the entry by new ones (possibly none), exactly once
// across crashes: the new entries are durable before the claim disappears,
// and each records this entry as Parent with the size of its family, so
// recovery after a crash in between drops the parent when the whole family
// exists and drops a partial family otherwise. Items with a zero Arrived
// inherit this entry's. It returns the new ids.
func (c *Claim) Forward(ctx context.Context, items ...Item) ([]string, error) {
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	s := c.s
	now := s.now()
	entries := make([]*Entry, len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		if it.Envelope.Arrived.IsZero() {
			it.Envelope.Arrived = c.Envelope.Arrived
		}
		e, err := s.newEntry(it, now)
		if err != nil {
			c.end(false)
			return nil, err
		}
		e.Parent, e.family = c.ID, len(items)
		entries[i], ids[i] = e, e.ID
	}
	s.metrics.Enqueued.Add(uint64(len(entries)))
	if s.j != nil {
		err := s.finishJournaled(c, entries)
		c.end(err == nil)
		if err != nil {
			return nil, fmt.Errorf("spool forward %s: %w", c.ID, err)
		}
		s.metrics.Forwarded.Add(1)
		return ids, nil
	}
	o := newOp()
	if len(entries) > 0 {
		if err := s.checkSpace(); err != nil {
			c.end(false)
			return nil, err
		}
		tmps, err := s.stageAll(entries, true)
		if err != nil {
			c.end(false)
			return nil, err
		}
		for i, e := range entries {
			o.place = append(o.place, s.readyPlacement(tmps[i], e))
		}
		o.n = len(entries)
		o.after = []retired{c.retired()}
	} else {
		o.remove = []retired{c.retired()}
	}
	o.gone = []key{c.k}
	err := s.run(o)
	c.end(err == nil)
	if err != nil {
		return nil, fmt.Errorf("spool forward %s: %w", c.ID, err)
	}
	s.metrics.Forwarded.Add(1)
	return ids, nil
}

// Retry moves the entry to the retry queue, due at at plus a small jitter
// (up to a tenth of the delay, at most a minute) so that a restart does not
// retry everything at once. It sets Origin to the current queue (kept when
// retrying from retry or shunt), increments Attempts and records cause.
func (c *Claim) Retry(ctx context.Context, at time.Time, cause error) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	env := c.Envelope
	c.setOrigin(&env)
	delay := at.Sub(c.s.now())
	jitter := min(max(delay/10, time.Millisecond), time.Minute)
	env.NotBefore = at.Add(time.Duration(rand.Int64N(int64(jitter))))
	env.Attempts++
	env.LastError = errText(cause)
	env.Queue = Retry
	err := c.move(env)
	c.end(err == nil)
	if err != nil {
		return fmt.Errorf("spool retry %s: %w", c.ID, err)
	}
	c.s.metrics.Retried.Add(1)
	return nil
}

// Shunt moves the entry to the shunt queue with Origin (the current queue,
// or the recorded Origin when shunting from retry or shunt) and LastError,
// for an operator to inspect and Unshunt.
func (c *Claim) Shunt(ctx context.Context, cause error) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	env := c.Envelope
	c.setOrigin(&env)
	env.LastError = errText(cause)
	env.Queue = Shunt
	err := c.move(env)
	c.end(err == nil)
	if err != nil {
		return fmt.Errorf("spool shunt %s: %w", c.ID, err)
	}
	c.s.metrics.Shunts.Add(1)
	c.s.log.Warn("entry shunted", "queue", Queues[c.queue], "id", c.ID, "list", env.List,
		"domain", env.Domain, "err", env.LastError)
	return nil
}

func (c *Claim) setOrigin(env *Envelope) {
	if (c.queue != retryIdx && Queues[c.queue] != Shunt) || env.Origin == "" {
		env.Origin = Queues[c.queue]
	}
}

// move rewrites the entry (same id) with env into env.Queue, then drops the
// claim file. Recovery drops a claim whose id is ready in some queue, so a
// crash between the two steps does not process the entry twice.
func (c *Claim) move(env Envelope) error {
	e := c.Entry
	e.Envelope = env
	tmp, err := c.s.stage(&e, true)
	if err != nil {
		return err
	}
	o := newOp()
	o.place = []placement{c.s.readyPlacement(tmp, &e)}
	o.after = []retired{c.retired()}
	return c.s.run(o)
}

// Release gives the entry back to its queue unprocessed (at shutdown),
// Attempts unchanged: one rename, plus the sync of the target directory.
func (c *Claim) Release(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	if c.resident != nil {
		c.s.putBack(c)
		c.end(true)
		c.s.metrics.Released.Add(1)
		return nil
	}
	err := c.s.run(c.releaseOp())
	c.end(err == nil)
	if err != nil {
		return fmt.Errorf("spool release %s: %w", c.ID, err)
	}
	c.s.metrics.Released.Add(1)
	return nil
}

func (c *Claim) releaseOp() *op {
	o := newOp()
	var due int64
	if c.queue == retryIdx && !c.Envelope.NotBefore.IsZero() {
		due = c.Envelope.NotBefore.UnixNano()
	}
	o.place = []placement{{src: c.path, dst: c.s.readyPath(Queues[c.queue], c.ID), q: c.queue, k: c.k, due: due}}
	return o
}

// closeRelease marks c released for Close and returns the op that puts it
// back, or nil when the claim is already finished.
func (c *Claim) closeRelease() *op {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != claimOpen {
		return nil
	}
	c.state = claimReleased
	c.s.mu.Lock()
	delete(c.s.claims, c.k)
	c.s.mu.Unlock()
	c.s.metrics.Released.Add(1)
	if c.resident != nil {
		c.s.putBack(c) // Close's checkpoint writes its file
		return nil
	}
	return c.releaseOp()
}

// Update durably rewrites the envelope (for example delivery progress);
// the entry stays claimed. Queue is kept.
func (c *Claim) Update(ctx context.Context, env Envelope) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	defer c.end(false)
	env.Queue = Queues[c.queue]
	e := c.Entry
	e.Envelope = env
	tmp, err := c.s.stage(&e, false) // never a spare: see recycle.go
	if err != nil {
		return fmt.Errorf("spool update %s: %w", c.ID, err)
	}
	o := newOp()
	o.place = []placement{{src: tmp, dst: c.path, fresh: true, q: -1, k: c.k}}
	if err := c.s.run(o); err != nil {
		return fmt.Errorf("spool update %s: %w", c.ID, err)
	}
	c.resident = nil // the claim file exists now
	c.Envelope = env
	c.s.metrics.Updated.Add(1)
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
