package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// placement renames src to dst as part of an op.
type placement struct {
	src   string // a fsynced temp file, or an existing entry file (Release)
	dst   string
	fresh bool  // src is a temp file: on failure remove it (or dst)
	q     int   // queue of a ready entry; -1 for a claim file (Update)
	k     key   // id, for the index and kicks
	due   int64 // NotBefore in Unix ns, for retry
}

// op is one unit of the group commit. The committer runs every op of a
// batch through the same phases, so that each phase costs one round of
// parallel fsyncs for the whole batch:
//
//  1. rename place[*] into position and retire remove[*];
//  2. fsync every directory touched in 1 (and the parents of new
//     directories); the op's new entries are now durable;
//  3. retire after[*] (the claim file the op replaces) and fsync its
//     directory, so the replaced entry is gone for good before anyone hears
//     of its successors;
//  4. update the index, wake claimers, append the kick journal.
//
// Data files are fsynced by the submitter before submit, in parallel with
// the committer's work on the previous batch.
type op struct {
	place  []placement
	remove []retired // retired in phase 1, durable after phase 2 (Done)
	after  []retired // retired in phase 3 (replaced claim files)
	gone   []key     // ids that left the ready queues, announced to others
	n      int       // new entries, for metrics
	done   chan struct{}
	err    error
	dirs   []string // directories phase 2 must sync for this op
}

func newOp() *op { return &op{done: make(chan struct{})} }

// submit queues ops for the committer; they complete by closing done.
func (s *Spool) submit(ops ...*op) {
	if len(ops) == 0 {
		return
	}
	if !s.committer.add(ops...) {
		for _, o := range ops {
			s.discard(o, ErrClosed)
		}
	}
}

// run submits o and waits for it.
func (s *Spool) run(o *op) error {
	s.submit(o)
	<-o.done
	return o.err
}

func (s *Spool) startCommitter() {
	s.committerStarted.Store(true)
	s.wg.Go(func() { s.committer.run(s.commit) })
}

// stopCommitter lets the committer finish what is pending, then stops it.
func (s *Spool) stopCommitter() {
	s.committer.stop()
	if s.committerStarted.Load() {
		<-s.committer.done
	}
}

// discard fails o without running it, removing its temp files.
func (s *Spool) discard(o *op, err error) {
	for _, p := range o.place {
		if p.fresh {
			s.check(os.Remove(p.src), "remove temp entry", "path", p.src)
		}
	}
	o.err = err
	close(o.done)
}

// commit runs one batch through the phases described at op.
func (s *Spool) commit(batch []*op) {
	newDirs := map[string]struct{}{}
	for _, o := range batch {
		if o.err == nil {
			s.apply(o, newDirs)
		}
	}
	// Phase 2: one parallel round of directory syncs.
	set := newDirs
	for _, o := range batch {
		if o.err == nil {
			for _, d := range o.dirs {
				set[d] = struct{}{}
			}
		}
	}
	failed := s.syncDirs(set)
	for _, o := range batch {
		if o.err != nil {
			continue
		}
		for _, d := range o.dirs {
			if err := failed[d]; err != nil {
				o.err = diskErr("sync dir", d, err, &s.metrics)
				s.rollback(o, len(o.place))
				break
			}
		}
		if o.err == nil && s.testingAfterSync != nil {
			o.err = s.testingAfterSync(o)
		}
	}
	// Phase 3: retire what the ops replace.
	afterDirs := map[string]struct{}{}
	for _, o := range batch {
		if o.err != nil {
			continue
		}
		for _, r := range o.after {
			s.check(s.retire(r), "remove replaced entry", "path", r.path)
			afterDirs[filepath.Dir(r.path)] = struct{}{}
		}
	}
	// A failure here leaves a replaced claim file behind, which recovery
	// drops because its successors exist; the op itself has succeeded.
	for d, err := range s.syncDirs(afterDirs) {
		s.check(err, "sync dir", "dir", d)
	}
	s.finish(batch)
}

// apply runs phase 1 of o: renames and removals.
func (s *Spool) apply(o *op, newDirs map[string]struct{}) {
	seen := map[string]bool{}
	addDir := func(d string) {
		if !seen[d] {
			seen[d] = true
			o.dirs = append(o.dirs, d)
		}
	}
	for i, p := range o.place {
		d := filepath.Dir(p.dst)
		err := s.ensureDir(d, newDirs)
		if err == nil {
			err = os.Rename(p.src, p.dst)
		}
		if errors.Is(err, os.ErrNotExist) {
			// A hash directory removed behind our back: forget it and retry.
			s.dirs.Delete(d)
			if err = s.ensureDir(d, newDirs); err == nil {
				err = os.Rename(p.src, p.dst)
			}
		}
		if err != nil {
			o.err = diskErr("place entry", p.dst, err, &s.metrics)
			s.rollback(o, i)
			return
		}
		addDir(d)
	}
	for _, r := range o.remove {
		if err := s.retire(r); err != nil {
			o.err = diskErr("remove entry", r.path, err, &s.metrics)
			return
		}
		addDir(filepath.Dir(r.path))
	}
}

