package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Enqueue writes one entry to it.Queue and returns its id once the entry is
// durable: its data and its directory entry are synced. Concurrent writers
// share one group commit. A nil error is the only acknowledgement; on error
// no partial entry is visible. If ctx ends first, Enqueue returns ctx's
// error and the entry may or may not have been committed.
func (s *Spool) Enqueue(ctx context.Context, it Item) (string, error) {
	ids, err := s.EnqueueAll(ctx, []Item{it})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// EnqueueAll writes several entries in one group commit. It returns nil only
// when all are durable; on error some may have been committed and are
// processed normally (readers may see any subset; none is partial).
func (s *Spool) EnqueueAll(ctx context.Context, items []Item) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if len(items) == 0 {
		return nil, nil
	}
	now := s.now()
	entries := make([]*Entry, len(items))
	for i, it := range items {
		e, err := s.newEntry(it, now)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	s.metrics.Enqueued.Add(uint64(len(items)))
	if s.j != nil {
		if err := s.enqueueJournaled(entries); err != nil {
			return nil, err
		}
		return entryIDs(entries), nil
	}
	o, err := s.placeNew(entries)
	if err != nil {
		return nil, err
	}
	if err := s.wait(ctx, o); err != nil {
		return nil, err
	}
	return entryIDs(entries), nil
}

func entryIDs(entries []*Entry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// enqueueJournaled makes entries durable through the journal (journal.go):
// files staged unsynced, records appended and synced, then the files
// renamed into their queues and indexed. Other processes hear of them at
// the next checkpoint.
func (s *Spool) enqueueJournaled(entries []*Entry) error {
	if err := s.checkSpace(); err != nil {
		return err
	}
	keys := make([]key, len(entries))
	for i, e := range entries {
		keys[i], _ = parseKey(e.ID)
	}
	recs, size, err := encodeAll(entries)
	if err != nil {
		return err
	}
	if mode := s.keepModeFor(len(entries), size); mode != keepFile {
		return s.enqueueResident(entries, recs, keys, mode == keepSpilled)
	}
	tmps, err := s.stageEncoded(entries, recs, true, false)
	if err != nil {
		return err
	}
	p, err := s.j.append(entryRecords(recs), keys)
	if err != nil {
		s.removeTemps(tmps)
		return err
	}
	defer s.j.placed(p.seg)
	for i, e := range entries {
		p := s.readyPlacement(tmps[i], e)
		if err := s.placeFile(p); err != nil {
			// Journaled but not placed: the client is told to try again;
			// the record goes with the next checkpoint (or, after a crash
			// before it, is restored: a duplicate, never a loss).
			s.removeTemps(tmps[i:])
			return err
		}
		s.mu.Lock()
		s.idx.add(p.q, p.k, p.due)
		s.mu.Unlock()
		s.metrics.Acked.Add(1)
	}
	return nil
}

// encodeAll encodes entries and sums their sizes.
func encodeAll(entries []*Entry) ([][]byte, int, error) {
	recs := make([][]byte, len(entries))
	size := 0
	for i, e := range entries {
		b, err := encodeBytes(e)
		if err != nil {
			return nil, 0, err
		}
		recs[i] = b
		size += len(b)
	}
	return recs, size, nil
}

// placeFile renames a staged file into its queue without a sync: under
// the journal, the checkpoint's syncfs makes it (and any new hash
// directory) durable.
func (s *Spool) placeFile(p placement) error {
	err := s.ensureDir(filepath.Dir(p.dst), map[string]struct{}{})
	if err == nil {
		err = os.Rename(p.src, p.dst)
	}
	if err != nil {
		return diskErr("place entry", p.dst, err, &s.metrics)
	}
	return nil
}

// removeTemps removes staged temp files that will not be placed.
func (s *Spool) removeTemps(tmps []string) {
	for _, t := range tmps {
		s.check(os.Remove(t), "remove temp entry", "path", t)
	}
}

// newEntry validates it and makes an Entry with a fresh id.
func (s *Spool) newEntry(it Item, t time.Time) (*Entry, error) {
	if _, err := checkQueue(it.Queue); err != nil {
		return nil, err
	}
	e := &Entry{Envelope: it.Envelope, Message: it.Message}
	e.Envelope.Queue = it.Queue
	e.ID = newID(t)
	if e.Envelope.Arrived.IsZero() {
		e.Envelope.Arrived = t
	}
	return e, nil
}

// placeNew stages entries (write + fsync of temp files, in parallel) and
// submits the op that places them.
func (s *Spool) placeNew(entries []*Entry) (*op, error) {
	if err := s.checkSpace(); err != nil {
		return nil, err
	}
	tmps, err := s.stageAll(entries, true)
	if err != nil {
		return nil, err
	}
	o := newOp()
	o.n = len(entries)
	for i, e := range entries {
		o.place = append(o.place, s.readyPlacement(tmps[i], e))
	}
	s.submit(o)
	return o, nil
}

// wait waits for o or ctx.
func (s *Spool) wait(ctx context.Context, o *op) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return fmt.Errorf("spool: commit: %w", ctx.Err())
	}
}

