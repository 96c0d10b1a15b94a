package spool

import (
	"errors"
	"os"
)

// finishJournaled is Done (no entries) and Forward under the journal
// (journal.go). The new entries are kept resident (resident.go) or, past
// the budget, staged unsynced and renamed into their queues, unannounced;
// then one journal round holds them and this claim's tombstone; once it
// is durable they are indexed and the claim file (if any) is
// retired, without a sync: a lost removal is undone at Open by the
// tombstone. A crash before the round is durable leaves a family that
// recovery settles as for any Forward (doc.go, invariant 4): complete, the
// parent is dropped; partial, it is removed and the parent recovered.
// Replay restores a journaled child only with its parent's tombstone.
func (s *Spool) finishJournaled(c *Claim, entries []*Entry) error {
	ch, err := s.newChildren(entries)
	if err != nil {
		return err
	}
	if s.testingBeforeRound != nil {
		if err := s.testingBeforeRound(); err != nil {
			return err
		}
	}
	recs := append(ch.recs, tombstoneRecord(c.k))
	var p pos
	if c.resident != nil {
		// No claim file is removed after the round, so the parent stays
		// durable in its own synced round until this one is (appendLazy).
		p, err = s.j.appendLazy(recs, ch.keys)
	} else {
		p, err = s.j.append(recs, ch.keys)
	}
	if err != nil {
		s.unplace(ch.placed)
		return err
	}
	defer s.j.placed(p.seg)
	s.mu.Lock()
	for _, pl := range ch.placed {
		s.idx.add(pl.q, pl.k, pl.due)
	}
	if ch.mode != keepFile {
		s.keepResident(entries, ch.recs, p, ch.mode == keepSpilled)
	}
	s.mu.Unlock()
	s.metrics.Acked.Add(uint64(len(entries)))
	if c.resident == nil { // a resident claim has no file
		s.check(s.retire(c.retired()), "remove finished claim", "path", c.path)
	}
	if s.kick != nil {
		s.check(s.kick.write(appendKick(nil, '-', 0, c.k, 0)), "write kick journal", "owner", s.owner)
	}
	return nil
}

// children are a Forward's new entries, ready for the journal round:
// resident (mode says how) or placed as files, unindexed.
type children struct {
	recs   []jrec
	keys   []key
	mode   keepMode
	placed []placement
}

// newChildren prepares entries: resident if the budgets allow, else
// staged unsynced and renamed into their queues.
func (s *Spool) newChildren(entries []*Entry) (children, error) {
	var ch children
	if len(entries) == 0 {
		return ch, nil
	}
	if err := s.checkSpace(); err != nil {
		return ch, err
	}
	encoded, size, err := encodeAll(entries)
	if err != nil {
		return ch, err
	}
	ch.keys = make([]key, len(entries))
	if ch.mode = s.keepModeFor(len(entries), size); ch.mode != keepFile {
		for i, e := range entries {
			ch.keys[i], _ = parseKey(e.ID)
		}
		ch.recs = entryRecords(encoded)
		return ch, nil
	}
	tmps, err := s.stageEncoded(entries, encoded, true, false)
	if err != nil {
		return ch, err
	}
	for i, e := range entries {
		p := s.readyPlacement(tmps[i], e)
		if err := s.placeFile(p); err != nil {
			s.unplace(ch.placed)
			s.removeTemps(tmps[i:])
			return ch, err
		}
		ch.placed = append(ch.placed, p)
		ch.keys[i] = p.k
	}
	ch.recs = entryRecords(encoded)
	return ch, nil
}

// unplace removes new entries placed but never acknowledged.
func (s *Spool) unplace(placed []placement) {
	for _, p := range placed {
		s.check(removeIfExists(p.dst), "remove unacknowledged entry", "path", p.dst)
	}
}

// removeIfExists unlinks path; a missing file is not an error.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
