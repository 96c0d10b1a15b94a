package membership

import (
	"context"
	"fmt"
	"time"

	"herald/internal/store"
)

// Quota scopes and windows.
const (
	confirmWindow = time.Hour
	replyWindow   = 24 * time.Hour
)

func (s *Service) confirmQuotas(l *store.List) []store.Quota {
	return []store.Quota{
		{Scope: "confirm:site", Window: confirmWindow, Limit: s.opts.SiteConfirmationsPerHour},
		{Scope: fmt.Sprintf("confirm:list:%d", l.ID), Window: confirmWindow, Limit: l.Settings.MaxConfirmationsPerHour},
	}
}

// chargeConfirm takes one confirmation mail from the list's and the site's
// hourly quotas, reporting false when either is used up.
func (s *Service) chargeConfirm(ctx context.Context, l *store.List) (bool, error) {
	ok, err := s.st.ChargeQuotas(ctx, s.now(), s.confirmQuotas(l))
	if err != nil {
		return false, fmt.Errorf("confirmation quota of %s: %w", l.Address(), err)
	}
	if !ok {
		s.log.Debug("confirmation quota used up", "list", l.Name, "domain", l.Domain)
	}
	return ok, nil
}

// Mailable reports whether herald may send email mail for list l at all:
// not when it is banned (on l or globally) or has delivery disabled by
// bounces.
func (s *Service) Mailable(ctx context.Context, l *store.List, email string) (bool, error) {
	refused, err := s.refusal(ctx, l, email)
	return err == nil && refused == "", err
}

// ChargeReply takes one command reply to email from the list's and the
// site's hourly quotas and from email's daily auto-response quota
// (Mailman's max_autoresponses_per_day), reporting false when one is
// used up: then no reply may be sent.
func (s *Service) ChargeReply(ctx context.Context, l *store.List, email string) (bool, error) {
	qs := append(s.confirmQuotas(l), store.Quota{
		Scope: fmt.Sprintf("reply:%d:%s", l.ID, email), Window: replyWindow, Limit: s.opts.AutoresponsesPerDay,
	})
	ok, err := s.st.QuotasAvailable(ctx, s.now(), qs) // read-only: most refusals need no write
	if err == nil && ok {
		ok, err = s.st.ChargeQuotas(ctx, s.now(), qs)
	}
	if err != nil {
		return false, fmt.Errorf("reply quota of %s on %s: %w", email, l.Address(), err)
	}
	if !ok {
		s.log.Debug("no reply: quota used up", "list", l.Name, "domain", l.Domain, "address", email)
	}
	return ok, nil
}

// Expire removes lapsed requests and forgets quota uses older than any
// window, returning the number of requests removed.
func (s *Service) Expire(ctx context.Context) (int, error) {
	now := s.now()
	n, err := s.st.DeleteExpiredRequests(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("expire requests: %w", err)
	}
	if err := s.st.PruneQuotas(ctx, now.Add(-replyWindow-time.Hour)); err != nil {
		return n, fmt.Errorf("prune quotas: %w", err)
	}
	if n > 0 {
		s.log.Info("expired pending requests", "count", n)
	}
	return n, nil
}

// RunMaintenance calls Expire every interval until ctx ends; errors are
// logged, not fatal. It returns nil.
func (s *Service) RunMaintenance(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Expire(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("membership maintenance", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
