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

// defaultProgressSync is how often the journal is fsynced while entries
// are being delivered (Options.ProgressSync).
const defaultProgressSync = 50 * time.Millisecond

// journal records, per out entry, the recipients the MTA accepted, so a
// delivery interrupted by a crash resumes without sending them again.
//
// Each entry being delivered has a file <dir>/<entry id>: one accepted
// address per line. A connection worker appends a transaction's accepted
// recipients with one write(2) as soon as it has read the transaction's
// final reply, and before it sends the next body on that connection
// (smtpclient reads the final reply of transaction N before it writes the
// body of N+1). A written record survives a crash of the process (it is
// in the page cache), so after a SIGKILL at most the transaction in
// flight on each connection is sent again.
//
// One goroutine fsyncs the files written to since its last round (and
// the directory, when files were created) every interval: group commit
// over all connections and entries, never on a connection's path. After
// a power loss or kernel crash, the records of the last interval may be
// gone too: those recipients get the post again (see the package doc for
// the bound); none is ever lost, because a record is only ever written
// after the MTA accepted its recipients and the entry itself leaves the
// spool only once every recipient is settled.
//
// A torn last line (no newline) is ignored on load: those recipients are
// sent again, never lost.
//
// A finished entry's file is not unlinked but emptied and kept as a spare
// (<dir>/.spare-N), and the next entry's journal is a spare renamed to its
// name: a new inode costs some file systems a millisecond of CPU (ext4
// without a journal scans recently freed inodes), far more than a
// truncate and two renames. A spare is emptied before it is renamed
// away, so no journal ever starts with another entry's records; spares
// left by a crash are removed at start.
//
// The spool's Claim.Update could carry the same progress, but it rewrites
// the whole entry (message included) on every call; an append-only
// journal costs a few bytes per transaction.
type journal struct {
	dir      string
	log      *slog.Logger
	interval time.Duration

	mu       sync.Mutex
	dirty    []*progress // written since the last round
	created  bool        // a file was created or renamed in since the last round
	spares   []string    // emptied files to rename for new journals
	spareSeq int
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// progress is the journal of one entry.
type progress struct {
	j      *journal
	path   string
	done   map[string]bool // loaded at open: already accepted
	exists bool            // an earlier attempt left a file: append to it

	mu     sync.Mutex // guards buf, closed, and f's creation; held across a write
	buf    []byte
	closed bool
	dirty  bool // in j.dirty; guarded by j.mu

	fmu sync.Mutex // guards f against close while the syncer syncs it
	f   *os.File
}

// newJournal starts the journal in dir, fsynced every interval; dir ""
// disables it (nothing is recorded).
func newJournal(dir string, interval time.Duration, log *slog.Logger) (*journal, error) {
	j := &journal{dir: dir, log: log, interval: interval,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if dir == "" {
		close(j.done)
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("delivery progress dir: %w", err)
	}
	if err := removeSpares(dir); err != nil {
		return nil, err
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
	p.exists = true
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

// add records accepted addresses with one write (no sync: see journal).
// An error means the record may be missing; the caller must not send
// another body on the connection that carried them before it reconnects.
func (p *progress) add(addrs []string) error {
	j := p.j
	if j.dir == "" || len(addrs) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.f == nil {
		f, err := j.create(p.path, p.exists)
		if err != nil {
			return err
		}
		p.fmu.Lock()
		p.f = f
		p.fmu.Unlock()
		j.mu.Lock()
		j.created = true
		j.mu.Unlock()
	}
	p.buf = p.buf[:0]
	for _, a := range addrs {
		p.buf = append(p.buf, a...)
		p.buf = append(p.buf, '\n')
	}
	if _, err := p.f.Write(p.buf); err != nil {
		return fmt.Errorf("write delivery progress: %w", err)
	}
	j.mu.Lock()
	if !p.dirty {
		p.dirty = true
		j.dirty = append(j.dirty, p)
	}
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// remove deletes the entry's journal once the entry is finished.
func (p *progress) remove() {
	if p.j.dir == "" {
		return
	}
	p.shut(false)
	if p.j.retire(p.path) {
		return
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.j.log.Warn("remove delivery progress", "path", p.path, "err", err)
	}
}

// keep ends this attempt's use of the journal and keeps the file, synced,
// for the entry's next attempt (this one failed after some transactions).
func (p *progress) keep() { p.shut(true) }

// shut stops further records and closes the file, fsyncing it first if
// sync is set.
func (p *progress) shut(sync bool) {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if p.f == nil {
		return
	}
	if sync {
		if err := p.f.Sync(); err != nil {
			p.j.log.Warn("sync delivery progress", "path", p.path, "err", err)
		}
	}
	if err := p.f.Close(); err != nil {
		p.j.log.Warn("close delivery progress", "path", p.path, "err", err)
	}
	p.f = nil
}

// syncer fsyncs what was written, at most once per interval, until stop.
func (j *journal) syncer() {
	defer close(j.done)
	last := time.Time{}
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-j.kick:
		case <-j.stop:
			j.round()
			return
		}
		if wait := j.interval - time.Since(last); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-j.stop:
				t.Stop()
				j.round()
				return
			}
		}
		last = time.Now()
		j.round()
	}
}

// round fsyncs the files written since the last round, and the directory
// when files were created. A failure is logged: it weakens only the
// power-loss bound (records still reach the page cache), so delivery
// goes on.
func (j *journal) round() {
	j.mu.Lock()
	batch := j.dirty
	j.dirty = nil
	created := j.created
	j.created = false
	for _, p := range batch {
		p.dirty = false
	}
	j.mu.Unlock()
	var errs []error
	for _, p := range batch {
		p.fmu.Lock()
		if p.f != nil {
			if err := p.f.Sync(); err != nil {
				errs = append(errs, fmt.Errorf("sync delivery progress %s: %w", p.path, err))
			}
		}
		p.fmu.Unlock()
	}
	if created {
		errs = append(errs, syncDir(j.dir))
	}
	if err := errors.Join(errs...); err != nil {
		j.log.Error("delivery progress sync failed", "err", err)
	}
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
		if strings.HasPrefix(e.Name(), sparePrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < age {
			continue
		}
		if err := os.Remove(filepath.Join(j.dir, e.Name())); err != nil {
			j.log.Warn("remove stale delivery progress", "id", e.Name(), "err", err)
		}
	}
}

// Spare files (see journal).
const (
	sparePrefix = ".spare-"
	maxSpares   = 64
)

// create opens path for appending: the earlier attempt's file if it
// exists, else a spare renamed to it, else a new file.
func (j *journal) create(path string, exists bool) (*os.File, error) {
	if !exists {
		if spare := j.takeSpare(); spare != "" {
			// On failure the file is created below instead.
			_ = os.Rename(spare, path)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open delivery progress: %w", err)
	}
	return f, nil
}

// takeSpare takes a spare out of the pool; "" if there is none.
func (j *journal) takeSpare() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.spares)
	if n == 0 {
		return ""
	}
	spare := j.spares[n-1]
	j.spares = j.spares[:n-1]
	return spare
}

// retire empties a finished entry's journal and keeps it as a spare,
// unless there are enough; false if it was not kept.
func (j *journal) retire(path string) bool {
	j.mu.Lock()
	full := len(j.spares) >= maxSpares
	j.spareSeq++
	spare := filepath.Join(j.dir, fmt.Sprintf("%s%d", sparePrefix, j.spareSeq))
	j.mu.Unlock()
	if full {
		return false
	}
	// Emptied first: renamed, it must hold no records of this entry.
	if err := os.Truncate(path, 0); err != nil {
		return false
	}
	if err := os.Rename(path, spare); err != nil {
		return false
	}
	j.mu.Lock()
	j.spares = append(j.spares, spare)
	j.mu.Unlock()
	return true
}

// removeSpares deletes the spares a previous run left.
func removeSpares(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("delivery progress dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), sparePrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove delivery progress spare: %w", err)
			}
		}
	}
	return nil
}
