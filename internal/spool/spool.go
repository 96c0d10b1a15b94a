package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Queue names.
const (
	In      = "in"      // accepted list mail, for the post runner
	Command = "command" // -request, -join, -leave, -confirm mail
	Bounces = "bounces" // -bounces mail (DSNs, VERP)
	Owner   = "owner"   // -owner mail
	Out     = "out"     // expanded posts waiting for delivery
	Retry   = "retry"   // entries waiting for NotBefore
	Virgin  = "virgin"  // herald-generated notices, before the pipeline
	Shunt   = "shunt"   // entries a runner gave up on, kept for unshunt
)

// Queues lists every queue in pipeline order.
var Queues = []string{In, Command, Bounces, Owner, Out, Retry, Virgin, Shunt}

// queueIndex returns the position of name in Queues, or -1.
func queueIndex(name string) int {
	switch name {
	case In:
		return 0
	case Command:
		return 1
	case Bounces:
		return 2
	case Owner:
		return 3
	case Out:
		return 4
	case Retry:
		return 5
	case Virgin:
		return 6
	case Shunt:
		return 7
	}
	return -1
}

const (
	retryIdx = 5
	nQueues  = 8
)

// Errors.
var (
	// ErrNotFound is returned by Get and Unshunt for an unknown id.
	ErrNotFound = errors.New("spool entry not found")
	// ErrDiskFull is wrapped by errors from writes refused for lack of
	// space (free space under Options.MinFreeBytes) or failed with ENOSPC,
	// EDQUOT or EIO. It is temporary: accepting resumes when space returns.
	ErrDiskFull = errors.New("spool disk full")
	// ErrClosed is returned by calls on a closed Spool, and by Claim
	// methods after Close released the claim.
	ErrClosed = errors.New("spool closed")
	// ErrInvalid is wrapped by errors about a bad argument: an unknown
	// queue, a malformed id, an oversized entry. It is permanent.
	ErrInvalid = errors.New("invalid spool argument")
	// ErrFinished is returned by a Claim method after the claim was
	// already finished by Done, Forward, Retry, Shunt or Release.
	ErrFinished = errors.New("spool claim already finished")
)

// IsTemporary reports whether err is a transient spool failure, worth a 451
// or EX_TEMPFAIL: everything except a bad argument or an unknown id
// ("temporary unless proven permanent").
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	return !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrFinished)
}

// Envelope is the small header stored in front of the raw message.
type Envelope struct {
	Queue      string            // set by the spool: the queue the entry is in
	Domain     string            // list domain
	List       string            // list local part ("dev")
	Alias      string            // post, request, join, leave, confirm, owner, bounces
	Extension  string            // the +part of the recipient (confirm token, VERP address); may be ""
	Sender     string            // envelope sender (MAIL FROM); may be ""
	Recipients []string          // envelope recipients as received, or delivery recipients in out/retry
	Arrived    time.Time         // first arrival at herald (kept across moves)
	Attempts   int               // processing attempts so far
	LastError  string            // the last failure, for retry/shunt
	Origin     string            // for shunt/retry: the queue the entry came from
	NotBefore  time.Time         // retry: earliest next attempt
	Meta       map[string]string // per-stage data, e.g. "approved"="1"
}

// Entry is one queued message.
type Entry struct {
	ID       string
	Envelope Envelope
	Message  []byte // raw RFC 5322 message, byte for byte
	// Parent is the id of the entry that Forward replaced by this one, or
	// "" for an entry made by Enqueue. It is set by the spool.
	Parent string

	family     int // number of entries the parent's Forward made
	recoveries int // crash recoveries so far; bounded by Options.MaxAttempts
}

// Item is a new entry to write.
type Item struct {
	Queue    string
	Envelope Envelope
	Message  []byte
}

