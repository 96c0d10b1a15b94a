package spool

import (
	"errors"
	"fmt"
)

// Resident entries.
//
// An entry enqueued through the journal need not have a file at all while
// this instance holds it: its record in the journal is what makes it
// durable, and no other process may take it before the checkpoint anyway
// (journal.go). So Enqueue keeps the encoded entry in memory ("resident")
// and writes no file; a claim of it costs no rename and no read, and a
// post that is processed before the next checkpoint never creates an
// inode. Past residentBudget bytes in memory, an entry is "spilled": only
// where its record lies in the journal is kept, and a claim reads it back
// (from the page cache, as a rule): a burst that outruns the runners costs
// no inode per message either. Past spillBudget more, Enqueue writes files
// as before (the journal then holds a second copy only until the next
// checkpoint). A checkpoint deals with every resident entry of the
// segments it deletes: a timed one carries the ready ones into the new
// segment (carryResidents: a backlog of thousands costs one write, not
// thousands of inodes; spilled ones stay spilled), the one at Close writes
// their files into their queues; claimed ones get their claim file. After
// a crash the journal restores them (nothing of them is on disk). The
// budgets bound memory and the journal's size; keptMax bounds the files
// Close writes, whatever the entries' size (Close writes ~4,700 a second
// here, so 65,536 of 4 KiB take it ~14 s; the same count of 64 KiB
// entries would be 4 GiB, and the byte budget stops them at ~17,000).
const (
	residentBudget = 64 << 20
	spillBudget    = 1 << 30
	keptMax        = 1 << 16
)

// resident is a resident entry: its encoding, or where it lies when
// spilled (rec nil), and its journal segment.
type resident struct {
	rec []byte
	seg uint64
	off int64 // spilled: the payload's offset in seg
	n   int   // spilled: its length
}

// spilled reports whether r's record is only in the journal.
func (r resident) spilled() bool { return r.n > 0 }

// keepMode is where a journaled new entry is kept: see above.
type keepMode int

const (
	keepFile keepMode = iota
	keepMemory
	keepSpilled
)

// keepModeFor returns where count more new entries of n bytes in all can
// be kept.
func (s *Spool) keepModeFor(count, n int) keepMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.keptMax >= 0 && len(s.resident)+count > s.keptMax:
		return keepFile
	case s.residentBytes+int64(n) <= s.residentMax:
		return keepMemory
	case s.spilledBytes+int64(n) <= s.spillMax:
		return keepSpilled
	}
	return keepFile
}

// keepResident makes entries, journaled at p as recs (their encodings
// first), ready resident entries, and counts the spilled ones; s.mu held.
func (s *Spool) keepResident(entries []*Entry, recs []jrec, p pos, spill bool) {
	var offs []int64
	if spill {
		offs = p.payloadOffsets(recs)
	}
	for i, e := range entries {
		k, q, due := readyIndex(e) // no path: a resident entry has no file
		r := resident{rec: recs[i].b, seg: p.seg}
		if spill {
			r = resident{seg: p.seg, off: offs[i], n: len(recs[i].b)}
		}
		s.addResident(k, r)
		s.idx.add(q, k, due)
	}
	if spill {
		s.metrics.Spilled.Add(uint64(len(entries)))
	}
}

// addResident adds r as ready resident entry k and counts its bytes;
// s.mu held.
func (s *Spool) addResident(k key, r resident) {
	if r.spilled() {
		r.rec = nil
		s.spilledBytes += int64(r.n)
		s.spilledCount++
	} else {
		s.residentBytes += int64(len(r.rec))
	}
	s.resident[k] = r
}

// enqueueResident is enqueueJournaled for entries kept in memory or
// spilled.
func (s *Spool) enqueueResident(entries []*Entry, recs [][]byte, keys []key, spill bool) error {
	jrecs := entryRecords(recs)
	p, err := s.j.append(jrecs, keys)
	if err != nil {
		return err
	}
	defer s.j.placed(p.seg)
	s.mu.Lock()
	s.keepResident(entries, jrecs, p, spill)
	s.mu.Unlock()
	s.metrics.Acked.Add(uint64(len(entries)))
	return nil
}

// claimResident takes k out of the ready resident entries if it is one
// and registers its claim, locked, in the same critical section (s.mu
// held), so that a checkpoint sees the entry either ready or claimed;
// the caller sets its path and claimedResident completes it.
func (s *Spool) claimResident(k key, qi int) *Claim {
	r, ok := s.takeResident(k)
	if !ok {
		return nil
	}
	c := &Claim{s: s, k: k, queue: qi, resident: &r}
	c.mu.Lock()
	s.claims[k] = c
	return c
}

// takeResident takes k out of the ready resident entries if it is one;
// s.mu held.
func (s *Spool) takeResident(k key) (resident, bool) {
	r, ok := s.resident[k]
	if !ok {
		return r, false
	}
	delete(s.resident, k)
	if r.spilled() {
		s.spilledBytes -= int64(r.n)
		s.spilledCount--
	} else {
		s.residentBytes -= int64(len(r.rec))
	}
	return r, true
}

