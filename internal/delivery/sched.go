package delivery

import (
	"strings"
	"sync"
	"time"

	"herald/internal/waitq"
)

// Limits throttle delivery to one destination domain.
type Limits struct {
	// Concurrency caps the transactions in flight to the domain; 0 means
	// no cap beyond the connection pool.
	Concurrency int
	// Rate caps recipients per second to the domain; 0 means none.
	Rate float64
	// Burst is how many recipients may go at once before Rate applies;
	// default one second's worth (at least 1).
	Burst float64
}

// group is one job's recipients at one destination domain, handed out as
// transactions of at most per recipients.
type group struct {
	job   *job
	dom   string // lower-case destination domain
	rcpts []*rcpt
	next  int
	per   int
}

// txn is one transaction handed to a connection worker.
type txn struct {
	job    *job
	rcpts  []*rcpt
	domain *domainQ
}

// domainName names the transaction's destination for logs: its domain,
// or the first and last of a packed transaction's domains.
func (t *txn) domainName() string {
	if t.domain.name != "" || len(t.rcpts) == 0 {
		return t.domain.name
	}
	first, last := domainOf(t.rcpts[0].addr), domainOf(t.rcpts[len(t.rcpts)-1].addr)
	if first == last {
		return first
	}
	return first + ".." + last
}

// domainQ is the work and the throttle state of one destination domain.
type domainQ struct {
	name     string
	groups   []*group
	inflight int
	lim      Limits
	tokens   float64
	last     time.Time
	ready    bool // in sched.ready
}

// sched hands out transactions to connection workers, round robin over
// destination domains, honouring each domain's Limits. Invariants: a
// domain is in ready exactly when it has groups; inflight counts the
// transactions taken and not yet released; queued counts the recipients in
// groups not yet handed out.
type sched struct {
	mu      sync.Mutex
	domains map[string]*domainQ
	ready   []*domainQ
	queued  int
	rr      int
	// waiters are the workers waiting in next. New work wakes one, and a
	// worker that takes a transaction while more is ready wakes the next:
	// a broadcast per message had all 8 workers wake, and most find
	// nothing, ahead of the LMTP sessions on 2 cores.
	waiters waitq.Queue
	def     Limits
	per     map[string]Limits
	now     func() time.Time
	closed  bool
}

func newSched(def Limits, per map[string]Limits, now func() time.Time) *sched {
	norm := map[string]Limits{}
	for d, l := range per {
		norm[strings.ToLower(d)] = l
	}
	return &sched{domains: map[string]*domainQ{}, def: def, per: norm, now: now}
}

func (s *sched) limitsFor(domain string) Limits {
	l, ok := s.per[domain]
	if !ok {
		l = s.def
	}
	if l.Rate > 0 && l.Burst < 1 {
		l.Burst = max(l.Rate, 1)
	}
	return l
}

// unwait withdraws a worker that stopped waiting for another reason (a
// timer, stop); see waitq.Queue.Withdraw.
func (s *sched) unwait(w <-chan struct{}, looks bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters.Withdraw(w, looks)
}

// add queues groups; s.mu is not held.
func (s *sched) add(gs []*group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range gs {
		d := s.domains[g.dom]
		if d == nil {
			lim := s.limitsFor(g.dom)
			d = &domainQ{name: g.dom, lim: lim, tokens: lim.Burst, last: s.now()}
			s.domains[g.dom] = d
		}
		s.queued += len(g.rcpts) - g.next
		d.groups = append(d.groups, g)
		if !d.ready {
			d.ready = true
			s.ready = append(s.ready, d)
		}
	}
	s.waiters.WakeOne() // who takes a transaction wakes the next (next)
}

