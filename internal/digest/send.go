package digest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
)

// Sender sends the digests that are due.
type Sender struct {
	st  store.Store
	sp  *spool.Spool
	log *slog.Logger
	now func() time.Time
}

// New returns a Sender queueing digests in sp's out queue.
func New(st store.Store, sp *spool.Spool, log *slog.Logger) *Sender {
	return &Sender{st: st, sp: sp, log: log, now: time.Now}
}

// Period is how long after the last digest (or the first waiting post) a
// list with digest_send_periodic gets the next one, whatever its size:
// Mailman sends periodic digests from a daily cron job.
const Period = 24 * time.Hour

// Chunk is the most recipients per out entry, as for posts.
const Chunk = 1000

// Sent describes one digest sent.
type Sent struct {
	List       string `json:"list"`
	Volume     int    `json:"volume"`
	Issue      int    `json:"issue"`
	Posts      int    `json:"posts"`
	Recipients int    `json:"recipients"`
}

// SendDue sends the digests that are due: a list's posts reached its
// digest_size_threshold, or digest_send_periodic and Period has passed.
// With force every list with waiting posts gets its digest now; listID,
// when not 0, limits it to that list.
func (s *Sender) SendDue(ctx context.Context, force bool, listID int64) ([]Sent, error) {
	pending, err := s.st.PendingDigests(ctx)
	if err != nil {
		return nil, fmt.Errorf("digests: %w", err)
	}
	now := s.now().UTC()
	var out []Sent
	for _, p := range pending {
		if listID != 0 && p.ListID != listID {
			continue
		}
		l, err := s.st.GetListByID(ctx, p.ListID)
		if err != nil {
			return out, fmt.Errorf("digests: list %d: %w", p.ListID, err)
		}
		if !force && !due(l, p, now) {
			continue
		}
		sent, ok, err := s.sendClaimed(ctx, l, now)
		if err != nil {
			return out, err
		}
		if !ok {
			continue // another node is sending it
		}
		out = append(out, sent)
		s.log.Info("digest sent", "list", sent.List, "volume", sent.Volume, "issue", sent.Issue,
			"posts", sent.Posts, "recipients", sent.Recipients)
	}
	return out, nil
}

// due reports whether list l's waiting posts p make a digest now.
func due(l *store.List, p store.DigestPending, now time.Time) bool {
	if t := l.Settings.DigestSizeThreshold; t > 0 && p.Bytes >= int64(t)*1024 {
		return true
	}
	if !l.Settings.DigestSendPeriodic {
		return false
	}
	since := p.State.LastSent
	if since.IsZero() {
		since = p.Oldest
	}
	return !since.IsZero() && now.Sub(since) >= Period
}

// next returns the number of the digest after st at now: a new volume
// when the list's digest_volume_frequency period has turned.
func next(st store.DigestState, freq string, now time.Time) (volume, issue int) {
	if st.Volume == 0 {
		return 1, 1
	}
	if newPeriod(st.LastSent, now, freq) {
		return st.Volume + 1, 1
	}
	return st.Volume, st.Issue + 1
}

// newPeriod reports whether last and now fall in different periods.
func newPeriod(last, now time.Time, freq string) bool {
	last, now = last.UTC(), now.UTC()
	switch freq {
	case "yearly":
		return last.Year() != now.Year()
	case "quarterly":
		return last.Year() != now.Year() || (last.Month()-1)/3 != (now.Month()-1)/3
	case "weekly":
		ly, lw := last.ISOWeek()
		ny, nw := now.ISOWeek()
		return ly != ny || lw != nw
	case "daily":
		return last.YearDay() != now.YearDay() || last.Year() != now.Year()
	}
	return last.Year() != now.Year() || last.Month() != now.Month() // monthly
}

// LeaseStale is when a node's lease on sending a digest is taken to be
// from a node that died while sending (ClaimDigest); sending takes
// milliseconds.
const LeaseStale = 10 * time.Minute

// sendClaimed sends list l's digest under the lease on it; false if
// another node holds the lease, or there was nothing to send.
func (s *Sender) sendClaimed(ctx context.Context, l *store.List, now time.Time) (Sent, bool, error) {
	ok, err := s.st.ClaimDigest(ctx, l.ID, now, LeaseStale)
	if err != nil || !ok {
		return Sent{}, false, err
	}
	sent, err := s.send(ctx, l, now)
	if err != nil || sent.Posts == 0 {
		// DigestSent was not reached: the lease goes now rather than when
		// it is stale. WithoutCancel: a stop must not keep it.
		if rerr := s.st.ReleaseDigest(context.WithoutCancel(ctx), l.ID); rerr != nil {
			s.log.Error("digest lease not released", "list", l.Address(), "err", rerr)
		}
	}
	return sent, err == nil && sent.Posts > 0, err
}

// send queues list l's digest to its digest members, then drops the posts
// it holds (the caller holds the lease).
func (s *Sender) send(ctx context.Context, l *store.List, now time.Time) (Sent, error) {
	posts, err := s.st.DigestMessages(ctx, l.ID)
	if err != nil || len(posts) == 0 {
		return Sent{}, err
	}
	st, err := s.st.DigestState(ctx, l.ID)
	if err != nil {
		return Sent{}, err
	}
	vol, iss := next(st, l.Settings.DigestVolumeFrequency, now)
	d := &Issue{List: l, Volume: vol, Issue: iss, Posts: posts, Date: now}
	var items []spool.Item
	total := 0
	for _, mode := range []struct {
		name  string
		build func() []byte
	}{{store.ModeMIMEDigest, d.MIME}, {store.ModePlaintextDigest, d.Plain}} {
		rcpts, err := s.st.DigestRecipients(ctx, l.ID, mode.name)
		if err != nil {
			return Sent{}, err
		}
		if len(rcpts) == 0 {
			continue
		}
		total += len(rcpts)
		msg := mode.build()
		for start := 0; start < len(rcpts); start += Chunk {
			items = append(items, spool.Item{Queue: spool.Out, Message: msg, Envelope: spool.Envelope{
				Domain: l.Domain, List: l.Name, Alias: "digest", Sender: l.SubAddress("bounces"),
				Recipients: rcpts[start:min(start+Chunk, len(rcpts))], Arrived: now,
			}})
		}
	}
	if len(items) > 0 {
		if _, err := s.sp.EnqueueAll(ctx, items); err != nil {
			return Sent{}, fmt.Errorf("digests: queue %s's digest: %w", l.Address(), err)
		}
	}
	// Nobody left to get it (the digest members left or turned delivery
	// off): the posts are dropped all the same, and the number used.
	upTo := int64(0)
	for _, p := range posts {
		upTo = max(upTo, p.ID)
	}
	if err := s.st.DigestSent(ctx, l.ID, upTo, store.DigestState{Volume: vol, Issue: iss, LastSent: now}); err != nil {
		return Sent{}, fmt.Errorf("digests: %s's digest was queued but not recorded (it may go out twice): %w", l.Address(), err)
	}
	return Sent{List: l.Address(), Volume: vol, Issue: iss, Posts: len(posts), Recipients: total}, nil
}

// Run sends due digests every interval until ctx ends; a failed pass is
// logged and tried again at the next.
func (s *Sender) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx, false, 0); err != nil && ctx.Err() == nil {
			s.log.Error("digest pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