// Options configures a Spool. The zero value of each field means its default.
type Options struct {
	Dir          string           // spool root (created if missing); required
	HashDepth    int              // hash directory levels of 32 each (default 2; -1 = flat; at most 4)
	MaxAttempts  int              // crash recoveries before an entry is shunted (default 5)
	MinFreeBytes int64            // refuse enqueues below this much free disk (default 64 MiB; 0 = use default, -1 = off)
	Logger       *slog.Logger     // default slog.Default()
	Now          func() time.Time // default time.Now (tests inject a clock)
	// SkipVerify skips reading every ready entry at Open (default false:
	// read and checksum them all, quarantining torn ones). With it, Open
	// only lists names, and a torn entry is quarantined when claimed
	// instead. Entries in the retry queue and dead owners' claims are
	// always read. SkipVerify also gives up one guard: Open cannot tell the
	// children of a Forward that a live owner is still committing, and may
	// index them early (see doc.go, invariant 4).
	SkipVerify bool
	// SyncMode is how a commit batch is made durable: SyncFS (default
	// where the platform has syncfs) flushes the spool's file system once
	// per batch phase; SyncFiles fsyncs every data file and directory.
	SyncMode SyncMode
	// NoJournal turns off the write-ahead journal of new entries (see
	// journal.go; it is used only in SyncFS mode): each Enqueue is then
	// made durable by the group commit's syncfs, file by file.
	NoJournal bool
	// MemoryBytes bounds the journaled new entries kept in memory, with
	// no file (default 64 MiB; -1 = none); JournalBytes those kept past
	// it in the journal only (default 1 GiB; -1 = none). See resident.go.
	MemoryBytes, JournalBytes int64
	// MaxKept bounds how many entries are kept in memory or the journal
	// only, whatever their size (default 65,536; -1 = no limit): Close
	// writes a file for each.
	MaxKept int

	// testingNoCheckpoint stops the journal's timed checkpoints (tests
	// that crash with entries still journaled).
	testingNoCheckpoint bool
	// testingNoResident writes a file for every entry (tests of files).
	testingNoResident bool
	// testingSpill spills every resident entry (no memory budget).
	testingSpill bool
}

