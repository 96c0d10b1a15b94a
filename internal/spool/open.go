package spool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// open lays out the directories, takes the locks, builds the index and
// recovers dead owners' claims. Open holds spool.lock throughout, so two
// instances never scan and recover at the same time.
func (s *Spool) open(ctx context.Context) error {
	for _, d := range append([]string{"", "tmp", "active", "locks", "kick", "corrupt", journalDir}, Queues...) {
		if err := os.MkdirAll(s.sub(d), dirMode); err != nil {
			return fmt.Errorf("spool open: %w", err)
		}
		s.dirs.Store(s.sub(d), struct{}{})
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("spool open: sync %s: %w", s.dir, err)
	}
	if s.syncFS || s.useJournal {
		f, err := os.Open(s.dir)
		if err != nil {
			return fmt.Errorf("spool open: %w", err)
		}
		s.fsFile = f
	}
	global, err := s.lockSpool(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = global.Close() }()
	if s.lock, err = lockFile(s.sub("locks", s.owner), true, false); err != nil {
		return fmt.Errorf("spool open: owner lock: %w", err)
	}
	if err := os.Mkdir(s.activeDir, dirMode); err != nil {
		return fmt.Errorf("spool open: %w", err)
	}
	if err := syncDir(s.sub("active")); err != nil {
		return fmt.Errorf("spool open: sync active: %w", err)
	}
	s.kick = &kickWriter{dir: s.sub("kick"), owner: s.owner}
	// Watch kick/ before scanning, so nothing announced during the scan
	// is missed; what is in the journals already, the scan covers.
	s.watch = newKickReader(s)
	if err := s.watch.watch(); err != nil {
		return fmt.Errorf("spool open: %w", err)
	}
	if err := s.watch.snapshot(); err != nil {
		return fmt.Errorf("spool open: %w", err)
	}
	s.startCommitter()

	live, dead, err := s.owners()
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range dead {
			if f != nil {
				_ = f.Close()
			}
		}
	}()
	sc, err := s.scan(ctx)
	if err != nil {
		return err
	}
	liveClaims := map[key]bool{}
	for o := range live {
		for _, k := range s.claimKeys(o) {
			liveClaims[k] = true
		}
	}
	liveJournaled, pending, err := s.liveJournal(live)
	if err != nil {
		return err
	}
	if !s.useJournal {
		// A one-shot command: live instances' journaled entries are theirs,
		// but shown (a backlog may live in their journals only).
		s.foreign = pending
	}
	s.mu.Lock()
	for _, e := range sc.entries {
		if e.parentSet && liveClaims[e.parent] {
			continue // a live owner's Forward in progress announces it
		}
		if liveJournaled[e.k] {
			continue // its writer announces it at its next checkpoint
		}
		s.idx.bulk(e.q, e.k, e.due)
	}
	s.idx.fix()
	s.mu.Unlock()
	if s.useJournal {
		// Before recovery, which adopts dead owners' journaled entries
		// into this journal (replay.go).
		if err := s.openJournal(); err != nil {
			return fmt.Errorf("spool open: %w", err)
		}
	}
	if err := s.recoverOwners(ctx, dead, sc.families, liveClaims); err != nil {
		return err
	}
	s.removeStaleKicks(live)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watch.run()
	}()
	s.log.Info("spool open", "dir", s.dir, "owner", s.owner, "entries", len(sc.entries),
		"recovered_owners", len(dead), "live_owners", len(live))
	return nil
}

