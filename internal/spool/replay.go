package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// deadJournals is what the journal segments of dead owners hold (see
// journal.go), read once at Open.
type deadJournals struct {
	segs     []segment
	entries  []*Entry
	owners   []string // owner of each entry
	finished map[key]bool
	claimed  map[key]int
	carried  map[key]bool
}

// readDeadJournals reads the segments of the dead owners.
func (s *Spool) readDeadJournals(dead map[string]*os.File) (*deadJournals, error) {
	dj := &deadJournals{finished: map[key]bool{}, claimed: map[key]int{}, carried: map[key]bool{}}
	for owner := range dead {
		list, err := listSegments(s.sub(journalDir), owner)
		if err != nil {
			return nil, fmt.Errorf("spool open: %w", err)
		}
		dj.segs = append(dj.segs, list...)
		last := map[key]bool{} // whether the owner's last claim record of an entry claims it
		for _, sg := range list {
			recs, err := readSegment(sg.path)
			if err != nil {
				return nil, fmt.Errorf("spool open: read journal %s: %w", sg.path, err)
			}
			for _, e := range recs.entries {
				dj.entries = append(dj.entries, e)
				dj.owners = append(dj.owners, owner)
			}
			for k := range recs.finished {
				dj.finished[k] = true
			}
			for k, c := range recs.claimed {
				last[k] = c // a later segment's record is the later one
			}
			for k := range recs.carried {
				dj.carried[k] = true
			}
		}
		for k, claimed := range last {
			if claimed { // it died holding the claim: one recovery
				dj.claimed[k]++
			}
		}
	}
	return dj, nil
}

// dropFinishedClaims removes the dead owners' claim files of entries whose
// tombstone is in their journal: finished, though the removal of the claim
// file was lost in the crash. It runs before their claims are recovered.
func (s *Spool) dropFinishedClaims(dj *deadJournals, dead map[string]*os.File) error {
	if len(dj.finished) == 0 {
		return nil
	}
	for owner := range dead {
		for k := range dj.finished {
			path := filepath.Join(s.sub("active", owner), k.String())
			if err := os.Remove(path); err == nil {
				s.log.Info("dropping finished claim", "owner", owner, "id", k.String())
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spool open: %w", err)
			}
		}
	}
	return nil
}

// restoreJournaled writes again, from the dead owners' journals, every
// entry that is nowhere in the spool and not finished, and if a Forward
// made it, whose parent is (its file never
// reached the disk, or held another entry's stale data and was
// quarantined), then deletes those segments. An instance with a journal
// adopts them instead, as far as its budgets allow (adopt): a restart
// after a crash with a big backlog costs one sequential write, not a
// file per entry. It runs after the dead
// owners' claims are recovered, so an entry counts as present when it is
// ready in some queue, claimed by a live owner, or replaced by a Forward
// family.
func (s *Spool) restoreJournaled(ctx context.Context, dj *deadJournals, families map[key][]found, liveClaims map[key]bool) error {
	// Adopted: kept resident and journaled here, as far as the budgets
	// go. Retry and shunt entries always have files (journal.go).
	var adopt, files []*Entry
	restored := map[key]bool{} // a carried entry may be in two segments
	for i, e := range dj.entries {
		if ctx.Err() != nil {
			return fmt.Errorf("spool open: %w", ctx.Err())
		}
		k, ok := parseKey(e.ID)
		if !ok || dj.finished[k] || restored[k] || s.present(k, families, liveClaims) {
			continue
		}
		if e.Parent != "" && !dj.carried[k] {
			// A Forward's child counts only with its parent's tombstone
			// (same round): without it the round was cut short and the
			// parent is processed again. A carried one was journaled
			// by a complete round (the tombstone may be gone with its
			// segment).
			if pk, ok := parseKey(e.Parent); !ok || !dj.finished[pk] {
				continue
			}
		}
		if n := dj.claimed[k]; n > 0 {
			s.countRecoveries(e, n, dj.owners[i])
		}
		restored[k] = true
		s.metrics.Restored.Add(1)
		s.log.Debug("restoring journaled entry", "owner", dj.owners[i], "id", e.ID, "queue", e.Envelope.Queue)
		if s.j != nil && e.Envelope.Queue != Shunt && e.Envelope.Queue != Retry {
			adopt = append(adopt, e)
		} else {
			files = append(files, e)
		}
	}
	if len(restored) > 0 {
		s.log.Warn("restoring journaled entries of dead owners", "entries", len(restored), "to_adopt", len(adopt))
	}
	if err := s.adopt(adopt); err != nil {
		return err
	}
	if err := s.restoreAsFiles(files); err != nil {
		return err
	}
	if len(dj.segs) == 0 {
		return nil
	}
	// Every entry of these segments is now durable where it is (the
	// restores synced; make sure of the rest), so they can go.
	if s.fsFile != nil {
		if err := s.syncFileSystem(); err != nil {
			return fmt.Errorf("spool open: sync: %w", err)
		}
	}
	for _, sg := range dj.segs {
		if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool open: %w", err)
		}
	}
	if err := syncDir(s.sub(journalDir)); err != nil {
		return fmt.Errorf("spool open: sync journal: %w", err)
	}
	return nil
}