// Kept is what the spool holds with no file: ready new entries kept in
// memory, and kept in the journal only (spilled), with their encodings'
// bytes. Close writes a file for each (see keptMax).
type Kept struct {
	MemoryEntries, JournalEntries int
	MemoryBytes, JournalBytes     int64
}

// Kept returns what the spool holds with no file now.
func (s *Spool) Kept() Kept {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Kept{
		MemoryEntries: len(s.resident) - s.spilledCount, JournalEntries: s.spilledCount,
		MemoryBytes: s.residentBytes, JournalBytes: s.spilledBytes,
	}
}

// record returns r's encoding, read back from the journal if r is
// spilled. The caller keeps r's segment from being deleted meanwhile
// (holds s.mu with r current, or runs the checkpoint).
func (s *Spool) record(r resident) ([]byte, error) {
	if !r.spilled() {
		return r.rec, nil
	}
	return s.j.readPayload(r.seg, r.off, r.n)
}

// claimedResident completes c, locked by claimResident: a claim record,
// the record read back if it was spilled, the entry decoded; no file to
// move or read. On failure the entry is ready again.
func (s *Spool) claimedResident(c *Claim, due int64) (*Claim, error) {
	defer c.mu.Unlock()
	err := s.j.noteClaim(c.k)
	noted := err == nil
	if err == nil && c.resident.spilled() {
		// Safe outside s.mu: a checkpoint deletes the segment only after
		// writing this claim's file, which waits for c.mu.
		c.resident.rec, err = s.j.readPayload(c.resident.seg, c.resident.off, c.resident.n)
	}
	var e *Entry
	if err == nil {
		if e, err = decodeBytes(c.resident.rec); err != nil {
			err = fmt.Errorf("spool: resident entry %s does not decode: %w", c.k, err) // never expected: written by this process
		}
	}
	if err != nil {
		s.mu.Lock()
		delete(s.claims, c.k)
		s.mu.Unlock()
		c.state = claimReleased
		if noted {
			s.check(s.j.noteRelease(c.k), "journal a claim given back", "id", c.k.String())
		}
		s.returnResident(c.k, *c.resident, c.queue, due)
		c.resident = nil
		return nil, err
	}
	c.Entry = *e
	s.metrics.Claims.Add(1)
	return c, nil
}

