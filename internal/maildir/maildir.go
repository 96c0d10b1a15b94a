// Package maildir is herald's Maildir pickup: a runner that takes the
// messages an MTA dropped into <root>/<domain>/<list>/<alias>/new/ (Postfix
// virtual_mailbox_maps delivery, see internal/mta/postfix) and accepts them
// through ingress, exactly as LMTP would: the path names the recipient
// (LIST-ALIAS@DOMAIN, resolved against the store), the message gets one
// durable spool entry in its alias's queue.
//
// Invariants:
//   - A file is removed only after its spool entry (or its shunt entry) is
//     durable, and the removal is synced, so a crash at any point loses
//     nothing; at worst a message is picked up twice.
//   - Nothing unprocessed is deleted: an unknown list, an unknown alias
//     directory, an unparseable or oversized message goes to the spool's
//     shunt queue with the reason (herald spool unshunt puts it back).
//     Temporary trouble (store or disk) leaves the file for the next pass.
//   - New files are noticed through inotify (Linux) with a periodic full
//     scan as the fallback and the retry clock; there is no polling loop
//     faster than Options.ScanInterval.
package maildir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"herald/internal/address"
	"herald/internal/spool"
)

// Ingress is what the runner needs from package ingress.
type Ingress interface {
	Resolve(ctx context.Context, rcpt string) (address.Recipient, int64, error)
	Accept(ctx context.Context, sender string, rcpts []address.Recipient, data []byte) []error
}

// Spool is where unprocessable files are shunted.
type Spool interface {
	EnqueueAll(ctx context.Context, items []spool.Item) ([]string, error)
}

// Options tune the runner. Zero values take the defaults noted.
type Options struct {
	// ScanInterval between full scans (the inotify fallback and the retry
	// clock for files that failed temporarily). Default 30 s.
	ScanInterval time.Duration
	// Workers processing files in parallel; their spool writes share group
	// commits, so more workers than cores pay off on a burst. Default 8.
	Workers int
	// FileTimeout bounds the processing of one file. Default 2 minutes.
	FileTimeout time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Stats count outcomes.
type Stats struct {
	mu                          sync.Mutex
	Accepted, Shunted, Deferred int64
}

// Snapshot returns the counters.
func (s *Stats) Snapshot() (accepted, shunted, deferred int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Accepted, s.Shunted, s.Deferred
}

// Runner picks up Maildir files.
type Runner struct {
	root  string
	in    Ingress
	spool Spool
	opts  Options
	log   *slog.Logger
	// Stats counts accepted, shunted and deferred files.
	Stats Stats

	mu       sync.Mutex
	inflight map[string]bool
	jobs     chan string
}

// New returns a runner for the tree under root.
func New(root string, in Ingress, sp Spool, opts Options) *Runner {
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.FileTimeout <= 0 {
		opts.FileTimeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Runner{root: filepath.Clean(root), in: in, spool: sp, opts: opts,
		log: opts.Logger.With("component", "maildir", "root", root), inflight: map[string]bool{}, jobs: make(chan string, 1024)}
}

// Run picks up files until ctx is done. A file being processed when ctx
// ends is finished first.
func (r *Runner) Run(ctx context.Context) error {
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return fmt.Errorf("maildir root: %w", err)
	}
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	w, err := newWatcher(r.root)
	if err != nil {
		r.log.Warn("no inotify; relying on periodic scans", "err", err, "interval", r.opts.ScanInterval)
	}
	var events <-chan watchEvent
	if w != nil {
		defer w.close()
		events = w.events
	}
	r.scan(ctx, r.root, w)
	tick := time.NewTicker(r.opts.ScanInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			r.scan(ctx, r.root, w)
		case ev, ok := <-events:
			switch {
			case !ok:
				events = nil // the watcher failed; scans go on
			case ev.overflow:
				r.scan(ctx, r.root, w)
			case ev.dir:
				r.scan(ctx, ev.path, w) // watch it, and take what arrived before the watch
			case r.depth(filepath.Dir(ev.path)) == 4:
				r.submit(ctx, ev.path)
			}
		}
	}
	close(r.jobs)
	wg.Wait()
	return nil
}

// Scan processes every file in the tree once and returns when all are
// done; for tests and tools (Run does not need it).
func (r *Runner) Scan(ctx context.Context) {
	var paths []string
	r.walk(r.root, nil, func(p string) { paths = append(paths, p) })
	for _, p := range paths {
		r.process(ctx, p)
	}
}

// scan walks dir (the root or a new subdirectory), adding watches on the
// way, and submits every file found in a new/ directory.
func (r *Runner) scan(ctx context.Context, dir string, w *watcher) {
	r.walk(dir, w, func(p string) { r.submit(ctx, p) })
}

// walk visits the directories of the tree below dir down to the new/
// level and calls fn for each file in a new/ directory.
func (r *Runner) walk(dir string, w *watcher, fn func(string)) {
	depth := r.depth(dir)
	if depth < 0 || depth > 4 {
		return
	}
	if w != nil {
		w.add(dir, depth == 4)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("read maildir directory", "dir", dir, "err", err)
		}
		return
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		switch {
		case depth == 4 && !e.IsDir():
			fn(p)
		case depth == 3 && e.IsDir() && name == "new":
			r.walk(p, w, fn)
		case depth < 3 && e.IsDir():
			r.walk(p, w, fn)
		}
	}
}

// depth of dir below the root: 0 root, 1 domain, 2 list, 3 alias, 4 new;
// -1 when it is not inside the tree.
func (r *Runner) depth(dir string) int {
	rel, err := filepath.Rel(r.root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return -1
	}
	if rel == "." {
		return 0
	}
	parts := strings.Split(rel, string(filepath.Separator))
	if len(parts) == 4 && parts[3] != "new" {
		return -1
	}
	return len(parts)
}

// submit queues path unless it is already being processed.
func (r *Runner) submit(ctx context.Context, path string) {
	r.mu.Lock()
	if r.inflight[path] {
		r.mu.Unlock()
		return
	}
	r.inflight[path] = true
	r.mu.Unlock()
	select {
	case r.jobs <- path:
	case <-ctx.Done():
		r.done(path)
	}
}

func (r *Runner) done(path string) {
	r.mu.Lock()
	delete(r.inflight, path)
	r.mu.Unlock()
}

func (r *Runner) work(ctx context.Context) {
	for path := range r.jobs {
		if ctx.Err() == nil {
			r.process(ctx, path)
		}
		r.done(path)
	}
}
