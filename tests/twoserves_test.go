//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"
)

var twoSubject = regexp.MustCompile(`(?m)^Subject: two-(\d+)\r$`)

// TestTwoServesShareOneDataDir runs two `herald serve` processes on one
// data directory, each taking LMTP on its own port, as an operator
// scaling out on one machine would; their runners share the queues
// through claims. The second cannot reach its MTA, so what its delivery
// takes waits (or goes to retry) until it is stopped. Every message is
// delivered exactly once: with no crash, a duplicate could only mean that
// both processes worked on one entry; and what the stopped one held is
// delivered by the other.
func TestTwoServesShareOneDataDir(t *testing.T) {
	const total = 600
	h := newH(t)
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "two@lists.example.org", "default_nonmember_action=accept", "subject_prefix=")
	h.MustRun("members", "add", "two@lists.example.org", "sink@example.net")
	h.Start()
	h2 := secondServe(t, h)
	h2.Start()
	t.Cleanup(h2.Stop)

	// Half the messages to each process, 4 sessions each.
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := range 8 {
		target := h
		if w%2 == 1 {
			target = h2
		}
		wg.Go(func() {
			for i := w; i < total; i += 8 {
				m := msg("poster@example.com", "two@lists.example.org", fmt.Sprintf("two-%d", i), "body")
				res, err := sendLMTP("tcp", target.LMTPAddr, "poster@example.com", []string{"two@lists.example.org"}, m)
				if err == nil && res[0].Code != 250 {
					err = fmt.Errorf("message %d: %d %v", i, res[0].Code, res[0].Err)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the second's delivery takes some entries and fails
	m := scrapeMetrics(t, h2.HTTPAddr)
	failed := m[`herald_delivery_total{what="connection_errors"}`]
	h2.Stop()
	t.Logf("the second serve failed %.0f connections to its MTA before it stopped", failed)

	h.Sink.WaitFor(2*time.Minute, func(ms []smtpsink.Message) bool { return len(countNumbered(ms, twoSubject)) >= total })
	time.Sleep(500 * time.Millisecond) // a duplicate would come now
	got := countNumbered(h.Sink.Messages(), twoSubject)
	for i := range total {
		if got[i] != 1 {
			t.Errorf("message %d delivered %d times", i, got[i])
		}
	}
}

// secondServe returns a harness for another `herald serve` on h's data
// directory, with its own LMTP port, socket, HTTP port and log, and an
// MTA port where nothing listens.
func secondServe(t *testing.T, h *H) *H {
	t.Helper()
	h2 := &H{t: t, Dir: h.Dir, Sink: h.Sink,
		LMTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		Config:   filepath.Join(h.Dir, "herald2.toml"),
		logPath:  filepath.Join(h.Dir, "herald2.log"),
	}
	b, err := os.ReadFile(h.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(h.LMTPAddr, h2.LMTPAddr, h.HTTPAddr, h2.HTTPAddr,
		`"data/lmtp.sock"`, `"data/lmtp2.sock"`,
		fmt.Sprintf("port = %d\n", h.Sink.Port()), fmt.Sprintf("port = %d\n", freePort(t))).Replace(string(b))
	if err := os.WriteFile(h2.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(h2.logPath); err == nil {
				t.Logf("second herald log (last 4000 bytes):\n%s", tail(b, 4000))
			}
		}
	})
	return h2
}
