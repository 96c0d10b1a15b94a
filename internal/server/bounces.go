package server

import (
	"context"
	"log/slog"
	"time"

	"herald/internal/bouncer"
	"herald/internal/config"
	"herald/internal/delivery"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"

	"golang.org/x/sync/errgroup"
)

// BounceOptions are the bouncer options of cfg: the [bounces] section,
// and the bounce clock (the real one, or [bounces] testing_clock).
func BounceOptions(cfg *config.Config, log *slog.Logger) bouncer.Options {
	now := time.Now
	if cfg.Bounces.TestingClock != "" {
		now = bouncer.FileClock(cfg.Bounces.TestingClock, log)
	}
	return bouncer.Options{Window: cfg.Bounces.Window.Duration, Hold: cfg.Bounces.Hold.Duration,
		SiteOwner: cfg.Bounces.SiteOwner, Logger: log, Now: now}
}

// BouncePolicy returns the bounce policy on st and sp.
func BouncePolicy(cfg *config.Config, st store.Store, sp *spool.Spool, log *slog.Logger) *bouncer.Policy {
	return bouncer.NewPolicy(st, sp, BounceOptions(cfg, log))
}

// bounceRunner is the runner of the bounces queue.
func bounceRunner(cfg *config.Config, st store.Store, sp *spool.Spool, log *slog.Logger) *runner.Runner {
	return runner.New("bounces", spool.Bounces, sp, bouncer.NewProcessor(st, BounceOptions(cfg, log)),
		runner.Options{Logger: log})
}

// startBouncePolicy runs the periodic bounce policy pass in g, unless
// [bounces] interval is 0.
func startBouncePolicy(ctx context.Context, g *errgroup.Group, cfg *config.Config, st store.Store, sp *spool.Spool, log *slog.Logger) {
	if every := cfg.Bounces.Interval.Duration; every > 0 {
		p := BouncePolicy(cfg, st, sp, log)
		g.Go(func() error { return p.Run(ctx, every) })
	}
}

// bounceFailures is the delivery engine's failure sink: SMTP-time
// failures become store bounce events (Source "smtp"), dated by the bounce
// clock when a testing clock is set, so they line up with bounce mail.
func bounceFailures(cfg *config.Config, st store.Store, log *slog.Logger) delivery.FailureSink {
	sink := delivery.BounceSink{Store: st}
	if cfg.Bounces.TestingClock == "" {
		return sink
	}
	return stampedSink{sink: sink, now: BounceOptions(cfg, log).Now, log: log}
}

// stampedSink dates failures with its own clock.
type stampedSink struct {
	sink delivery.FailureSink
	now  func() time.Time
	log  *slog.Logger
}

// RecordFailure implements delivery.FailureSink.
func (s stampedSink) RecordFailure(ctx context.Context, f delivery.Failure) error {
	f.At = s.now()
	if err := s.sink.RecordFailure(ctx, f); err != nil {
		return err
	}
	s.log.Debug("smtp failure recorded", "list", f.List, "domain", f.Domain, "rcpt", f.Recipient, "at", f.At)
	return nil
}
