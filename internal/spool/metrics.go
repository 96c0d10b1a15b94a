package spool

import "sync/atomic"

// BatchBuckets are the upper bounds of the group-commit batch size
// histogram in Metrics.BatchSizes; the last bucket counts larger batches.
var BatchBuckets = [...]int{1, 2, 4, 8, 16, 32, 64, 128, 256}

// Metrics is a snapshot of the spool's counters since Open.
type Metrics struct {
	Enqueued    uint64 // entries submitted by Enqueue, EnqueueAll and Forward
	Acked       uint64 // of those, made durable and acknowledged
	SyncBatches uint64 // durability rounds: group-commit batches and journal rounds
	// BatchEntries is the sum of the batches' sizes (new entries).
	BatchEntries uint64
	// BatchSizes[i] counts batches of at most BatchBuckets[i] new entries
	// (and more than BatchBuckets[i-1]); the last element counts the rest.
	BatchSizes [len(BatchBuckets) + 1]uint64
	Claims     uint64 // entries claimed
	ClaimRaces uint64 // claims lost to another process
	Done       uint64 // claims finished by Done
	Forwarded  uint64 // claims finished by Forward
	Retried    uint64 // claims moved to retry
	Shunts     uint64 // entries moved to shunt (by Shunt or by recovery)
	Released   uint64 // claims given back
	Updated    uint64 // envelope rewrites
	Unshunted  uint64 // entries taken out of shunt
	Recoveries uint64 // dead owners' claims recovered
	Torn       uint64 // entries quarantined as corrupt
	DiskFull   uint64 // writes refused or failed for lack of space or I/O errors
	KicksRead  uint64 // kick journal lines read from other processes
	// FilesCreated and SparesReused count the files entries were written
	// to: new ones, and finished entries' files rewritten (recycle.go).
	FilesCreated, SparesReused uint64
	// JournalSyncs counts journal fdatasyncs (one per synced round, or
	// for lazy rounds waiting); LazyRounds counts rounds written without
	// one (appendLazy); Checkpoints counts journal checkpoints (journal.go).
	JournalSyncs, LazyRounds, Checkpoints uint64
	Restored                              uint64 // entries written again from a dead owner's journal at Open
	Carried                               uint64 // resident entries carried into a new segment by checkpoints
	Spilled                               uint64 // new entries kept in the journal only, past the memory budget (resident.go)
}

// counters are the live atomic counters behind Metrics.
type counters struct {
	Enqueued, Acked, SyncBatches, BatchEntries       atomic.Uint64
	BatchSizes                                       [len(BatchBuckets) + 1]atomic.Uint64
	Claims, ClaimRaces, Done, Forwarded, Retried     atomic.Uint64
	Shunts, Released, Updated, Unshunted, Recoveries atomic.Uint64
	Torn, DiskFull, KicksRead                        atomic.Uint64
	FilesCreated, SparesReused                       atomic.Uint64
	JournalSyncs, Checkpoints, Restored, Carried     atomic.Uint64
	Spilled, LazyRounds                              atomic.Uint64
}

// batch records one group-commit batch of n new entries.
func (c *counters) batch(n int) {
	c.SyncBatches.Add(1)
	c.BatchEntries.Add(uint64(n))
	i := 0
	for i < len(BatchBuckets) && n > BatchBuckets[i] {
		i++
	}
	c.BatchSizes[i].Add(1)
}

// Metrics returns a snapshot of the spool's counters.
func (s *Spool) Metrics() Metrics {
	c := &s.metrics
	m := Metrics{
		Enqueued:     c.Enqueued.Load(),
		Acked:        c.Acked.Load(),
		SyncBatches:  c.SyncBatches.Load(),
		BatchEntries: c.BatchEntries.Load(),
		Claims:       c.Claims.Load(),
		ClaimRaces:   c.ClaimRaces.Load(),
		Done:         c.Done.Load(),
		Forwarded:    c.Forwarded.Load(),
		Retried:      c.Retried.Load(),
		Shunts:       c.Shunts.Load(),
		Released:     c.Released.Load(),
		Updated:      c.Updated.Load(),
		Unshunted:    c.Unshunted.Load(),
		Recoveries:   c.Recoveries.Load(),
		Torn:         c.Torn.Load(),
		DiskFull:     c.DiskFull.Load(),
		KicksRead:    c.KicksRead.Load(),
		FilesCreated: c.FilesCreated.Load(),
		SparesReused: c.SparesReused.Load(),
		JournalSyncs: c.JournalSyncs.Load(),
		LazyRounds:   c.LazyRounds.Load(),
		Checkpoints:  c.Checkpoints.Load(),
		Restored:     c.Restored.Load(),
		Carried:      c.Carried.Load(),
		Spilled:      c.Spilled.Load(),
	}
	for i := range m.BatchSizes {
		m.BatchSizes[i] = c.BatchSizes[i].Load()
	}
	return m
}