// rollback undoes the fresh placements of a failed op: the first n were
// renamed into place, the rest are still temp files. The entries were never
// acknowledged, so removing them is safe; moved entries stay where they are.
func (s *Spool) rollback(o *op, n int) {
	for i, p := range o.place {
		if !p.fresh || i < n && p.q < 0 {
			continue // a moved entry, or a rewritten claim: keep it
		}
		path := p.src
		if i < n {
			path = p.dst
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.check(err, "remove unacknowledged entry", "path", path)
		}
	}
}

// finish runs phase 4 for the batch and wakes the submitters.
func (s *Spool) finish(batch []*op) {
	var kicks []byte
	entries := 0
	s.mu.Lock()
	for _, o := range batch {
		entries += o.n
		if o.err != nil {
			continue
		}
		for _, p := range o.place {
			if p.q < 0 {
				continue
			}
			s.idx.add(p.q, p.k, p.due)
			kicks = appendKick(kicks, '+', p.q, p.k, p.due)
		}
		for _, k := range o.gone {
			kicks = appendKick(kicks, '-', 0, k, 0)
		}
	}
	s.mu.Unlock()
	if len(kicks) > 0 && s.kick != nil {
		s.check(s.kick.write(kicks), "write kick journal", "owner", s.owner)
	}
	s.metrics.batch(entries)
	for _, o := range batch {
		if o.err == nil {
			s.metrics.Acked.Add(uint64(o.n))
		}
		close(o.done)
	}
}

// appendKick appends one kick journal line: "+ queue id due" or "- id".
func appendKick(b []byte, verb byte, q int, k key, due int64) []byte {
	b = append(b, verb, ' ')
	if verb == '+' {
		b = append(b, Queues[q]...)
		b = append(b, ' ')
	}
	b = append(b, k.String()...)
	if verb == '+' {
		b = append(b, ' ')
		b = strconv.AppendInt(b, due, 10)
	}
	return append(b, '\n')
}

// ensureDir makes sure d exists. Directories it creates are added to
// newDirs' parents so phase 2 makes their entries durable.
func (s *Spool) ensureDir(d string, newDirs map[string]struct{}) error {
	if _, ok := s.dirs.Load(d); ok {
		return nil
	}
	var missing []string
	for p := d; len(p) > len(s.dir); p = filepath.Dir(p) {
		if _, ok := s.dirs.Load(p); ok {
			break
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			s.dirs.Store(p, struct{}{})
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], dirMode); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mkdir: %w", err)
		}
		newDirs[filepath.Dir(missing[i])] = struct{}{}
		s.dirs.Store(missing[i], struct{}{})
	}
	return nil
}

// maxSyncers bounds the goroutines of one round of parallel fsyncs.
// Concurrent fsyncs share the file system's journal commit, so a round
// costs about as much as one sync.
const maxSyncers = 32

// syncDirs fsyncs the directories in parallel and returns the failures.
// In SyncFS mode one syncfs covers every directory and the batch's data
// files, which stageAll left unsynced.
func (s *Spool) syncDirs(dirs map[string]struct{}) map[string]error {
	if s.testingNoSync || len(dirs) == 0 {
		return nil
	}
	if !s.syncFS {
		return syncDirs(dirs)
	}
	if err := s.syncFileSystem(); err != nil {
		failed := make(map[string]error, len(dirs))
		for d := range dirs {
			failed[d] = err
		}
		return failed
	}
	return nil
}

// syncFileSystem flushes the spool's file system.
func (s *Spool) syncFileSystem() error { return syncfs(s.fsFile) }

// syncDirs fsyncs the directories in parallel and returns the failures.
func syncDirs(dirs map[string]struct{}) map[string]error {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	errs := make([]error, len(list))
	parallel(len(list), func(i int) { errs[i] = syncDir(list[i]) })
	failed := map[string]error{}
	for i, err := range errs {
		if err != nil {
			failed[list[i]] = err
		}
	}
	return failed
}

// parallel runs f(0..n-1) on up to maxSyncers goroutines; n==1 runs inline.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, maxSyncers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
