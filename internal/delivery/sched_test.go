package delivery

import (
	"fmt"
	"testing"
	"time"
)

// testJob schedules a job of n recipients spread over domains, per
// recipients a transaction, as a finished feed would have.
func testJob(s *sched, n, per int, domains ...string) *job {
	j := &job{}
	j.start()
	gs := map[string]*group{}
	var list []*group
	for i := range n {
		dom := domains[i%len(domains)]
		if gs[dom] == nil {
			gs[dom] = &group{job: j, dom: dom, per: per}
			list = append(list, gs[dom])
		}
		gs[dom].rcpts = append(gs[dom].rcpts, &rcpt{addr: fmt.Sprintf("u%d@%s", i, dom)})
	}
	j.addGroups(len(list))
	s.add(list)
	j.groupDone()
	return j
}

func TestSchedRoundRobinAndConcurrency(t *testing.T) {
	s := newSched(Limits{}, map[string]Limits{"slow.example": {Concurrency: 1}}, time.Now)
	testJob(s, 12, 2, "a.example", "b.example", "slow.example")
	var got []string
	var held []*txn
	for t := s.tryNext(); t != nil; t = s.tryNext() {
		got = append(got, t.domain.name)
		held = append(held, t)
	}
	// slow.example has concurrency 1: only one of its two transactions
	// goes until the first is released.
	slow := 0
	for _, d := range got {
		if d == "slow.example" {
			slow++
		}
	}
	if slow != 1 || len(got) != 5 {
		t.Fatalf("handed out %v", got)
	}
	for _, h := range held {
		if h.domain.name == "slow.example" {
			s.release(h)
		}
	}
	if nt := s.tryNext(); nt == nil || nt.domain.name != "slow.example" {
		t.Fatalf("after release: %+v", nt)
	}
}

func TestSchedRateLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	s := newSched(Limits{Rate: 2, Burst: 4}, nil, clock)
	testJob(s, 10, 1, "r.example")
	n := 0
	for t := s.tryNext(); t != nil; t = s.tryNext() {
		n++
	}
	if n != 4 {
		t.Fatalf("burst let %d through, want 4", n)
	}
	now = now.Add(time.Second)
	n = 0
	for t := s.tryNext(); t != nil; t = s.tryNext() {
		n++
	}
	if n != 2 {
		t.Fatalf("after 1 s at 2/s: %d, want 2", n)
	}
}

func TestSchedCancel(t *testing.T) {
	s := newSched(Limits{}, nil, time.Now)
	j := testJob(s, 10, 3, "a.example", "b.example")
	first := s.tryNext()
	left := s.cancel(j)
	if len(left)+len(first.rcpts) != 10 {
		t.Fatalf("cancel returned %d, first had %d", len(left), len(first.rcpts))
	}
	if s.tryNext() != nil {
		t.Error("work left after cancel")
	}
	select {
	case <-j.done:
		t.Fatal("job done with a transaction in flight")
	default:
	}
	j.fail(first.rcpts, fmt.Errorf("x"))
	s.release(first)
	select {
	case <-j.done:
	case <-time.After(time.Second):
		t.Fatal("job not done")
	}
}

// schedWaiting returns how many workers wait in next.
func schedWaiting(s *sched) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters.Len()
}

// awaitWaiting fails the test unless n workers come to wait in next.
func awaitWaiting(t *testing.T, s *sched, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); schedWaiting(s) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers wait, want %d", schedWaiting(s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSchedWakesWorkersAsNeeded: new work wakes one waiting worker, and a
// worker that takes a transaction while more is ready wakes the next, so
// every transaction is taken and no worker wakes for nothing.
func TestSchedWakesWorkersAsNeeded(t *testing.T) {
	s := newSched(Limits{}, nil, time.Now)
	stop := make(chan struct{})
	took := make(chan *txn, 8)
	resume := make(chan struct{})
	const workers = 4
	for range workers {
		go func() {
			for {
				tx := s.next(stop, time.Minute)
				if tx == nil {
					return
				}
				took <- tx
				<-resume // busy with it, as on a connection, until told
			}
		}()
	}
	awaitWaiting(t, s, workers)
	testJob(s, 1, 1, "a.example") // one transaction
	<-took
	awaitWaiting(t, s, workers-1) // no other worker woke for it
	resume <- struct{}{}
	awaitWaiting(t, s, workers)
	// Three transactions: the worker woken takes one and is busy with
	// it, so the other two are taken only if each taker wakes the next.
	testJob(s, 6, 2, "a.example", "b.example", "c.example")
	for range 3 {
		select {
		case <-took:
		case <-time.After(5 * time.Second):
			t.Fatal("a transaction was left while workers slept")
		}
	}
	for range 3 {
		resume <- struct{}{}
	}
	awaitWaiting(t, s, workers)
	close(stop)
	awaitWaiting(t, s, 0)
}
