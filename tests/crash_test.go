//go:build integration

package tests

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"
)

var crashMsgID = regexp.MustCompile(`(?m)^Message-ID: <crash-(\d+)@test.invalid>`)

// TestCrashNoAckedMessageLost kills herald with SIGKILL at random moments
// while 8 LMTP clients send; clients resend whatever did not get a 250,
// as an MTA does. Every acknowledged message must reach the sink;
// duplicates are bounded by what was in flight at each kill.
func TestCrashNoAckedMessageLost(t *testing.T) {
	total := 20000
	if s := os.Getenv("HERALD_TEST_CRASH_MESSAGES"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	const (
		clients = 8
		kills   = 10
	)
	h := newH(t)
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "crash@lists.example.org", "default_nonmember_action=accept", "subject_prefix=")
	h.MustRun("members", "add", "crash@lists.example.org", "sink@example.net")
	h.Start()

	var (
		acked   = make([]atomic.Bool, total)
		pending = make(chan int, total)
		left    atomic.Int64
		wg      sync.WaitGroup
	)
	for i := range total {
		pending <- i
	}
	left.Store(int64(total))
	stop := make(chan struct{})
	for range clients {
		wg.Go(func() { crashClient(h, pending, acked, &left, stop) })
	}

	spilled, files := 0.0, 0.0 // new entries kept in the journal only, files written: before the kills
	for k := range kills {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		m := scrapeMetrics(t, h.HTTPAddr)
		spilled += m[`herald_spool_operations_total{op="spilled"}`]
		files += m[`herald_spool_operations_total{op="files_created"}`]
		h.Kill()
		t.Logf("kill %d: %d messages still to send", k+1, left.Load())
		// Every other run keeps no new entry in memory and 1 MiB in the
		// journal only, so that kills find entries of every kind: in
		// memory, in the journal only, in files.
		h.env = nil
		if k%2 == 0 {
			h.env = []string{"HERALD_SPOOL_MEMORY_MB=0", "HERALD_SPOOL_JOURNAL_MB=1"}
		}
		h.Start()
	}
	deadline := time.Now().Add(5 * time.Minute)
	for left.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if left.Load() > 0 {
		t.Fatalf("%d messages never acknowledged", left.Load())
	}

	h.Sink.WaitFor(5*time.Minute, func(ms []smtpsink.Message) bool { return len(countNumbered(ms, crashMsgID)) >= total })
	got := countNumbered(h.Sink.Messages(), crashMsgID)
	lost, dups := 0, 0
	for i := range total {
		switch n := got[i]; {
		case n == 0 && acked[i].Load():
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	// At a kill, work in flight may be redone: LMTP sessions, post workers
	// and delivery connections.
	bound := kills * (clients + 2 + 4)
	t.Logf("sent=%d acked=%d delivered=%d duplicates=%d lost=%d (duplicate bound %d)", total, countAcked(acked), len(got), dups, lost, bound)
	t.Logf("before the kills: %.0f entries spilled, %.0f files written", spilled, files)
	fmt.Printf("crash test: sent=%d acked=%d delivered=%d duplicates=%d lost=%d kills=%d\n", total, countAcked(acked), len(got), dups, lost, kills)
	if lost != 0 {
		t.Errorf("%d acknowledged messages lost", lost)
	}
	if dups > bound {
		t.Errorf("%d duplicates, more than the %d in flight at the kills", dups, bound)
	}
}

// crashClient sends pending messages until none are left, resending any
// that did not get a 250.
func crashClient(h *H, pending chan int, acked []atomic.Bool, left *atomic.Int64, stop chan struct{}) {
	for {
		var n int
		select {
		case n = <-pending:
		case <-stop:
			return
		default:
			if left.Load() == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		body := msg("load@example.com", "crash@lists.example.org", fmt.Sprintf("crash %d", n), "payload")
		body = regexp.MustCompile(`Message-ID: <[^>]*>`).ReplaceAllString(body, fmt.Sprintf("Message-ID: <crash-%d@test.invalid>", n))
		res, err := sendLMTP("tcp", h.LMTPAddr, "load@example.com", []string{"crash@lists.example.org"}, body)
		if err == nil && len(res) == 1 && res[0].Code == 250 {
			if !acked[n].Swap(true) {
				left.Add(-1)
			}
			continue
		}
		pending <- n
		time.Sleep(20 * time.Millisecond)
	}
}

func countAcked(acked []atomic.Bool) int {
	n := 0
	for i := range acked {
		if acked[i].Load() {
			n++
		}
	}
	return n
}

// countNumbered counts the messages in ms by the number that re's first
// group finds in them.
func countNumbered(ms []smtpsink.Message, re *regexp.Regexp) map[int]int {
	got := map[int]int{}
	for _, m := range ms {
		if sm := re.FindSubmatch(m.Data); sm != nil {
			n, _ := strconv.Atoi(string(sm[1]))
			got[n]++
		}
	}
	return got
}