// sizeOption is a size from Options: 0 the default, negative none.
func sizeOption(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// countOption is an Options count: 0 means def, negative no limit (-1).
func countOption(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// SyncMode selects how the group commit makes a batch durable.
type SyncMode int

const (
	// SyncDefault is SyncFS where available, else SyncFiles.
	SyncDefault SyncMode = iota
	// SyncFiles fsyncs each data file (in parallel) and each touched
	// directory: the portable way, but on disks where every fsync is a
	// device flush a batch costs as many flushes as it has entries.
	SyncFiles
	// SyncFS calls syncfs(2) on the spool's file system once per phase:
	// one flush for the whole batch, whatever its size. It also flushes
	// other dirty data on that file system, so give the spool its own
	// file system if other heavy writers share it. Needs Linux ≥ 5.8 for
	// writeback errors to be reported.
	SyncFS
)

const (
	defaultHashDepth    = 2
	defaultMaxAttempts  = 5
	defaultMinFreeBytes = 64 << 20
	dirMode             = 0o750
	fileMode            = 0o640
)

// Spool is a durable on-disk queue. All methods are safe for concurrent use,
// and several processes may open the same directory at once.
type Spool struct {
	dir       string
	depth     int
	maxRecov  int
	minFree   int64
	log       *slog.Logger
	now       func() time.Time
	verify    bool
	owner     string   // this instance's id; names its lock, claims, temps, kicks
	lock      *os.File // holds the flock on locks/<owner> while open
	activeDir string   // active/<owner>: our claims

	closeMu sync.RWMutex // held shared by every mutation, exclusively by Close
	closed  bool
	closing chan struct{} // closed when Close starts; wakes claimers

	mu     sync.Mutex // guards idx, claims and the resident entries
	idx    index
	claims map[key]*Claim
	// resident entries (resident.go): ready ones, their bytes in memory
	// and spilled, the budgets.
	resident                   map[key]resident
	residentBytes, residentMax int64
	spilledBytes, spillMax     int64
	spilledCount, keptMax      int
	// ckUpTo: while a checkpoint runs, the last segment it deletes.
	ckUpTo uint64
	// lastFree, freeAt: the last free-space measure and its time (disk.go).
	lastFree, freeAt atomic.Int64
	// foreign: in a one-shot instance (no journal), the entries live
	// instances hold in their journals only, as Open read them: Counts,
	// List and Get show them; nothing claims them.
	foreign map[key]*Entry

	committer        batcher[*op] // the group commit's queue (commit.go)
	committerStarted atomic.Bool

	dirs   sync.Map // directories known to exist
	tmpSeq atomic.Uint64
	spares spares   // finished entries' files, for reuse (recycle.go)
	j      *journal // write-ahead journal of new entries, or nil (journal.go)

	kick    *kickWriter
	watch   *kickReader
	wg      sync.WaitGroup // background goroutines
	metrics counters

	// testingAfterSync, when set, runs after an op's new entries are
	// durable and before the entries they replace are removed. A non-nil
	// error abandons the op there, as a crash would.
	testingAfterSync func(o *op) error
	// testingBeforeRound, when set, runs in a journaled Done or Forward
	// after the new entries are placed and before the journal round; a
	// non-nil error abandons it there, as a crash would.
	testingBeforeRound func() error
	// syncFS makes each commit phase one syncfs(2) of fsFile's file system.
	syncFS     bool
	useJournal bool // open a journal once Open has recovered
	// noTimedCheckpoint: see Options.testingNoCheckpoint.
	noTimedCheckpoint bool
	fsFile            *os.File // for syncfs: SyncFS mode and journal checkpoints
	// testingNoSync skips every fsync, for benchmarks that separate the
	// spool's own cost from the disk's.
	testingNoSync bool
}

// Open opens or creates the spool in opts.Dir, recovers the claims of
// owners that died, and builds the in-memory index. It lists every queue
// directory once; with Options.SkipVerify unset it also reads and
// checksums every entry.
func Open(ctx context.Context, opts Options) (*Spool, error) {
	s, err := newSpool(opts)
	if err != nil {
		return nil, err
	}
	if err := s.open(ctx); err != nil {
		s.abandon()
		return nil, err
	}
	return s, nil
}

func newSpool(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("spool open: no directory: %w", ErrInvalid)
	}
	s := &Spool{
		dir:         filepath.Clean(opts.Dir),
		depth:       opts.HashDepth,
		maxRecov:    opts.MaxAttempts,
		minFree:     opts.MinFreeBytes,
		log:         opts.Logger,
		now:         opts.Now,
		verify:      !opts.SkipVerify,
		closing:     make(chan struct{}),
		claims:      make(map[key]*Claim),
		resident:    make(map[key]resident),
		residentMax: sizeOption(opts.MemoryBytes, residentBudget),
		spillMax:    sizeOption(opts.JournalBytes, spillBudget),
		keptMax:     countOption(opts.MaxKept, keptMax),
	}
	switch {
	case s.depth == 0:
		s.depth = defaultHashDepth
	case s.depth < 0:
		s.depth = 0
	case s.depth > maxHashDepth:
		return nil, fmt.Errorf("spool open: hash depth %d over %d: %w", s.depth, maxHashDepth, ErrInvalid)
	}
	if s.maxRecov <= 0 {
		s.maxRecov = defaultMaxAttempts
	}
	if s.minFree == 0 {
		s.minFree = defaultMinFreeBytes
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.log = s.log.With("component", "spool")
	s.owner = newID(time.Now())
	s.activeDir = filepath.Join(s.dir, "active", s.owner)
	s.idx.init()
	s.committer.init()
	s.noTimedCheckpoint = opts.testingNoCheckpoint
	if opts.testingNoResident {
		s.residentMax, s.spillMax = 0, 0
	}
	if opts.testingSpill {
		s.residentMax = 0
	}
	s.syncFS = opts.SyncMode == SyncFS || opts.SyncMode == SyncDefault && syncfsAvailable
	if s.syncFS && !opts.NoJournal {
		// New entries go through the journal and syncfs only checkpoints
		// it; the group commit syncs its own files, so that it does not
		// flush every journaled entry's file each round (journal.go).
		s.useJournal, s.syncFS = true, false
	}
	return s, nil
}

// path helpers
func (s *Spool) sub(name ...string) string {
	return filepath.Join(append([]string{s.dir}, name...)...)
}

func (s *Spool) readyPath(queue, id string) string {
	return hashPath(filepath.Join(s.dir, queue), s.depth, id)
}

func (s *Spool) claimPath(id string) string { return filepath.Join(s.activeDir, id) }

// enter admits a mutating call; leave must follow when it returns nil.
func (s *Spool) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Spool) leave() { s.closeMu.RUnlock() }

// Close flushes the pending group commit, gives every outstanding claim back
// to its queue (attempts unchanged), and releases this instance's lock. Calls
// on the spool or its claims after Close return ErrClosed.
func (s *Spool) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.closeMu.Unlock()

	s.mu.Lock()
	claims := make([]*Claim, 0, len(s.claims))
	for _, c := range s.claims {
		claims = append(claims, c)
	}
	s.mu.Unlock()
	var errs []error
	ops := make([]*op, 0, len(claims))
	for _, c := range claims {
		if o := c.closeRelease(); o != nil {
			ops = append(ops, o)
		}
	}
	s.submit(ops...)
	for _, o := range ops {
		<-o.done
		errs = append(errs, o.err)
	}
	s.stopCommitter()
	errs = append(errs, s.removeSpares())
	if s.j != nil {
		errs = append(errs, s.j.close())
	}
	if s.watch != nil {
		errs = append(errs, s.watch.close())
	}
	s.wg.Wait()
	if s.watch != nil {
		s.watch.release()
	}
	if s.kick != nil {
		errs = append(errs, s.kick.close())
	}
	if err := os.Remove(s.activeDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("spool close: %w", err))
	}
	lockPath := s.sub("locks", s.owner)
	if err := os.Remove(lockPath); err != nil {
		errs = append(errs, fmt.Errorf("spool close: %w", err))
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("spool close: %w", err))
	}
	if s.fsFile != nil {
		errs = append(errs, s.fsFile.Close())
	}
	return errors.Join(errs...)
}

