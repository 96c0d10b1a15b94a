package waitq

import "testing"

// woken reports whether w has been woken, without waiting.
func woken(w <-chan struct{}) bool {
	select {
	case <-w:
		return true
	default:
		return false
	}
}

func TestWakeOneAndWithdraw(t *testing.T) {
	var q Queue
	w1, w2, w3 := q.Wait(), q.Wait(), q.Wait()

	q.WakeOne()
	if !woken(w1) || woken(w2) || woken(w3) {
		t.Fatal("WakeOne must wake the oldest waiter only")
	}
	// w2 gives up before anything chose it: withdrawn, nobody woken.
	q.Withdraw(w2, false)
	if woken(w3) {
		t.Fatal("a withdrawn waiter that was not chosen passed a wake on")
	}
	q.WakeOne()
	if !woken(w3) {
		t.Fatal("the next wake must go to w3")
	}
	// w4 is chosen but leaves without looking: the wake goes on to w5.
	w4, w5 := q.Wait(), q.Wait()
	q.WakeOne()
	q.Withdraw(w4, false)
	if !woken(w5) {
		t.Fatal("a chosen waiter that left without looking did not pass its wake on")
	}
	// A chosen waiter that goes on to look (its timer fired at the same
	// time) keeps the wake.
	w6, w7 := q.Wait(), q.Wait()
	q.WakeOne()
	q.Withdraw(w6, true)
	if woken(w7) {
		t.Fatal("a chosen waiter that looks passed its wake on")
	}
	if q.Len() != 1 {
		t.Fatalf("%d waiters left, want w7", q.Len())
	}
	w8 := q.Wait()
	q.WakeAll()
	if !woken(w7) || !woken(w8) || q.Len() != 0 {
		t.Fatal("WakeAll must wake every waiter and leave none")
	}
	q.WakeOne() // no waiter: nothing happens
}
