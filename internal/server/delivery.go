package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"herald/internal/config"
	"herald/internal/delivery"
	"herald/internal/store"

	"golang.org/x/sync/errgroup"
)

// postEntryRecipients is the post runner's Chunk: a post goes to delivery
// as one out entry, so its body is written and held once and delivery can
// sort all its recipients into per-domain transactions (entries of 1000
// members in address order split every domain into transactions of a few
// recipients). Delivery journals its progress per entry, so a crash resumes
// the fan-out instead of resending it.
const postEntryRecipients = 1 << 20

// newDeliverer builds the out runner's processor from [delivery], [smtp]
// and [http] base_url; SMTP-time failures become store bounce events.
func newDeliverer(cfg *config.Config, st store.Store, log *slog.Logger) (*delivery.Deliverer, error) {
	dc := cfg.Delivery
	def, err := limits(dc.DomainConcurrency, dc.DomainRate)
	if err != nil {
		return nil, err
	}
	per := map[string]delivery.Limits{}
	for d, l := range dc.Domains {
		if per[d], err = limits(l.Concurrency, l.Rate); err != nil {
			return nil, err
		}
	}
	d, err := delivery.New(delivery.Options{
		Addr: cfg.SMTPAddr(), Helo: cfg.SMTP.Helo, Connections: dc.Connections,
		MaxRecipients: dc.MaxRecipients, RetryPeriod: dc.RetryPeriod.Duration, RetryMin: dc.RetryMin.Duration,
		Store: st, Failures: bounceFailures(cfg, st, log), ProgressDir: filepath.Join(cfg.DataDir, "delivery"),
		XVERP: dc.XVERP, BaseURL: cfg.HTTP.BaseURL, DomainLimits: def, Domains: per,
		MaxEntryTime: dc.MaxEntryTime.Duration, RosterBytes: dc.RecipientCacheMB << 20, RosterMin: RecipientCacheMin,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("start delivery: %w", err)
	}
	return d, nil
}

func limits(concurrency int, rate string) (delivery.Limits, error) {
	r, burst, err := config.ParseRate(rate)
	if err != nil {
		return delivery.Limits{}, fmt.Errorf("delivery rate: %w", err)
	}
	return delivery.Limits{Concurrency: concurrency, Rate: r, Burst: burst}, nil
}

// warmRosters fills delivery's rosters of big lists in the background,
// so the first post to a big list after a start does not wait for the
// list's walk. A failure only costs that: it is logged.
func warmRosters(ctx context.Context, g *errgroup.Group, d *delivery.Deliverer, log *slog.Logger) {
	g.Go(func() error {
		start := time.Now()
		if err := d.WarmRosters(ctx); err != nil && ctx.Err() == nil {
			log.Warn("delivery rosters not warmed", "err", err)
			return nil
		}
		log.Debug("delivery rosters warmed", "seconds", time.Since(start).Seconds())
		return nil
	})
}

// RecipientCacheMin is how many recipients a list needs for delivery to
// keep them in memory: smaller lists walk in well under a millisecond.
const RecipientCacheMin = 1000