// present reports whether entry k exists: ready, claimed by a live owner,
// or forwarded.
func (s *Spool) present(k key, families map[key][]found, liveClaims map[key]bool) bool {
	if liveClaims[k] || len(families[k]) > 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.lookup(k) >= 0
}

// otherJournalKeys lists the entries in other owners' journal segments.
func (s *Spool) otherJournalKeys() (map[key]bool, error) {
	des, err := os.ReadDir(s.sub(journalDir))
	if err != nil {
		return nil, err
	}
	owners := map[string]bool{}
	for _, de := range des {
		if o, _, ok := strings.Cut(de.Name(), "."); ok && o != s.owner {
			owners[o] = true
		}
	}
	return s.liveJournalKeys(owners)
}

// liveJournalKeys lists the entries in live owners' journal segments:
// their writers announce them at their next checkpoint, and until then no
// other process may take them.
func (s *Spool) liveJournalKeys(live map[string]bool) (map[key]bool, error) {
	keys, _, err := s.liveJournal(live)
	return keys, err
}

// liveJournal is liveJournalKeys, with the entries not yet finished.
func (s *Spool) liveJournal(live map[string]bool) (map[key]bool, map[key]*Entry, error) {
	keys := map[key]bool{}
	pending := map[key]*Entry{}
	for owner := range live {
		segs, err := listSegments(s.sub(journalDir), owner)
		if err != nil {
			return nil, nil, fmt.Errorf("spool open: %w", err)
		}
		finished := map[key]bool{}
		for _, sg := range segs {
			recs, err := readSegment(sg.path)
			if errors.Is(err, os.ErrNotExist) {
				continue // checkpointed meanwhile
			}
			if err != nil {
				return nil, nil, fmt.Errorf("spool open: read journal %s: %w", sg.path, err)
			}
			for _, e := range recs.entries {
				if k, ok := parseKey(e.ID); ok {
					keys[k] = true
					pending[k] = e
				}
			}
			for k := range recs.finished {
				finished[k] = true
			}
		}
		for k := range finished {
			delete(pending, k)
		}
	}
	return keys, pending, nil
}

// adopt journals entries restored from dead owners' segments in this
// instance's journal, as carried records (their rounds were complete),
// and keeps them resident, in memory or spilled, while the budgets
// allow; the rest get files. Either way they are durable before the
// dead segments go.
func (s *Spool) adopt(entries []*Entry) error {
	for len(entries) > 0 {
		var recs []jrec
		var keys []key
		var chunk []*Entry
		size := 0
		for _, e := range entries {
			b, err := encodeBytes(e)
			if err != nil {
				return fmt.Errorf("spool open: restore %s: %w", e.ID, err)
			}
			k, _ := parseKey(e.ID)
			recs, keys, chunk = append(recs, jrec{kind: kindCarried, b: b}), append(keys, k), append(chunk, e)
			if size += len(b); size >= carryChunk {
				break
			}
		}
		entries = entries[len(chunk):]
		mode := s.keepModeFor(len(chunk), size)
		if mode == keepFile {
			return s.restoreAsFiles(append(chunk, entries...))
		}
		p, err := s.j.appendCarried(recs, keys)
		if err != nil {
			return fmt.Errorf("spool open: restore %d entries: %w", len(chunk), err)
		}
		s.mu.Lock()
		s.keepResident(chunk, recs, p, mode == keepSpilled)
		s.mu.Unlock()
		s.j.placed(p.seg)
	}
	return nil
}

// restoreAsFiles writes entries restored from dead owners' segments as
// files in their queues, durably.
func (s *Spool) restoreAsFiles(entries []*Entry) error {
	ops := make([]*op, 0, len(entries))
	for _, e := range entries {
		tmp, err := s.stage(e, false)
		if err != nil {
			return fmt.Errorf("spool open: restore %s: %w", e.ID, err)
		}
		o := newOp()
		o.place = []placement{s.readyPlacement(tmp, e)}
		o.n = 1
		ops = append(ops, o)
	}
	return s.commitRestored(ops)
}

// commitRestored submits the restores' ops and waits for them.
func (s *Spool) commitRestored(ops []*op) error {
	s.submit(ops...)
	for _, o := range ops {
		<-o.done
		if o.err != nil {
			return fmt.Errorf("spool open: restore from journal: %w", o.err)
		}
	}
	return nil
}