// abandon stops background work and drops the lock without touching any
// file, as a crash would: claims stay in active/ for the next Open to
// recover. Open uses it on failure; tests use it to simulate a crash.
func (s *Spool) abandon() {
	s.closeMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.closeMu.Unlock()
	s.stopCommitter()
	if s.j != nil {
		s.j.halt()
	}
	if s.watch != nil {
		_ = s.watch.close()
	}
	s.wg.Wait()
	if s.watch != nil {
		s.watch.release()
	}
	if s.kick != nil {
		_ = s.kick.close()
	}
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

// Counts returns the number of ready entries per queue, as this instance's
// index knows them. Entries claimed by runners are not counted. Entries
// another process claimed are counted until this process learns so. A
// one-shot instance also counts the entries live instances hold in their
// journals only (ready or being processed).
func (s *Spool) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, nQueues)
	for i, q := range Queues {
		m[q] = s.idx.q[i].n
	}
	for _, e := range s.foreign {
		m[e.Envelope.Queue]++
	}
	return m
}

// Owner returns this instance's owner id: it names the instance's lock file,
// its claim directory active/<owner> and its kick journal.
func (s *Spool) Owner() string { return s.owner }

// checkQueue validates a queue name.
func checkQueue(q string) (int, error) {
	i := queueIndex(q)
	if i < 0 {
		return -1, fmt.Errorf("spool: unknown queue %q: %w", q, ErrInvalid)
	}
	return i, nil
}
