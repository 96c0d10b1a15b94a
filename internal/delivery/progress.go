package delivery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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
// Every attempt appends to one shared log, <dir>/log.<n> (a new one per
// run and per logRotate records): a connection worker appends a
// transaction's accepted recipients as one line, "<crc> <entry>
// <addr>...", with one write(2), as soon as it has read the
// transaction's final reply and before it sends the next body on that
// connection (smtpclient reads the final reply of transaction N before it
// writes the body of N+1). A written record survives a crash of the
// process (it is in the page cache), so after a SIGKILL at most the
// transaction in flight on each connection is sent again. A shared log
// costs a post one append: a file per entry cost it a create (or the
// renames of a reused one) and a removal, a quarter of the out runner's
// throughput on ext4.
//
// One goroutine fdatasyncs the logs written to since its last round (and
// the directory, when a log was created) every interval: group commit
// over all connections and entries, never on a connection's path. After
// a power loss or kernel crash, the records of the last interval may be
// gone too: those recipients get the post again (see the package doc for
// the bound); none is ever lost, because a record is only ever written
// after the MTA accepted its recipients and the entry itself leaves the
// spool only once every recipient is settled. A line that is torn, or
// fails its checksum, is ignored: its recipients are sent again.
//
// An attempt that ends with its entry unfinished (the entry is retried)
// writes what it recorded to the entry's own file, <dir>/<entry>,
// synced, which the next attempt reads. A log goes once every entry that
// wrote to it has finished or kept its records so, and it is no longer
// the current one. At start, the logs a previous run left are read into
// memory (what its unfinished entries need when they are retried) and
// removed by the sweep once older than any entry can be.
type journal struct {
	dir      string
	log      *slog.Logger
	interval time.Duration

	mu        sync.Mutex
	cur       *logFile
	logs      map[*logFile]bool // open logs: the current one and those entries still need; a log leaves when closed
	seq       int
	created   bool                // a log was created since the last round
	recovered map[string][]string // earlier runs' records, by entry
	// kept: entries' own files known to exist (found at start, or kept
	// since). An entry that is neither here nor retried has none, and
	// its first attempt skips looking, which costs a directory lookup
	// that misses (~14 us here, per post).
	kept map[string]bool
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// logFile is one shared log.
type logFile struct {
	f       *os.File
	path    string
	records int
	users   int  // entries that wrote here and have not finished or kept
	dirty   bool // written since the last round (journal.mu)
}

// logRotate bounds the records of one log, so that a log can go soon
// after its entries finish.
const logRotate = 4096

// logPrefix names the shared logs; entry files are named by entry.
const logPrefix = "log."

// progress is the journal of one entry's attempt.
type progress struct {
	j    *journal
	id   string
	path string          // the entry's own file (earlier attempts)
	done map[string]bool // loaded at open: already accepted
	// hasFile: path exists (read at open, or written by keep); remove
	// then deletes it. Most entries never have one.
	hasFile bool

	mu     sync.Mutex
	closed bool
	buf    []byte
	recs   []string         // recorded by this attempt
	logs   map[*logFile]int // the logs it wrote to
}

// newJournal starts the journal in dir, fsynced every interval; dir ""
// disables it (nothing is recorded).
func newJournal(dir string, interval time.Duration, log *slog.Logger) (*journal, error) {
	j := &journal{dir: dir, log: log, interval: interval, recovered: map[string][]string{}, logs: map[*logFile]bool{},
		kept: map[string]bool{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if dir == "" {
		close(j.done)
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("delivery progress dir: %w", err)
	}
	if err := j.recover(); err != nil {
		return nil, err
	}
	go j.syncer()
	return j, nil
}

// recover reads the logs earlier runs left; the next log number follows
// theirs.
func (j *journal) recover() error {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("delivery progress dir: %w", err)
	}
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), logPrefix)
		if !ok {
			j.kept[e.Name()] = true
			continue
		}
		if seq, err := strconv.Atoi(n); err == nil && seq > j.seq {
			j.seq = seq
		}
		b, err := os.ReadFile(filepath.Join(j.dir, e.Name()))
		if err != nil {
			return fmt.Errorf("read delivery progress log: %w", err)
		}
		parseLog(b, func(id string, addrs []string) {
			j.recovered[id] = append(j.recovered[id], addrs...)
		})
	}
	return nil
}

// parseLog calls rec for every whole line of b whose checksum holds.
func parseLog(b []byte, rec func(id string, addrs []string)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return // torn last line
		}
		line := b[:i]
		b = b[i+1:]
		sum, rest, ok := bytes.Cut(line, []byte{'\t'})
		if !ok || string(sum) != lineSum(rest) {
			continue
		}
		fields := strings.Split(string(rest), "\t")
		if len(fields) >= 2 {
			rec(fields[0], fields[1:])
		}
	}
}

// sumLen is the length of a log line's checksum and its tab.
const sumLen = 9

// castagnoli is the CRC-32C table of the log lines' checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// lineSum is a log line's checksum: CRC-32C of the rest, in hex.
func lineSum(rest []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(rest, castagnoli))
}

// close stops the syncer after a last round, and removes the current log
// if no entry needs it.
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
	j.mu.Lock()
	cur := j.cur
	j.cur = nil
	j.mu.Unlock()
	if cur != nil {
		j.release(cur, 0)
	}
}

