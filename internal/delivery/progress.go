package delivery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// journal records, per out entry, the recipients the MTA accepted, so a
// delivery interrupted by a crash resumes without sending them again.
//
// Each entry being delivered has a file <dir>/<entry id>: one accepted
// address per line, appended as transactions complete. One goroutine
// writes and fsyncs every dirty file in rounds (group commit) and
// advances the synced sequence number; a connection waits for the record
// of its previous transaction to be synced before it sends the next body
// (Tx.BeforeBody), so after a crash at most the transaction in flight on
// each connection is delivered again. A torn last line (no newline) is
// ignored on load: those recipients are sent again, never lost.
//
// The spool's Claim.Update could carry the same progress, but it rewrites
// the whole entry (message included) on every call; an append-only
// journal costs a few bytes and one shared fsync per round.
type journal struct {
	dir string
	log *slog.Logger

	mu     sync.Mutex
	cond   *sync.Cond
	dirty  []*progress
	seq    uint64 // last sequence number handed out
	synced uint64 // every record up to this one is durable
	err    error  // the last sync failure, reported to waiters
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

// progress is the journal of one entry.
type progress struct {
	j       *journal
	path    string
	fmu     sync.Mutex // guards f; held across the syncer's I/O and by remove
	f       *os.File
	buf     []byte
	created bool // the file's directory entry still needs a sync
	closed  bool
	done    map[string]bool // loaded at open: already accepted
}

// newJournal starts the journal in dir; dir "" disables it (nothing is
// recorded and waits return at once).
func newJournal(dir string, log *slog.Logger) (*journal, error) {
	j := &journal{dir: dir, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	j.cond = sync.NewCond(&j.mu)
	if dir == "" {
		close(j.done)
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("delivery progress dir: %w", err)
	}
	go j.syncer()
	return j, nil
}

// close stops the syncer after a last round.
func (j *journal) close() {
	if j.dir == "" {
		return
	}
	select {
	case <-j.stop:
	default:
		close(j.stop)
	}
	<-j.done
}

// open returns the progress of entry id, loading what an earlier attempt
// recorded.
func (j *journal) open(id string) (*progress, error) {
	p := &progress{j: j, done: map[string]bool{}}
	if j.dir == "" {
		return p, nil
	}
	p.path = filepath.Join(j.dir, id)
	b, err := os.ReadFile(p.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, nil
	case err != nil:
		return nil, fmt.Errorf("read delivery progress %s: %w", id, err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		sc := bufio.NewScanner(bytes.NewReader(b[:i+1]))
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			if a := strings.TrimSpace(sc.Text()); a != "" {
				p.done[a] = true
			}
		}
	}
	return p, nil
}

// add appends accepted addresses and returns the sequence number to wait
// for.
func (p *progress) add(addrs []string) uint64 {
	j := p.j
	if j.dir == "" || len(addrs) == 0 {
		return 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if p.closed {
		return 0
	}
	if len(p.buf) == 0 {
		j.dirty = append(j.dirty, p)
	}
	for _, a := range addrs {
		p.buf = append(p.buf, a...)
		p.buf = append(p.buf, '\n')
	}
	j.seq++
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return j.seq
}

// wait blocks until record seq is durable.
func (j *journal) wait(seq uint64) error {
	if j.dir == "" || seq == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < seq && j.err == nil {
		j.cond.Wait()
	}
	return j.err
}

// flush makes everything added so far durable.
func (j *journal) flush() error {
	j.mu.Lock()
	seq := j.seq
	j.mu.Unlock()
	return j.wait(seq)
}

// remove deletes the entry's journal once the entry is finished.
func (p *progress) remove() {
	j := p.j
	if j.dir == "" {
		return
	}
	j.mu.Lock()
	p.closed = true
	p.buf = nil
	j.mu.Unlock()
	p.fmu.Lock()
	if p.f != nil {
		if err := p.f.Close(); err != nil {
			j.log.Warn("close delivery progress", "path", p.path, "err", err)
		}
		p.f = nil
	}
	p.fmu.Unlock()
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		j.log.Warn("remove delivery progress", "path", p.path, "err", err)
	}
}

// syncer writes and syncs dirty files in rounds until stop.
func (j *journal) syncer() {
	defer close(j.done)
	for {
		select {
		case <-j.kick:
		case <-j.stop:
			j.round()
			j.mu.Lock()
			j.err = errors.New("delivery progress journal closed")
			j.cond.Broadcast()
			j.mu.Unlock()
			return
		}
		j.round()
	}
}

type pendingWrite struct {
	p   *progress
	buf []byte
}

func (j *journal) round() {
	j.mu.Lock()
	target := j.seq
	batch := make([]pendingWrite, 0, len(j.dirty))
	for _, p := range j.dirty {
		if !p.closed && len(p.buf) > 0 {
			batch = append(batch, pendingWrite{p, p.buf})
			p.buf = nil
		}
	}
	j.dirty = j.dirty[:0]
	j.mu.Unlock()
	var errs []error
	dirSync := false
	for _, w := range batch {
		created, err := w.p.write(w.buf)
		dirSync = dirSync || created
		errs = append(errs, err)
	}
	if dirSync {
		errs = append(errs, syncDir(j.dir))
	}
	err := errors.Join(errs...)
	j.mu.Lock()
	if err != nil {
		j.log.Error("delivery progress sync failed", "err", err)
		j.err = err
	} else {
		j.err = nil
		j.synced = max(j.synced, target)
	}
	j.cond.Broadcast()
	j.mu.Unlock()
}

// write appends and syncs buf; created reports a new file.
func (p *progress) write(buf []byte) (created bool, err error) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.j.mu.Lock()
	closed := p.closed
	p.j.mu.Unlock()
	if closed {
		return false, nil
	}
	if p.f == nil {
		p.f, err = os.OpenFile(p.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return false, fmt.Errorf("open delivery progress: %w", err)
		}
		created = true
	}
	if _, err := p.f.Write(buf); err != nil {
		return created, fmt.Errorf("write delivery progress: %w", err)
	}
	if err := p.f.Sync(); err != nil {
		return created, fmt.Errorf("sync delivery progress: %w", err)
	}
	return created, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// sweep removes journals not written for age: left by a crash between an
// entry's end and its journal's removal (a live entry's journal is never
// that old: its entry expires after the retry period).
func (j *journal) sweep(age time.Duration) {
	if j.dir == "" {
		return
	}
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		j.log.Warn("sweep delivery progress", "err", err)
		return
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < age {
			continue
		}
		if err := os.Remove(filepath.Join(j.dir, e.Name())); err != nil {
			j.log.Warn("remove stale delivery progress", "id", e.Name(), "err", err)
		}
	}
}
