package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/testutil/fixture"
)

func TestHandlerReadsTheComponentsCounters(t *testing.T) {
	ctx := context.Background()
	sp := fixture.Spool(t, t.TempDir())
	item := func() spool.Item {
		return spool.Item{Queue: spool.In, Envelope: spool.Envelope{Domain: "lists.example.org", List: "dev",
			Alias: "post", Sender: "a@example.com"}, Message: []byte("Subject: x\r\n\r\nx\r\n")}
	}
	if _, err := sp.EnqueueAll(ctx, []spool.Item{item(), item()}); err != nil {
		t.Fatal(err)
	}
	done := runner.ProcessorFunc(func(ctx context.Context, c *spool.Claim) error { return c.Done(ctx) })
	r := runner.New("post", spool.In, sp, done, runner.Options{})
	if n, err := r.RunUntilEmpty(ctx); err != nil || n != 2 {
		t.Fatalf("runner: %d entries, %v", n, err)
	}
	if _, err := sp.Enqueue(ctx, item()); err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	Handler(Sources{Spool: sp, Runners: []*runner.Runner{r}}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`herald_spool_operations_total{op="enqueued"} 3`,
		`herald_spool_operations_total{op="done"} 2`,
		`herald_spool_ready_entries{queue="in"} 1`,
		`herald_spool_ready_entries{queue="shunt"} 0`,
		// Synced rounds: the two new entries, the third; each Done of a
		// resident entry is a lazy round (no sync of its own).
		`herald_spool_operations_total{op="sync_batches"} 2`,
		`herald_spool_operations_total{op="journal_lazy_rounds"} 2`,
		`herald_spool_commit_batch_size_bucket{le="1"} 1`,
		`herald_spool_commit_batch_size_bucket{le="2"} 2`,
		`herald_spool_commit_batch_size_sum 3`,
		`herald_spool_commit_batch_size_count 2`,
		`herald_runner_entries_total{outcome="processed",runner="post"} 2`,
		// The third entry, in memory with no file.
		`herald_spool_kept_entries{where="memory"} 1`,
		`herald_spool_kept_entries{where="journal"} 0`,
		`herald_spool_kept_bytes{where="journal"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "herald_delivery_total") {
		t.Error("delivery counters without a Deliverer")
	}
}
