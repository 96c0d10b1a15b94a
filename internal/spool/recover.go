package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// recoverOwners gives the claims of dead owners back, then removes the
// owners' leftovers: claim directory, temp files and lock file.
//
// For each claim X of a dead owner:
//   - X's tombstone is in the owner's journal: X was finished and the
//     removal of its claim file was lost. Drop the claim.
//   - X is also ready in a queue: the owner's Retry, Shunt or Release of X
//     was durable but the claim file's removal was not. Drop the claim.
//   - every entry of the family that X's Forward made exists: the Forward
//     was durable. Drop the claim.
//   - some but not all of the family exists: the Forward was cut short
//     before it was durable, and was never announced. Remove the partial
//     family and recover X.
//   - otherwise recover X: Attempts+1 and back to its queue, or to shunt
//     ("too many recoveries") once its recoveries pass MaxAttempts. A torn
//     claim goes to corrupt/.
func (s *Spool) recoverOwners(ctx context.Context, dead map[string]*os.File, families map[key][]found, liveClaims map[key]bool) error {
	dj, err := s.readDeadJournals(dead)
	if err != nil {
		return err
	}
	if err := s.dropFinishedClaims(dj, dead); err != nil {
		return err
	}
	var ops []*op
	for owner := range dead {
		dir := s.sub("active", owner)
		des, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool open: recover %s: %w", owner, err)
		}
		for _, de := range des {
			if ctx.Err() != nil {
				return fmt.Errorf("spool open: %w", ctx.Err())
			}
			path := filepath.Join(dir, de.Name())
			k, ok := parseKey(de.Name())
			if !ok {
				s.log.Warn("ignoring stray file in claim directory", "path", path)
				continue
			}
			o, err := s.recoverClaim(owner, path, k, families)
			if err != nil {
				return err
			}
			if o != nil {
				ops = append(ops, o)
			}
		}
	}
	s.submit(ops...)
	for _, o := range ops {
		<-o.done
		if o.err != nil {
			return fmt.Errorf("spool open: recover: %w", o.err)
		}
	}
	if err := s.restoreJournaled(ctx, dj, families, liveClaims); err != nil {
		return err
	}
	for owner, lock := range dead {
		s.removeOwner(owner, lock)
	}
	return nil
}

// recoverClaim decides the fate of one dead claim; it returns the op that
// moves it back, if any.
func (s *Spool) recoverClaim(owner, path string, k key, families map[key][]found) (*op, error) {
	id := k.String()
	s.mu.Lock()
	q := s.idx.lookup(k)
	s.mu.Unlock()
	if q >= 0 {
		s.log.Info("dropping superseded claim", "owner", owner, "id", id, "queue", Queues[q])
		return nil, s.removeFile(path)
	}
	if fam := families[k]; len(fam) > 0 {
		if complete, err := s.settleFamily(id, fam); err != nil || complete {
			if err == nil {
				s.log.Info("dropping forwarded claim", "owner", owner, "id", id, "children", len(fam))
				err = s.removeFile(path)
			}
			return nil, err
		}
	}
	e, err := readEntry(path)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			s.quarantine(path, id, "", err)
			return nil, nil
		}
		return nil, fmt.Errorf("spool open: recover %s: %w", id, err)
	}
	if e.ID != id {
		s.quarantine(path, id, e.Envelope.Queue, corruptf("claim %s holds entry %s", id, e.ID))
		return nil, nil
	}
	s.countRecoveries(e, 1, owner)
	tmp, err := s.stage(e, true)
	if err != nil {
		return nil, fmt.Errorf("spool open: recover %s: %w", id, err)
	}
	o := newOp()
	o.place = []placement{s.readyPlacement(tmp, e)}
	o.after = []retired{{path: path, k: k, size: -1}}
	return o, nil
}

// countRecoveries records n crashes while e was claimed: Attempts and
// recoveries go up by n, and past MaxAttempts recoveries e goes to shunt
// ("too many recoveries"), so a message that crashes the process cannot
// loop.
func (s *Spool) countRecoveries(e *Entry, n int, owner string) {
	s.metrics.Recoveries.Add(uint64(n))
	e.recoveries += n
	e.Envelope.Attempts += n
	env := &e.Envelope
	log := s.log.With("queue", env.Queue, "id", e.ID, "list", env.List, "domain", env.Domain, "owner", owner)
	if e.recoveries > s.maxRecov && env.Queue != Shunt {
		if env.Queue != Retry || env.Origin == "" {
			env.Origin = env.Queue
		}
		env.Queue = Shunt
		env.LastError = "too many recoveries"
		s.metrics.Shunts.Add(1)
		log.Warn("shunting entry after too many recoveries", "recoveries", e.recoveries)
	} else {
		log.Info("recovering claim of dead owner", "attempts", env.Attempts)
	}
}

// settleFamily looks at the entries a Forward of id made. If all are there
// it reports complete. Otherwise it removes the partial family (never
// announced, never claimed) durably, so the parent can be processed again
// without its children ever showing up next to it.
func (s *Spool) settleFamily(id string, fam []found) (complete bool, err error) {
	if want := fam[0].family; want > 0 && len(fam) >= want {
		return true, nil
	}
	s.mu.Lock()
	for _, f := range fam {
		s.idx.remove(f.k)
	}
	s.mu.Unlock()
	dirs := map[string]struct{}{}
	for _, f := range fam {
		if err := s.removeFile(f.path); err != nil {
			return false, err
		}
		dirs[filepath.Dir(f.path)] = struct{}{}
	}
	for d, err := range syncDirs(dirs) {
		return false, fmt.Errorf("spool open: sync %s: %w", d, err)
	}
	s.log.Warn("removed partial forward", "id", id, "children", len(fam), "want", fam[0].family)
	return false, nil
}

// removeFile unlinks path, ignoring a missing file. The removal needs no
// sync: if it is lost, the next Open decides the same way.
func (s *Spool) removeFile(path string) error {
	if err := removeIfExists(path); err != nil {
		return fmt.Errorf("spool open: %w", err)
	}
	return nil
}

// removeOwner removes a dead owner's (now empty) claim directory, its temp
// files and its lock file, then lets the lock go.
func (s *Spool) removeOwner(owner string, lock *os.File) {
	if err := os.Remove(s.sub("active", owner)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.check(err, "remove dead owner's claim directory", "owner", owner)
	}
	if des, err := os.ReadDir(s.sub("tmp")); err == nil {
		for _, de := range des {
			if strings.HasPrefix(de.Name(), owner+".") {
				s.check(os.Remove(s.sub("tmp", de.Name())), "remove dead owner's temp file", "name", de.Name())
			}
		}
	}
	if lock != nil {
		s.check(os.Remove(s.sub("locks", owner)), "remove dead owner's lock", "owner", owner)
		_ = lock.Close()
	}
}
