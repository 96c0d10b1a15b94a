package spool

import "fmt"

// Resident entries.
//
// An entry enqueued through the journal need not have a file at all while
// this instance holds it: its record in the journal is what makes it
// durable, and no other process may take it before the checkpoint anyway
// (journal.go). So Enqueue keeps the encoded entry in memory ("resident")
// and writes no file; a claim of it costs no rename and no read, and a
// post that is processed before the next checkpoint never creates an
// inode. A checkpoint deals with every resident entry of the segments it
// deletes: a timed one carries the ready ones into the new segment
// (carryResidents: a backlog of thousands costs one write, not thousands
// of inodes), the one at Close writes their files into their queues;
// claimed ones get their claim file. After a crash the journal restores
// them (nothing of them is on disk). Resident entries are bounded by
// residentBudget bytes (ready ones); past it, Enqueue writes files as
// before.
const residentBudget = 64 << 20

// resident is a resident entry: its encoding and its journal segment.
type resident struct {
	rec []byte
	seg uint64
}

// residentRoom reports whether n more bytes of resident entries fit.
func (s *Spool) residentRoom(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.residentBytes+int64(n) <= s.residentMax
}

// enqueueResident is enqueueJournaled for entries kept in memory.
func (s *Spool) enqueueResident(entries []*Entry, recs [][]byte, keys []key) error {
	seg, err := s.j.append(entryRecords(recs), keys)
	if err != nil {
		return err
	}
	defer s.j.placed(seg)
	s.mu.Lock()
	for i, e := range entries {
		p := s.readyPlacement("", e)
		s.resident[p.k] = resident{rec: recs[i], seg: seg}
		s.residentBytes += int64(len(recs[i]))
		s.idx.add(p.q, p.k, p.due)
	}
	s.mu.Unlock()
	s.metrics.Acked.Add(uint64(len(entries)))
	return nil
}

// claimResident takes k out of the resident entries if it is one; s.mu
// held.
func (s *Spool) claimResident(k key) (resident, bool) {
	r, ok := s.resident[k]
	if ok {
		delete(s.resident, k)
		s.residentBytes -= int64(len(r.rec))
	}
	return r, ok
}

// claimedResident makes the claim of a resident entry: no file to move
// or read.
func (s *Spool) claimedResident(k key, qi int, path string, r resident) *Claim {
	e, err := decodeBytes(r.rec)
	if err != nil {
		panic(fmt.Sprintf("spool: resident entry %s does not decode: %v", k, err)) // encoded by this process
	}
	c := &Claim{Entry: *e, s: s, k: k, queue: qi, path: path, resident: &r}
	s.mu.Lock()
	s.claims[k] = c
	s.mu.Unlock()
	s.metrics.Claims.Add(1)
	return c
}

// putBack makes a claimed resident entry ready again (Release).
func (s *Spool) putBack(c *Claim) {
	s.mu.Lock()
	s.resident[c.k] = *c.resident
	s.residentBytes += int64(len(c.resident.rec))
	s.idx.add(c.queue, c.k, c.due())
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
				s.claimResident(k)
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
		e, err := decodeBytes(r.res.rec)
		if err == nil {
			err = s.writeResident(e, r.res.rec, s.readyPath(Queues[r.q], e.ID))
		}
		due := int64(0)
		if e != nil && r.q == retryIdx && !e.Envelope.NotBefore.IsZero() {
			due = e.Envelope.NotBefore.UnixNano()
		}
		s.mu.Lock()
		if err != nil {
			s.resident[r.k] = r.res // still only in memory and the journal
			s.residentBytes += int64(len(r.res.rec))
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
	c := s.claims[k]
	f := s.foreign[k]
	s.mu.Unlock()
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
		seg, err := s.j.appendRound(&jround{recs: recs, keys: keys, carried: true, done: make(chan struct{})})
		if err != nil {
			return fmt.Errorf("spool checkpoint: carry %d resident entries: %w", len(recs), err)
		}
		s.mu.Lock()
		for _, k := range keys {
			if r, ok := s.resident[k]; ok && r.seg <= upTo {
				r.seg = seg
				s.resident[k] = r
			}
		}
		s.mu.Unlock()
		s.j.placed(seg)
		s.metrics.Carried.Add(uint64(len(recs)))
		recs, keys, size = nil, nil, 0
		return nil
	}
	// Encodings never change, so they are taken under one lock; one
	// claimed meanwhile is carried all the same (see above).
	type carry struct {
		k   key
		rec []byte
	}
	var all []carry
	s.mu.Lock()
	for k, r := range s.resident {
		if r.seg <= upTo && s.idx.lookup(k) >= 0 {
			all = append(all, carry{k, r.rec})
		}
	}
	s.mu.Unlock()
	for _, c := range all {
		recs = append(recs, jrec{kind: kindCarried, b: c.rec})
		keys = append(keys, c.k)
		if size += len(c.rec); size >= carryChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
