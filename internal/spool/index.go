package spool

import (
	"bytes"
	"container/heap"

	"herald/internal/waitq"
)

// index is the in-memory view of the ready entries, built once at Open and
// kept current by this instance's own commits and by kicks from other
// processes. It never lists a directory. Removal is lazy: an id that left a
// queue stays in the heap until it reaches the top, where a mismatch with
// where[] drops it. All methods need Spool.mu.
type index struct {
	where map[key]loc
	q     [nQueues]qindex
}

// loc is where an id is: its queue and, for the retry queue, when it is due.
type loc struct {
	due int64 // Unix ns; 0 outside the retry queue
	q   int8
}

type qindex struct {
	h itemHeap
	n int // live entries
	// waiters are the claimers waiting for an entry. Each entry added
	// wakes one of them, not all: a broadcast to the post runner's 8
	// workers and delivery's 8 for every message had most of them wake,
	// find nothing and sleep again, and on 2 cores they queued ahead of
	// the LMTP sessions.
	waiters waitq.Queue
}

type item struct {
	k   key
	due int64
}

// itemHeap orders by due time (zero outside retry), then id, so non-retry
// queues are FIFO by arrival and retry is ordered by NotBefore.
type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return bytes.Compare(h[i].k[:], h[j].k[:]) < 0
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (x *index) init() { x.where = make(map[key]loc) }

// add makes k ready in queue q (due only counts for retry) and wakes one
// of the queue's waiting claimers. It reports whether anything changed.
func (x *index) add(q int, k key, due int64) bool {
	if q != retryIdx {
		due = 0
	}
	if old, ok := x.where[k]; ok {
		if int(old.q) == q && old.due == due {
			return false
		}
		x.q[old.q].n--
	}
	x.where[k] = loc{q: int8(q), due: due}
	qi := &x.q[q]
	qi.n++
	heap.Push(&qi.h, item{k: k, due: due})
	qi.waiters.WakeOne()
	return true
}

// wait registers a claimer of q that found nothing: the channel receives
// once, when an entry is added to q. A claimer that stops waiting for any
// other reason must call unwait.
func (x *index) wait(q int) <-chan struct{} { return x.q[q].waiters.Wait() }

// unwait withdraws a waiter of q that stopped waiting for another reason
// (a timer, its context, Close). If an add had already chosen it and it
// will not claim (claims false), the wake is passed on, so that an entry
// never waits while other claimers sleep.
func (x *index) unwait(q int, w <-chan struct{}, claims bool) { x.q[q].waiters.Withdraw(w, claims) }

// bulk adds without heap maintenance; fix must follow (used at Open).
func (x *index) bulk(q int, k key, due int64) {
	if q != retryIdx {
		due = 0
	}
	if old, ok := x.where[k]; ok {
		x.q[old.q].n--
	}
	x.where[k] = loc{q: int8(q), due: due}
	x.q[q].n++
	x.q[q].h = append(x.q[q].h, item{k: k, due: due})
}

func (x *index) fix() {
	for i := range x.q {
		heap.Init(&x.q[i].h)
	}
}

// remove forgets k, wherever it is.
func (x *index) remove(k key) {
	if old, ok := x.where[k]; ok {
		x.q[old.q].n--
		delete(x.where, k)
	}
}

// lookup returns the queue of k, or -1.
func (x *index) lookup(k key) int {
	if l, ok := x.where[k]; ok {
		return int(l.q)
	}
	return -1
}

// peek drops stale heap tops and returns the first live item of q.
func (x *index) peek(q int) (item, bool) {
	qi := &x.q[q]
	for len(qi.h) > 0 {
		top := qi.h[0]
		if l, ok := x.where[top.k]; ok && int(l.q) == q && l.due == top.due {
			return top, true
		}
		heap.Pop(&qi.h)
	}
	return item{}, false
}

// pop takes the first entry of q that is due at now (Unix ns) out of the
// index. When there is none, it returns, for retry, the due time of the
// earliest entry (0 if none).
func (x *index) pop(q int, now int64) (it item, ok bool, next int64) {
	top, ok := x.peek(q)
	if ok && (q != retryIdx || top.due <= now) {
		heap.Pop(&x.q[q].h)
		x.remove(top.k)
		return top, true, 0
	}
	if ok {
		next = top.due
	}
	return item{}, false, next
}

// keys returns the live ids of q, unordered.
func (x *index) keys(q int) []key {
	var ks []key
	for k, l := range x.where {
		if int(l.q) == q {
			ks = append(ks, k)
		}
	}
	return ks
}
