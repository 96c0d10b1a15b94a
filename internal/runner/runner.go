// Package runner is the generic queue loop: claim an entry, hand it to a
// Processor, and make sure the claim always ends — processed, retried or
// shunted — even when the processor fails or panics.
//
// Shutdown: when the Run context is cancelled, workers stop claiming, but
// an entry already claimed is processed to the end with a context that is
// not cancelled (bounded by Options.EntryTimeout), so a claimed entry is
// never abandoned half-done. If the process dies instead, the spool's
// recovery hands the claim back on the next start.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"herald/internal/spool"
	"herald/internal/status"
)

// Processor handles one claimed entry. It must end the claim itself (Done,
// Forward, Retry or Shunt) and return nil, or return an error and leave the
// claim alone: the runner then retries a temporary error with backoff and
// shunts anything else, recording the error.
type Processor interface {
	Process(ctx context.Context, c *spool.Claim) error
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, c *spool.Claim) error

// Process calls f.
func (f ProcessorFunc) Process(ctx context.Context, c *spool.Claim) error { return f(ctx, c) }

// Options tune a runner.
type Options struct {
	// Workers processing entries in parallel. Default 1.
	Workers int
	// EntryTimeout bounds the processing of one entry. Default 10 minutes.
	EntryTimeout time.Duration
	// MaxAttempts: a temporary error on an entry that has been attempted
	// this often shunts it instead. Default 10.
	MaxAttempts int
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Stats are a runner's counters.
type Stats struct {
	Processed, Retried, Shunted, Panics atomic.Int64
}

// Runner runs one queue.
type Runner struct {
	Name  string
	Queue string
	spool *spool.Spool
	proc  Processor
	opts  Options
	log   *slog.Logger
	// Stats counts outcomes.
	Stats Stats
	// diskFull counts consecutive entries parked for lack of space.
	diskFull atomic.Int64
}

// dontRecover lets tests see a processor's panic instead of a shunt.
var dontRecover = false

// New returns a runner for queue.
func New(name, queue string, sp *spool.Spool, p Processor, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.EntryTimeout <= 0 {
		opts.EntryTimeout = 10 * time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{Name: name, Queue: queue, spool: sp, proc: p, opts: opts,
		log: opts.Logger.With("runner", name, "queue", queue)}
}

// Run processes entries until ctx is cancelled, then waits for the entries
// in progress to finish and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, r.opts.Workers)
	for range r.opts.Workers {
		wg.Go(func() {
			if err := r.work(ctx); err != nil {
				errc <- err
			}
		})
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func (r *Runner) work(ctx context.Context) error {
	for {
		// Claim hands out a ready entry even after ctx ends; without this
		// check a stopping runner would go on taking entries, and the out
		// runner, which gives back at once what it cannot send once
		// delivery stops, would take the same entries back forever.
		if ctx.Err() != nil {
			return nil
		}
		c, err := r.spool.Claim(ctx, r.Queue)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("runner %s: claim: %w", r.Name, err)
		}
		r.Handle(ctx, c)
	}
}

// RunUntilEmpty processes entries until the queue has none ready; tests use
// it to drive a stage step by step.
func (r *Runner) RunUntilEmpty(ctx context.Context) (int, error) {
	n := 0
	for {
		c, ok, err := r.spool.TryClaim(r.Queue)
		if err != nil {
			return n, fmt.Errorf("runner %s: claim: %w", r.Name, err)
		}
		if !ok {
			return n, nil
		}
		r.Handle(ctx, c)
		n++
	}
}

// Handle processes one claimed entry and guarantees its claim ends.
func (r *Runner) Handle(ctx context.Context, c *spool.Claim) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.EntryTimeout)
	defer cancel()
	log := r.log.With("id", c.ID, "list", c.Envelope.List, "domain", c.Envelope.Domain)
	err := r.process(pctx, c)
	if err == nil {
		r.Stats.Processed.Add(1)
		r.diskFull.Store(0)
		return
	}
	if errors.Is(err, spool.ErrDiskFull) {
		// Not the entry's fault, and over when space returns: try again
		// in seconds rather than after a retry's minutes.
		r.park(ctx, c, err, log)
		return
	}
	if status.IsTemporary(err) && c.Envelope.Attempts+1 < r.opts.MaxAttempts {
		at := r.opts.Now().Add(Backoff(c.Envelope.Attempts))
		rerr := c.Retry(pctx, at, err)
		if rerr == nil {
			r.Stats.Retried.Add(1)
			log.Warn("retry later", "err", err, "attempts", c.Envelope.Attempts+1, "at", at)
			return
		}
		if errors.Is(rerr, spool.ErrDiskFull) {
			r.park(ctx, c, rerr, log)
			return
		}
		log.Error("retry failed, shunting", "err", rerr)
	}
	if serr := c.Shunt(pctx, err); serr != nil {
		// Moving the entry needs a new file; giving it back is one rename.
		log.Error("shunt failed", "err", serr, "cause", err)
		r.park(ctx, c, serr, log)
		return
	}
	r.Stats.Shunted.Add(1)
	log.Error("shunted", "err", err)
}

// park handles a claim whose processing, or whose retry or shunt, failed
// for lack of disk space (all write new files): it waits, longer
// each time this keeps happening, then gives the entry back unchanged, so
// it is processed again once there is room — without a tight loop, and
// without leaving it claimed until the next start.
func (r *Runner) park(ctx context.Context, c *spool.Claim, cause error, log *slog.Logger) {
	n := r.diskFull.Add(1)
	wait := min(time.Second<<min(n-1, 5), 30*time.Second)
	log.Warn("cannot move the entry; giving it back later", "err", cause, "wait", wait)
	select {
	case <-time.After(wait):
	case <-ctx.Done():
	}
	if err := c.Release(context.WithoutCancel(ctx)); err != nil {
		// Still claimed: spool recovery returns it on the next start.
		log.Error("release failed", "err", err)
	}
}

func (r *Runner) process(ctx context.Context, c *spool.Claim) (err error) {
	if !dontRecover {
		defer func() {
			if p := recover(); p != nil {
				r.Stats.Panics.Add(1)
				r.log.Error("panic in processor", "id", c.ID, "panic", p, "stack", string(debug.Stack()))
				err = fmt.Errorf("internal error: panic: %v", p)
			}
		}()
	}
	err = r.proc.Process(ctx, c)
	if err != nil && status.IsTemporary(err) && errors.Is(err, context.DeadlineExceeded) {
		err = status.Temporary(fmt.Errorf("processing took longer than %s: %w", r.opts.EntryTimeout, err))
	}
	return err
}

// Backoff returns the wait before attempt n+1: exponential from one
// minute, capped at one hour, with ±20% jitter so a restart does not retry
// everything at once.
func Backoff(attempts int) time.Duration {
	d := time.Minute << min(attempts, 6)
	d = min(d, time.Hour)
	jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}

// Requeue is the retry queue's processor: a due entry goes back to the
// queue it came from.
func Requeue(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	origin := env.Origin
	if origin == "" || origin == spool.Retry || origin == spool.Shunt {
		origin = spool.In
	}
	env.NotBefore = time.Time{}
	if _, err := c.Forward(ctx, spool.Item{Queue: origin, Envelope: env, Message: c.Message}); err != nil {
		return fmt.Errorf("requeue %s to %s: %w", c.ID, origin, err)
	}
	return nil
}