// lockSpool takes spool.lock, polling while another instance holds it
// (only another Open does, and only briefly).
func (s *Spool) lockSpool(ctx context.Context) (*os.File, error) {
	path := s.sub("spool.lock")
	for {
		f, err := lockFile(path, true, false)
		if !errors.Is(err, errLocked) {
			if err != nil {
				return nil, fmt.Errorf("spool open: %w", err)
			}
			return f, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("spool open: wait for %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// owners sorts the other owners that left traces (lock files, claim
// directories, temp files) into live and dead ones. For a dead owner whose
// lock file exists the map holds that file, locked, so no one can reuse it
// until recovery is done.
func (s *Spool) owners() (live map[string]bool, dead map[string]*os.File, err error) {
	names := map[string]bool{}
	for _, d := range []string{"locks", "active", "tmp", journalDir} {
		des, err := os.ReadDir(s.sub(d))
		if err != nil {
			return nil, nil, fmt.Errorf("spool open: %w", err)
		}
		for _, de := range des {
			o, _, _ := strings.Cut(de.Name(), ".")
			if validID(o) && o != s.owner {
				names[o] = true
			}
		}
	}
	live, dead = map[string]bool{}, map[string]*os.File{}
	for o := range names {
		f, err := lockFile(s.sub("locks", o), false, false)
		switch {
		case errors.Is(err, errLocked):
			live[o] = true
		case errors.Is(err, os.ErrNotExist):
			dead[o] = nil
		case err != nil:
			return nil, nil, fmt.Errorf("spool open: probe owner %s: %w", o, err)
		default:
			dead[o] = f
		}
	}
	return live, dead, nil
}

// claimKeys lists the ids claimed in active/<owner>.
func (s *Spool) claimKeys(owner string) []key {
	des, err := os.ReadDir(s.sub("active", owner))
	if err != nil {
		return nil
	}
	ks := make([]key, 0, len(des))
	for _, de := range des {
		if k, ok := parseKey(de.Name()); ok {
			ks = append(ks, k)
		}
	}
	return ks
}

// found is one ready entry seen by the scan.
type found struct {
	q         int
	k         key
	path      string
	due       int64
	parent    key
	parentSet bool
	family    int
}

type scanResult struct {
	entries  []found
	families map[key][]found // parent -> children
}

// scan lists every queue directory once, moves entries that sit in the
// wrong hash directory (HashDepth changed), and reads the entries that must
// be read: all of them when verifying, else only retry's (for NotBefore).
// Torn entries go to corrupt/.
func (s *Spool) scan(ctx context.Context) (*scanResult, error) {
	var list []found
	moved := map[string]struct{}{}
	for qi, q := range Queues {
		root := s.sub(q)
		err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() {
				s.dirs.Store(path, struct{}{})
				return nil
			}
			id := de.Name()
			k, ok := parseKey(id)
			if !ok {
				s.log.Warn("ignoring stray file in spool", "queue", q, "path", path)
				return nil
			}
			want := s.readyPath(q, id)
			if path != want {
				if err := s.ensureDir(filepath.Dir(want), moved); err != nil {
					return err
				}
				if err := os.Rename(path, want); err != nil {
					return err
				}
				moved[filepath.Dir(want)] = struct{}{}
			}
			list = append(list, found{q: qi, k: k, path: want})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("spool open: scan %s: %w", q, err)
		}
	}
	for d, err := range syncDirs(moved) {
		return nil, fmt.Errorf("spool open: sync %s: %w", d, err)
	}
	bad := make([]error, len(list))
	parallel(len(list), func(i int) {
		f := &list[i]
		if !s.verify && f.q != retryIdx || ctx.Err() != nil {
			return
		}
		e, err := readEntry(f.path)
		if err != nil {
			bad[i] = err
			return
		}
		if e.ID != f.k.String() || e.Envelope.Queue != Queues[f.q] {
			bad[i] = corruptf("entry %s of queue %s found as %s", e.ID, e.Envelope.Queue, f.path)
			return
		}
		if f.q == retryIdx && !e.Envelope.NotBefore.IsZero() {
			f.due = e.Envelope.NotBefore.UnixNano()
		}
		if e.Parent != "" {
			f.parent, f.parentSet = parseKey(e.Parent)
			f.family = e.family
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spool open: %w", err)
	}
	res := &scanResult{families: map[key][]found{}}
	for i, f := range list {
		if err := bad[i]; err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // claimed by a live owner meanwhile
			}
			if !errors.Is(err, errCorrupt) {
				return nil, fmt.Errorf("spool open: %w", err)
			}
			s.quarantine(f.path, f.k.String(), Queues[f.q], err)
			continue
		}
		if f.parentSet {
			res.families[f.parent] = append(res.families[f.parent], f)
		}
		res.entries = append(res.entries, f)
	}
	return res, nil
}

// readEntry reads and decodes one entry file.
func readEntry(path string) (*Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	e, err := decodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// quarantine moves a torn or misplaced entry file to corrupt/ so no runner
// ever sees it; an operator can inspect it there.
func (s *Spool) quarantine(path, id, queue string, cause error) {
	s.metrics.Torn.Add(1)
	dst := s.sub("corrupt", fmt.Sprintf("%s.%d", filepath.Base(path), time.Now().UnixNano()))
	if err := os.Rename(path, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("cannot quarantine corrupt entry", "queue", queue, "id", id, "path", path, "err", err)
		return
	}
	s.log.Error("corrupt entry quarantined", "queue", queue, "id", id, "path", dst, "err", cause)
}

// rescan adds every ready entry that the index lacks. The kick reader calls
// it when it may have missed journal lines. It leaves alone what is still
// in another owner's write-ahead journal, and the children of a Forward
// this instance has not finished (journal.go): their owners announce them.
func (s *Spool) rescan() {
	journaled, err := s.otherJournalKeys()
	if err != nil {
		s.log.Warn("rescan: read journals", "err", err)
		return
	}
	for qi, q := range Queues {
		_ = filepath.WalkDir(s.sub(q), func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			k, ok := parseKey(de.Name())
			if !ok {
				return nil
			}
			s.mu.Lock()
			_, claimed := s.claims[k]
			known := s.idx.lookup(k) >= 0
			s.mu.Unlock()
			if claimed || known || journaled[k] {
				return nil
			}
			e, err := readEntry(path)
			if err != nil {
				return nil // torn ones are quarantined when claimed
			}
			if pk, ok := parseKey(e.Parent); ok {
				s.mu.Lock()
				_, forwarding := s.claims[pk]
				s.mu.Unlock()
				if forwarding {
					return nil
				}
			}
			var due int64
			if qi == retryIdx && !e.Envelope.NotBefore.IsZero() {
				due = e.Envelope.NotBefore.UnixNano()
			}
			s.mu.Lock()
			s.idx.add(qi, k, due)
			s.mu.Unlock()
			return nil
		})
	}
}