// readyPlacement places the staged file tmp as e in e's queue.
func (s *Spool) readyPlacement(tmp string, e *Entry) placement {
	k, q, due := readyIndex(e)
	return placement{src: tmp, dst: s.readyPath(e.Envelope.Queue, e.ID), fresh: true, q: q, k: k, due: due}
}

// readyIndex returns how new entry e is indexed: its key, queue and, in
// retry, when it is due.
func readyIndex(e *Entry) (k key, q int, due int64) {
	k, _ = parseKey(e.ID)
	q = queueIndex(e.Envelope.Queue)
	if q == retryIdx && !e.Envelope.NotBefore.IsZero() {
		due = e.Envelope.NotBefore.UnixNano()
	}
	return k, q, due
}

// stage writes e to a temp file in tmp/ and fsyncs it; reuse allows a
// spare file (see recycle.go).
func (s *Spool) stage(e *Entry, reuse bool) (string, error) {
	tmps, err := s.stageAll([]*Entry{e}, reuse)
	if err != nil {
		return "", err
	}
	return tmps[0], nil
}

// stageAll writes each entry to a temp file (a spare if reuse allows),
// then fsyncs them in parallel (concurrent fsyncs share a journal commit).
// On error it removes them all.
func (s *Spool) stageAll(entries []*Entry, reuse bool) ([]string, error) {
	// In SyncFS mode the committer's syncfs makes the data durable
	// together with the directory entries.
	recs, _, err := encodeAll(entries)
	if err != nil {
		return nil, err
	}
	return s.stageEncoded(entries, recs, reuse, !s.syncFS)
}

// stageEncoded is stageAll for entries already encoded as recs; sync
// false leaves the data unsynced.
func (s *Spool) stageEncoded(entries []*Entry, recs [][]byte, reuse, sync bool) ([]string, error) {
	tmps := make([]string, 0, len(entries))
	files := make([]*os.File, 0, len(entries))
	fail := func(err error) ([]string, error) {
		for i, f := range files {
			_ = f.Close()
			s.check(os.Remove(tmps[i]), "remove temp entry", "path", tmps[i])
		}
		return nil, err
	}
	for i, e := range entries {
		b := recs[i]
		f, path, reused, err := s.openTemp(e.ID, reuse)
		if err != nil {
			return fail(diskErr("create", path, err, &s.metrics))
		}
		tmps = append(tmps, path)
		files = append(files, f)
		if _, err := f.Write(b); err != nil {
			return fail(diskErr("write", path, err, &s.metrics))
		}
		if reused {
			if err := f.Truncate(int64(len(b))); err != nil {
				return fail(diskErr("truncate", path, err, &s.metrics))
			}
		}
	}
	errs := make([]error, len(files))
	parallel(len(files), func(i int) {
		if s.testingNoSync || !sync {
			return
		}
		if err := files[i].Sync(); err != nil {
			errs[i] = diskErr("sync", tmps[i], err, &s.metrics)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	var cerr error
	for i, f := range files {
		if err := f.Close(); err != nil && cerr == nil {
			cerr = diskErr("close", tmps[i], err, &s.metrics)
		}
	}
	if cerr != nil {
		s.removeTemps(tmps)
		return nil, cerr
	}
	return tmps, nil
}
