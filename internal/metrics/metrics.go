// Package metrics serves herald's counters at /metrics in the Prometheus
// text format. The components keep their own counters (spool.Metrics,
// runner.Stats, delivery.Stats) as plain atomics; a collector reads them
// at scrape time, so counting costs the hot paths nothing extra and there
// is one source of truth per figure.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/internal/delivery"
	"herald/internal/runner"
	"herald/internal/spool"
)

// Sources are the components whose counters are exported; nil ones are
// left out.
type Sources struct {
	Spool    *spool.Spool
	Runners  []*runner.Runner
	Delivery *delivery.Deliverer
}

// Handler returns the /metrics handler: herald's counters plus the Go
// runtime's and the process's, on a registry of its own.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{src: src})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("herald_"+name, help, labels, nil)
}

var (
	spoolOps = desc("spool_operations_total",
		"Spool operations since start, by kind (enqueued, acked, claims, done, forwarded, retried, shunts, ...).", "op")
	spoolReady = desc("spool_ready_entries", "Entries ready in each queue (not claimed).", "queue")
	spoolBatch = desc("spool_commit_batch_size", "New entries per group-commit batch.")
	keptCount  = desc("spool_kept_entries",
		"Ready new entries the spool holds with no file, in memory or in the journal only (a stop writes a file for each).", "where")
	keptBytes = desc("spool_kept_bytes", "The bytes of those entries.", "where")
	runnerOps = desc("runner_entries_total", "Entries handled by each runner, by outcome.", "runner", "outcome")
	delivOps  = desc("delivery_total",
		"Delivery counters: entries, transactions, recipients delivered/deferred/failed/expired, dials, connection errors.", "what")
)

// collector reads the Sources at scrape time.
type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{spoolOps, spoolReady, spoolBatch, keptCount, keptBytes, runnerOps, delivOps} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if sp := c.src.Spool; sp != nil {
		m := sp.Metrics()
		for _, op := range []struct {
			name string
			v    uint64
		}{
			{"enqueued", m.Enqueued}, {"acked", m.Acked}, {"sync_batches", m.SyncBatches}, {"claims", m.Claims},
			{"claim_races", m.ClaimRaces}, {"done", m.Done}, {"forwarded", m.Forwarded}, {"retried", m.Retried},
			{"shunts", m.Shunts}, {"released", m.Released}, {"updated", m.Updated}, {"unshunted", m.Unshunted},
			{"recoveries", m.Recoveries}, {"torn", m.Torn}, {"disk_full", m.DiskFull}, {"kicks_read", m.KicksRead},
			{"files_created", m.FilesCreated}, {"spares_reused", m.SparesReused},
			{"journal_syncs", m.JournalSyncs}, {"journal_lazy_rounds", m.LazyRounds}, {"checkpoints", m.Checkpoints},
			{"restored", m.Restored},
			{"carried", m.Carried},
			{"spilled", m.Spilled},
		} {
			counter(spoolOps, float64(op.v), op.name)
		}
		for q, n := range sp.Counts() {
			ch <- prometheus.MustNewConstMetric(spoolReady, prometheus.GaugeValue, float64(n), q)
		}
		ch <- batchHistogram(m)
		k := sp.Kept()
		gauge := func(d *prometheus.Desc, v float64, where string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, where)
		}
		gauge(keptCount, float64(k.MemoryEntries), "memory")
		gauge(keptCount, float64(k.JournalEntries), "journal")
		gauge(keptBytes, float64(k.MemoryBytes), "memory")
		gauge(keptBytes, float64(k.JournalBytes), "journal")
	}
	for _, r := range c.src.Runners {
		counter(runnerOps, float64(r.Stats.Processed.Load()), r.Name, "processed")
		counter(runnerOps, float64(r.Stats.Retried.Load()), r.Name, "retried")
		counter(runnerOps, float64(r.Stats.Shunted.Load()), r.Name, "shunted")
		counter(runnerOps, float64(r.Stats.Panics.Load()), r.Name, "panics")
	}
	if d := c.src.Delivery; d != nil {
		s := &d.Stats
		for _, w := range []struct {
			name string
			v    int64
		}{
			{"entries", s.Entries.Load()}, {"transactions", s.Transactions.Load()},
			{"recipients_delivered", s.Delivered.Load()}, {"recipients_deferred", s.Deferred.Load()},
			{"recipients_failed", s.Failed.Load()}, {"recipients_expired", s.Expired.Load()},
			{"dials", s.Dials.Load()}, {"connection_errors", s.ConnErrors.Load()},
			{"entries_resumed", s.Resumed.Load()}, {"messages_signed", s.Signed.Load()},
		} {
			counter(delivOps, float64(w.v), w.name)
		}
	}
}

// batchHistogram turns the spool's bucket counts (each bucket counts its
// own range) into a cumulative Prometheus histogram.
func batchHistogram(m spool.Metrics) prometheus.Metric {
	buckets := make(map[float64]uint64, len(spool.BatchBuckets))
	var cum uint64
	for i, le := range spool.BatchBuckets {
		cum += m.BatchSizes[i]
		buckets[float64(le)] = cum
	}
	cum += m.BatchSizes[len(spool.BatchBuckets)]
	return prometheus.MustNewConstHistogram(spoolBatch, cum, float64(m.BatchEntries), buckets)
}
