package spool

import (
	"errors"
	"os"
)

// finishJournaled is Done (no entries) and Forward under the journal
// (journal.go). The new entries are staged unsynced and renamed into their
// queues, unannounced; then one journal round holds them and this claim's
// tombstone; once it is durable they are indexed and the claim file is
// retired, without a sync: a lost removal is undone at Open by the
// tombstone. A crash before the round is durable leaves a family that
// recovery settles as for any Forward (doc.go, invariant 4): complete, the
// parent is dropped; partial, it is removed and the parent recovered.
// Replay restores a journaled child only with its parent's tombstone.
func (s *Spool) finishJournaled(c *Claim, entries []*Entry) error {
	var placed []placement
	var recs []jrec
	keys := make([]key, len(entries))
	if len(entries) > 0 {
		if err := s.checkSpace(); err != nil {
			return err
		}
		tmps, encoded, err := s.stageEncoded(entries, true, false)
		if err != nil {
			return err
		}
		for i, e := range entries {
			p := s.readyPlacement(tmps[i], e)
			if err := s.placeFile(p); err != nil {
				s.unplace(placed)
				s.removeTemps(tmps[i:])
				return err
			}
			placed = append(placed, p)
			keys[i] = p.k
		}
		recs = entryRecords(encoded)
	}
	if s.testingBeforeRound != nil {
		if err := s.testingBeforeRound(); err != nil {
			return err
		}
	}
	recs = append(recs, tombstoneRecord(c.k))
	seg, err := s.j.append(recs, keys)
	if err != nil {
		s.unplace(placed)
		return err
	}
	defer s.j.placed(seg)
	s.mu.Lock()
	for _, p := range placed {
		s.idx.add(p.q, p.k, p.due)
	}
	s.mu.Unlock()
	s.metrics.Acked.Add(uint64(len(placed)))
	s.check(s.retire(c.retired()), "remove finished claim", "path", c.path)
	if s.kick != nil {
		s.check(s.kick.write(appendKick(nil, '-', 0, c.k, 0)), "write kick journal", "owner", s.owner)
	}
	return nil
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