// take returns the next transaction allowed now, or nil and the time at
// which a rate limit lets one go (zero: wait for a change). s.mu is held.
func (s *sched) take() (*txn, time.Time) {
	var soonest time.Time
	n := len(s.ready)
	for k := 0; k < n; k++ {
		i := (s.rr + k) % n
		d := s.ready[i]
		if d.lim.Concurrency > 0 && d.inflight >= d.lim.Concurrency {
			continue
		}
		g := d.groups[0]
		cnt := min(g.per, len(g.rcpts)-g.next)
		if d.lim.Rate > 0 {
			now := s.now()
			d.tokens = min(d.lim.Burst, d.tokens+now.Sub(d.last).Seconds()*d.lim.Rate)
			d.last = now
			need := min(float64(cnt), d.lim.Burst)
			if d.tokens < need {
				at := now.Add(time.Duration((need - d.tokens) / d.lim.Rate * float64(time.Second)))
				if soonest.IsZero() || at.Before(soonest) {
					soonest = at
				}
				continue
			}
			d.tokens -= float64(cnt)
		}
		t := &txn{job: g.job, rcpts: g.rcpts[g.next : g.next+cnt], domain: d}
		g.next += cnt
		s.queued -= cnt
		g.job.taken() // before groupDone, so the job cannot look finished
		if g.next == len(g.rcpts) {
			d.groups[0] = nil
			d.groups = d.groups[1:]
			g.job.groupDone()
		}
		d.inflight++
		if len(d.groups) == 0 {
			s.unready(i)
			s.rr = i
		} else {
			s.rr = i + 1
		}
		return t, time.Time{}
	}
	return nil, soonest
}

// unready removes ready[i]; s.mu is held.
func (s *sched) unready(i int) {
	d := s.ready[i]
	d.ready = false
	copy(s.ready[i:], s.ready[i+1:])
	s.ready[len(s.ready)-1] = nil
	s.ready = s.ready[:len(s.ready)-1]
	if d.inflight == 0 {
		delete(s.domains, d.name)
	}
}

// backlog returns how many recipients wait in groups not yet handed out.
func (s *sched) backlog() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}

// tryNext returns a transaction if one may go now.
func (s *sched) tryNext() *txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _ := s.take()
	return t
}

// next waits for a transaction. It returns nil when stop is closed, the
// scheduler closes, or idle passes without work.
func (s *sched) next(stop <-chan struct{}, idle time.Duration) *txn {
	idleT := time.NewTimer(idle)
	defer idleT.Stop()
	var rate *time.Timer
	defer func() {
		if rate != nil {
			rate.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil
		}
		t, at := s.take()
		var wake <-chan struct{}
		if t == nil {
			wake = s.waiters.Wait()
		} else if len(s.ready) > 0 {
			s.waiters.WakeOne() // there may be more to take: pass it on
		}
		s.mu.Unlock()
		if t != nil {
			return t
		}
		var rc <-chan time.Time
		if !at.IsZero() {
			if rate == nil {
				rate = time.NewTimer(time.Until(at))
			} else {
				rate.Reset(time.Until(at))
			}
			rc = rate.C
		}
		select {
		case <-stop:
			s.unwait(wake, false)
			return nil
		case <-idleT.C:
			s.unwait(wake, false)
			return nil
		case <-wake:
		case <-rc:
			s.unwait(wake, true)
		}
	}
}

// release ends a transaction taken by next or tryNext.
func (s *sched) release(t *txn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := t.domain
	d.inflight--
	if d.inflight == 0 && !d.ready {
		delete(s.domains, d.name)
	}
	if d.lim.Concurrency > 0 || d.ready {
		s.waiters.WakeOne()
	}
}

// cancel removes every group of j that has not been handed out in full
// and returns the recipients that were never sent.
func (s *sched) cancel(j *job) []*rcpt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var left []*rcpt
	for i := 0; i < len(s.ready); i++ {
		d := s.ready[i]
		kept := d.groups[:0]
		for _, g := range d.groups {
			if g.job != j {
				kept = append(kept, g)
				continue
			}
			left = append(left, g.rcpts[g.next:]...)
			s.queued -= len(g.rcpts) - g.next
			j.groupDone()
		}
		clear(d.groups[len(kept):])
		d.groups = kept
		if len(d.groups) == 0 {
			s.unready(i)
			i--
		}
	}
	if s.rr >= len(s.ready) {
		s.rr = 0
	}
	return left
}

// close makes next return nil from now on.
func (s *sched) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.waiters.WakeAll()
}