// open returns the progress of entry id, with what earlier attempts
// recorded: in its own file, or in a log an earlier run left. retried
// says the entry was attempted before (by any process): only then, or if
// this process knows of its file, does it read the file.
//
// An attempt that keeps a file ends with the entry retried, its
// Attempts counted, or recovered after a crash, counted too. The
// exceptions: an entry given back unchanged because a retry found the
// disk full (runner.park), or shunted and then unshunted. If another
// live process on the same spool claims such an entry first, it does not
// read the file and sends again to the recipients recorded there
// (duplicates, never a loss); this process, or one started later, reads
// it.
func (j *journal) open(id string, retried bool) (*progress, error) {
	p := &progress{j: j, id: id, done: map[string]bool{}, logs: map[*logFile]int{}}
	if j.dir == "" {
		return p, nil
	}
	p.path = filepath.Join(j.dir, id)
	j.mu.Lock()
	for _, a := range j.recovered[id] {
		p.done[a] = true
	}
	look := retried || j.kept[id]
	j.mu.Unlock()
	if !look {
		return p, nil
	}
	b, err := os.ReadFile(p.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, nil
	case err != nil:
		return nil, fmt.Errorf("read delivery progress %s: %w", id, err)
	}
	p.hasFile = true
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
	lf, err := j.current()
	if err != nil {
		return err
	}
	p.logs[lf]++ // pins lf until this entry is done with it
	// "<sum>\t<id>\t<addr>...\n", the sum written over its placeholder.
	line := append(p.buf[:0], "00000000\t"...)
	line = append(line, p.id...)
	for _, a := range addrs {
		line = append(line, '\t')
		line = append(line, a...)
	}
	copy(line, lineSum(line[sumLen:]))
	line = append(line, '\n')
	p.buf = line
	if _, err := lf.f.Write(line); err != nil {
		return fmt.Errorf("write delivery progress: %w", err)
	}
	p.recs = append(p.recs, addrs...)
	j.mu.Lock()
	lf.dirty = true
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// current returns the log to append to, counting one more record and
// user of it; a full one is replaced first.
func (j *journal) current() (*logFile, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cur == nil || j.cur.records >= logRotate {
		j.seq++
		path := filepath.Join(j.dir, fmt.Sprintf("%s%d", logPrefix, j.seq))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("open delivery progress log: %w", err)
		}
		old := j.cur
		j.cur = &logFile{f: f, path: path}
		j.logs[j.cur] = true
		j.created = true
		if old != nil {
			j.mu.Unlock()
			j.release(old, 0)
			j.mu.Lock()
		}
	}
	j.cur.records++
	j.cur.users++
	return j.cur, nil
}

// release drops n uses of lf (one per record written there); a log no
// entry needs and that is not the current one is closed and removed.
func (j *journal) release(lf *logFile, n int) {
	j.mu.Lock()
	lf.users -= n
	gone := lf.users <= 0 && lf != j.cur && j.logs[lf]
	if gone {
		delete(j.logs, lf)
	}
	j.mu.Unlock()
	if !gone {
		return
	}
	if err := errors.Join(lf.f.Close(), os.Remove(lf.path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		j.log.Warn("remove delivery progress log", "path", lf.path, "err", err)
	}
}

// remove ends the attempt of a finished entry: its records are no longer
// needed anywhere.
func (p *progress) remove() {
	if p.j.dir == "" {
		return
	}
	p.shut()
	p.j.mu.Lock()
	delete(p.j.recovered, p.id)
	delete(p.j.kept, p.id)
	p.j.mu.Unlock()
	if !p.hasFile {
		return
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.j.log.Warn("remove delivery progress", "path", p.path, "err", err)
	}
}

// keep ends this attempt of an entry that is not finished: what it
// recorded goes to the entry's own file, synced, for the next attempt.
func (p *progress) keep() {
	if p.j.dir == "" {
		return
	}
	p.mu.Lock()
	recs := p.recs
	p.mu.Unlock()
	p.j.mu.Lock()
	recs = append(recs, p.j.recovered[p.id]...)
	if len(recs) > 0 {
		p.j.kept[p.id] = true
	}
	p.j.mu.Unlock()
	if len(recs) > 0 {
		p.hasFile = true // even if the append fails half-way
		if err := appendSynced(p.path, recs); err != nil {
			// Its records stay in the logs: the logs are kept.
			p.j.log.Error("keep delivery progress", "path", p.path, "err", err)
			p.mu.Lock()
			p.closed = true
			p.mu.Unlock()
			return
		}
	}
	p.shut()
}

// appendSynced appends one address per line to path and makes it durable.
func appendSynced(path string, addrs []string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, a := range addrs {
		b.WriteString(a)
		b.WriteByte('\n')
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return err
}

// shut stops further records and gives back this attempt's logs.
func (p *progress) shut() {
	p.mu.Lock()
	p.closed = true
	logs := p.logs
	p.logs = nil
	p.mu.Unlock()
	for lf, n := range logs {
		p.j.release(lf, n)
	}
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

// round fsyncs the logs written since the last round, and the directory
// when a log was created. A failure is logged: it weakens only the
// power-loss bound (records still reach the page cache), so delivery
// goes on. A log removed meanwhile needs no sync.
func (j *journal) round() {
	j.mu.Lock()
	var dirty []*logFile
	for lf := range j.logs {
		if lf.dirty {
			lf.dirty = false
			lf.users++ // held open through the sync
			dirty = append(dirty, lf)
		}
	}
	created := j.created
	j.created = false
	j.mu.Unlock()
	var errs []error
	for _, lf := range dirty {
		if err := lf.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync delivery progress %s: %w", lf.path, err))
		}
		j.release(lf, 1)
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

// sweep removes entry files and logs not written for age: left by a
// crash between an entry's end and its file's removal, or by a run that
// stopped with entries unfinished (a live entry's records are never that
// old: its entry expires after the retry period).
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
