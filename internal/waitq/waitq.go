// Package waitq is a first-in first-out line of waiters that are each woken
// once: for a queue of work where a new item should wake one waiter, not
// all of them. A broadcast (a closed channel) wakes every idle worker for
// each item; all but one find nothing and sleep again, and on a small
// machine they are scheduled ahead of the goroutines that have real work.
//
// A Queue is not safe for concurrent use: its owner calls it under the
// lock that also guards the work, so that a waiter registered while
// holding the lock misses no item added after it.
package waitq

// Queue holds the waiters, oldest first. The zero value is empty.
type Queue struct {
	waiters []chan struct{}
}

// Wait registers a waiter: the channel receives once, when it is woken.
// A waiter that stops waiting for any other reason must call Withdraw.
func (q *Queue) Wait() <-chan struct{} {
	ch := make(chan struct{}, 1)
	q.waiters = append(q.waiters, ch)
	return ch
}

// WakeOne wakes the oldest waiter, if any.
func (q *Queue) WakeOne() {
	if len(q.waiters) == 0 {
		return
	}
	ch := q.waiters[0]
	q.waiters[0] = nil
	q.waiters = q.waiters[1:]
	ch <- struct{}{} // cap 1, and each channel is woken once
}

// WakeAll wakes every waiter.
func (q *Queue) WakeAll() {
	for _, ch := range q.waiters {
		ch <- struct{}{}
	}
	clear(q.waiters)
	q.waiters = q.waiters[:0]
}

// Withdraw removes waiter w, which stopped waiting for another reason (a
// timer, its context). If it had been woken already and will not look for
// work (looks false), its wake passes to the next waiter, so that work
// never waits while waiters sleep.
func (q *Queue) Withdraw(w <-chan struct{}, looks bool) {
	for i, ch := range q.waiters {
		if ch == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			return
		}
	}
	if !looks {
		q.WakeOne()
	}
}

// Len returns how many wait.
func (q *Queue) Len() int { return len(q.waiters) }
