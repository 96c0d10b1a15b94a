package spool

import "sync"

// batcher queues items from any goroutine and hands them to one worker in
// batches of whatever arrived while it was busy: the loop of the spool's
// two group commits, the file commit's ops (commit.go) and the journal's
// rounds (journal.go). Call init before use.
type batcher[T any] struct {
	mu      sync.Mutex
	cond    sync.Cond
	pending []T
	stopped bool
	done    chan struct{} // closed when run returns
}

func (b *batcher[T]) init() {
	b.cond.L = &b.mu
	b.done = make(chan struct{})
}

// add queues items for the worker; false, and nothing queued, once the
// batcher is stopped.
func (b *batcher[T]) add(items ...T) bool {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return false
	}
	b.pending = append(b.pending, items...)
	b.mu.Unlock()
	b.cond.Signal()
	return true
}

// run hands each batch to process, until the batcher is stopped and
// everything queued before is processed; then it closes done.
func (b *batcher[T]) run(process func([]T)) {
	defer close(b.done)
	for {
		b.mu.Lock()
		for len(b.pending) == 0 && !b.stopped {
			b.cond.Wait()
		}
		batch := b.pending
		b.pending = nil
		stop := b.stopped
		b.mu.Unlock()
		if len(batch) > 0 {
			process(batch)
		} else if stop {
			return
		}
	}
}

// stop refuses new items; run returns once the queued ones are processed.
func (b *batcher[T]) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cond.Broadcast()
}