// residentBytesBySegment sums the ready resident entries' bytes by
// segment, for segments up to upTo. (Claimed ones are few: materialize
// writes their claim files.)
func (s *Spool) residentBytesBySegment(upTo uint64) map[uint64]int64 {
	live := map[uint64]int64{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.resident {
		if r.seg <= upTo {
			live[r.seg] += int64(len(r.rec) + r.n)
		}
	}
	return live
}

// setCheckpointing records the last segment a checkpoint deletes (0:
// none runs); see returnResident.
func (s *Spool) setCheckpointing(upTo uint64) {
	s.mu.Lock()
	s.ckUpTo = upTo
	s.mu.Unlock()
}

// putBack makes a claimed resident entry ready again (Release); c.mu
// held.
func (s *Spool) putBack(c *Claim) {
	s.check(s.j.noteRelease(c.k), "journal a claim given back", "id", c.k.String())
	s.returnResident(c.k, *c.resident, c.queue, c.due())
}

// returnResident makes r ready resident entry k of queue qi again. If a
// checkpoint is deleting r's segment meanwhile (it saw k neither ready
// nor claimed, or saw the claim before), r is journaled again first:
// else its only durable copy would go with the segment.
func (s *Spool) returnResident(k key, r resident, qi int, due int64) {
	s.mu.Lock()
	if r.seg > s.ckUpTo {
		s.addResident(k, r)
		s.idx.add(qi, k, due)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	var err error
	if r.rec == nil {
		err = errors.New("its record was never read back")
	} else {
		var p pos
		if p, err = s.j.append([]jrec{{kind: kindCarried, b: r.rec}}, []key{k}); err == nil {
			defer s.j.placed(p.seg)
			r = resident{rec: r.rec, seg: p.seg}
		}
	}
	if err != nil {
		// Still queued in memory; a crash before the next checkpoint
		// would lose it.
		s.log.Error("spool: cannot journal a resident entry again", "id", k.String(), "err", err)
	}
	s.mu.Lock()
	s.addResident(k, r)
	s.idx.add(qi, k, due)
	s.mu.Unlock()
}

// due is the claim's retry time in Unix ns, 0 outside retry.
func (c *Claim) due() int64 {
	if c.queue == retryIdx && !c.Envelope.NotBefore.IsZero() {
		return c.Envelope.NotBefore.UnixNano()
	}
	return 0
}

// materialize writes a file for every resident entry of segments up to
// upTo: ready ones into their queue, claimed ones as their claim file
// (unsynced: the checkpoint's syncfs follows). A ready one is out of the
// index while its file is written, so no claim races with it.
func (s *Spool) materialize(upTo uint64) error {
	type readyOne struct {
		k   key
		q   int
		res resident
	}
	var ready []readyOne
	var claimed []*Claim
	s.mu.Lock()
	for k, r := range s.resident {
		if r.seg <= upTo {
			if q := s.idx.lookup(k); q >= 0 {
				s.idx.remove(k)
				s.takeResident(k)
				ready = append(ready, readyOne{k: k, q: q, res: r})
			}
		}
	}
	for _, c := range s.claims {
		claimed = append(claimed, c)
	}
	s.mu.Unlock()
	var firstErr error
	for i, r := range ready {
		var e *Entry
		rec, err := s.record(r.res)
		if err == nil {
			e, err = decodeBytes(rec)
		}
		if err == nil {
			err = s.writeResident(e, rec, s.readyPath(Queues[r.q], e.ID))
		}
		due := int64(0)
		if e != nil && r.q == retryIdx && !e.Envelope.NotBefore.IsZero() {
			due = e.Envelope.NotBefore.UnixNano()
		}
		s.mu.Lock()
		if err != nil {
			s.addResident(r.k, r.res) // still only in memory and the journal
		}
		s.idx.add(r.q, r.k, due)
		s.mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("spool checkpoint: write entry %d of %d: %w", i+1, len(ready), err)
		}
	}
	for _, c := range claimed {
		if err := c.materialize(upTo); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// materialize writes c's claim file if c is a resident entry of a
// segment up to upTo.
func (c *Claim) materialize(upTo uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != claimOpen || c.resident == nil || c.resident.seg > upTo {
		return nil
	}
	if err := c.s.writeResident(&c.Entry, c.resident.rec, c.path); err != nil {
		return fmt.Errorf("spool checkpoint: claim %s: %w", c.ID, err)
	}
	c.resident = nil
	return nil
}

// writeResident writes e, encoded as rec, at path (staged, renamed, not
// synced).
func (s *Spool) writeResident(e *Entry, rec []byte, path string) error {
	tmps, err := s.stageEncoded([]*Entry{e}, [][]byte{rec}, true, false)
	if err != nil {
		return err
	}
	if err := s.placeFile(placement{src: tmps[0], dst: path}); err != nil {
		s.removeTemps(tmps)
		return err
	}
	return nil
}

// residentEntry returns the resident entry k, ready or claimed, if any.
func (s *Spool) residentEntry(k key) (*Entry, bool) {
	s.mu.Lock()
	r, ok := s.resident[k]
	var rerr error
	if ok {
		r.rec, rerr = s.record(r) // under s.mu: see record
	}
	c := s.claims[k]
	f := s.foreign[k]
	s.mu.Unlock()
	if rerr != nil {
		return nil, false
	}
	if f != nil {
		e := *f
		return &e, true
	}
	if !ok && c != nil {
		c.mu.Lock()
		if c.resident != nil {
			r, ok = *c.resident, true
		}
		c.mu.Unlock()
	}
	if !ok {
		return nil, false
	}
	e, err := decodeBytes(r.rec)
	return e, err == nil
}

// carryChunk bounds one round of carried records (one write buffer).
const carryChunk = 8 << 20

// carryResidents appends the ready resident entries of segments up to
// upTo to the current segment, as carried records, and makes them
// entries of that segment: a timed checkpoint keeps a backlog in memory
// instead of writing a file per entry (an inode each: the dearest thing
// on some file systems), at the price of writing the backlog's bytes to
// the journal once per checkpoint. A carried entry stays this process's
// own until it is claimed or a checkpoint writes its file (Close, or one
// asked for by a full disk); one-shot commands count it from the journal
// (Counts, List). An entry claimed meanwhile is not harmed: its claim is
// written as a file by materialize, and if it is finished first, its
// tombstone outweighs the carried record wherever either is.
func (s *Spool) carryResidents(upTo uint64) error {
	var recs []jrec
	var keys []key
	size := 0
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		p, err := s.j.appendCarried(recs, keys)
		if err != nil {
			return fmt.Errorf("spool checkpoint: carry %d resident entries: %w", len(recs), err)
		}
		offs := p.payloadOffsets(recs)
		s.mu.Lock()
		for i, k := range keys {
			if r, ok := s.resident[k]; ok && r.seg <= upTo {
				r.seg, r.off = p.seg, offs[i] // the offset matters to a spilled one only
				s.resident[k] = r
			}
		}
		s.mu.Unlock()
		s.j.placed(p.seg)
		s.metrics.Carried.Add(uint64(len(recs)))
		recs, keys, size = nil, nil, 0
		return nil
	}
	// Encodings never change, so they are taken under one lock; one
	// claimed meanwhile is carried all the same (see above). A spilled
	// one is read back here: its segment lasts until this checkpoint
	// deletes it.
	type carry struct {
		k key
		r resident
	}
	var all []carry
	s.mu.Lock()
	for k, r := range s.resident {
		if r.seg <= upTo && s.idx.lookup(k) >= 0 {
			all = append(all, carry{k, r})
		}
	}
	s.mu.Unlock()
	for _, c := range all {
		rec, err := s.record(c.r)
		if err != nil {
			return fmt.Errorf("spool checkpoint: carry %s: %w", c.k, err)
		}
		recs = append(recs, jrec{kind: kindCarried, b: rec})
		keys = append(keys, c.k)
		if size += len(rec); size >= carryChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
