package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// ExpireHeld carries out the list's max_days_to_hold_action (discard,
// reject with a notice, or approve) on every held post older than the
// list's max_days_to_hold (0: held posts never expire), on every list.
// Mailman stores max_days_to_hold but never enforces it. It returns how
// many posts expired; an error on one list is returned after the other
// lists were done.
func (s *Service) ExpireHeld(ctx context.Context) (int, error) {
	lists, err := s.store.ListLists(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("expire held posts: %w", err)
	}
	n := 0
	var errs []error
	for i := range lists {
		k, err := s.expireList(ctx, &lists[i])
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

func (s *Service) expireList(ctx context.Context, l *store.List) (int, error) {
	days := l.Settings.MaxDaysToHold
	if days <= 0 {
		return 0, nil
	}
	hs, err := s.store.ListHeld(ctx, l.ID)
	if err != nil {
		return 0, fmt.Errorf("expire held posts of %s: %w", l.Address(), err)
	}
	cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	n := 0
	for _, h := range hs {
		if !h.Received.Before(cutoff) {
			break // oldest first
		}
		switch l.Settings.MaxDaysToHoldAction {
		case "approve":
			err = s.Approve(ctx, l, h.ID)
		case "reject":
			err = s.Reject(ctx, l, h.ID, fmt.Sprintf("no moderator decided within %d days", days))
		default:
			err = s.Discard(ctx, l, h.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			continue // decided meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("expire held post %d of %s: %w", h.ID, l.Address(), err)
		}
		s.log.Info("held post expired", "list", l.Name, "domain", l.Domain, "held", h.ID,
			"action", l.Settings.MaxDaysToHoldAction, "days", days)
		n++
	}
	return n, nil
}

// RunExpiry runs ExpireHeld at once and then every interval until ctx
// ends; failures are logged and retried at the next tick. It returns nil
// when ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.ExpireHeld(ctx); err != nil {
			s.log.Error("held post expiry", "err", err, "expired", n)
		} else if n > 0 {
			s.log.Info("held posts expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
