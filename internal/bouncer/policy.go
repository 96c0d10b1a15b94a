package bouncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
)

// probeLife is how long a probe's token is kept: a bounce can come back
// days later (an MTA gives up after about five).
const probeLife = 30 * 24 * time.Hour

// Report counts what one pass did.
type Report struct {
	Events   int `json:"events"`   // events looked at
	Scored   int `json:"scored"`   // scores that went up
	Ignored  int `json:"ignored"`  // events that scored nothing
	Held     int `json:"held"`     // events not scored because the circuit breaker held
	Probes   int `json:"probes"`   // probes sent
	Disabled int `json:"disabled"` // members disabled
	Warnings int `json:"warnings"` // warnings sent
	Removed  int `json:"removed"`  // members removed
	Holds    int `json:"holds"`    // circuit-breaker holds started
	Waiting  int `json:"waiting"`  // events younger than the window, left for a later pass
}

// Policy is the periodic bounce policy pass (see the package doc).
type Policy struct {
	st   Store
	sp   Spool
	opts Options
	log  *slog.Logger
}

// NewPolicy returns the policy on st; the messages it writes go to sp.
func NewPolicy(st Store, sp Spool, opts Options) *Policy {
	opts.defaults()
	return &Policy{st: st, sp: sp, opts: opts, log: opts.Logger.With("component", "bounce-policy")}
}

// Run makes a pass every interval (by the real clock; each pass takes its
// time from Options.Now) until ctx ends. A failed pass is logged and
// retried at the next tick: bounce processing never stops the server.
func (p *Policy) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := p.Pass(ctx, p.opts.Now())
		quiet := rep
		quiet.Waiting = 0
		if err != nil && ctx.Err() == nil {
			p.log.Error("bounce policy pass failed", "err", err)
		} else if quiet != (Report{}) {
			p.log.Info("bounce policy pass", "report", fmt.Sprintf("%+v", rep))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass runs one policy pass as of now: it scores the events older than
// the window, sends the warnings that are due, removes the members whose
// warnings ran out, and forgets old probes.
func (p *Policy) Pass(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	lists := listCache{st: p.st, m: map[int64]*store.List{}}
	if err := p.events(ctx, now, &lists, &rep); err != nil {
		return rep, err
	}
	if err := p.warnings(ctx, now, &lists, &rep); err != nil {
		return rep, err
	}
	if _, err := p.st.DeleteBounceProbes(ctx, now.Add(-probeLife)); err != nil {
		return rep, fmt.Errorf("bounce policy: %w", err)
	}
	return rep, nil
}

// listCache loads each list once per pass; nil is a deleted list.
type listCache struct {
	st Store
	m  map[int64]*store.List
}

func (c *listCache) get(ctx context.Context, id int64) (*store.List, error) {
	if l, ok := c.m[id]; ok {
		return l, nil
	}
	l, err := c.st.GetListByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		l, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bounce policy: list %d: %w", id, err)
	}
	c.m[id] = l
	return l, nil
}

// events scores the unprocessed events older than the window, a batch at a
// time, oldest first.
func (p *Policy) events(ctx context.Context, now time.Time, lists *listCache, rep *Report) error {
	cutoff := now.Add(-p.opts.Window)
	var first int64
	for {
		batch, err := p.st.UnprocessedBounces(ctx, p.opts.BatchSize)
		if err != nil {
			return fmt.Errorf("bounce policy: %w", err)
		}
		if len(batch) > 0 && batch[0].ID == first {
			// Every path marks its event; a repeat would loop forever.
			return fmt.Errorf("bounce policy: event %d stays unprocessed", first)
		}
		if len(batch) > 0 {
			first = batch[0].ID
		}
		ready := batch
		for i, e := range batch {
			if e.At.After(cutoff) {
				ready = batch[:i]
				break
			}
		}
		if err := p.batch(ctx, now, ready, lists, rep); err != nil {
			return err
		}
		if len(ready) < len(batch) {
			rep.Waiting += len(batch) - len(ready)
			return nil
		}
		if len(batch) < p.opts.BatchSize {
			return nil
		}
	}
}

// batch scores events that are all older than the window, list by list,
// after the circuit breaker had a look at each list's window.
func (p *Policy) batch(ctx context.Context, now time.Time, evs []store.BounceEvent, lists *listCache, rep *Report) error {
	byList := map[int64][]store.BounceEvent{}
	var order []int64
	for _, e := range evs {
		if byList[e.ListID] == nil {
			order = append(order, e.ListID)
		}
		byList[e.ListID] = append(byList[e.ListID], e)
	}
	for _, id := range order {
		l, err := lists.get(ctx, id)
		if err != nil {
			return err
		}
		if l == nil || !l.Settings.ProcessBounces {
			for _, e := range byList[id] {
				if err := p.st.MarkBounceProcessed(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("bounce policy: %w", err)
				}
				rep.Events++
				rep.Ignored++
			}
			continue
		}
		holds, err := p.breaker(ctx, l, byList[id], now, rep)
		if err != nil {
			return err
		}
		for _, e := range byList[id] {
			if err := p.event(ctx, l, e, heldAt(holds, e.At), now, rep); err != nil {
				return err
			}
		}
	}
	return nil
}

// event applies one event to its member.
func (p *Policy) event(ctx context.Context, l *store.List, e store.BounceEvent, held bool, now time.Time, rep *Report) error {
	rep.Events++
	log := p.log.With("list", l.Name, "domain", l.Domain, "member", e.Email, "event", e.ID)
	bi, err := p.st.BounceInfo(ctx, l.ID, e.Email)
	if errors.Is(err, store.ErrNotFound) {
		rep.Ignored++
		log.Debug("bounce of an address that is not a member")
		return p.mark(ctx, e.ID)
	} else if err != nil {
		return fmt.Errorf("bounce policy: %w", err)
	}
	d := decide(&l.Settings, *bi, e, held, now)
	if d.reason == reasonHeld {
		rep.Held++
	}
	switch d.act {
	case actNone:
		if d.info != *bi {
			err = p.st.SaveBounceInfo(ctx, &d.info, e.ID)
		} else {
			err = p.mark(ctx, e.ID)
		}
		if d.reason != reasonHeld {
			rep.Ignored++
		}
		log.Debug("bounce not scored", "why", d.reason)
	case actScore:
		rep.Scored++
		err = p.st.SaveBounceInfo(ctx, &d.info, e.ID)
		log.Info("bounce scored", "score", d.info.Score, "threshold", l.Settings.BounceScoreThreshold)
	case actProbe:
		rep.Scored++
		err = p.probe(ctx, l, e, d, rep)
		log.Info("bounce score reached the threshold: probe sent")
	case actDisable:
		err = p.disable(ctx, l, e, d.reason, now, rep)
	}
	if err != nil {
		return fmt.Errorf("bounce policy: %s on %s: %w", e.Email, l.Address(), err)
	}
	return nil
}

func (p *Policy) mark(ctx context.Context, id int64) error {
	if err := p.st.MarkBounceProcessed(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("bounce policy: %w", err)
	}
	return nil
}

// probe sends a probe, then saves the record (score reset, probe pending).
func (p *Policy) probe(ctx context.Context, l *store.List, e store.BounceEvent, d decision, rep *Report) error {
	pr := &store.BounceProbe{ListID: l.ID, Email: e.Email, Sent: d.info.ProbeSent}
	if err := p.st.AddBounceProbe(ctx, pr); err != nil {
		return err
	}
	if _, err := p.sp.EnqueueAll(ctx, []spool.Item{probeItem(l, e.Email, pr.Token, d.info.ProbeSent)}); err != nil {
		return fmt.Errorf("send probe: %w", err)
	}
	rep.Probes++
	return p.st.SaveBounceInfo(ctx, &d.info, e.ID)
}

// disable disables the member's delivery and tells the owners.
func (p *Policy) disable(ctx context.Context, l *store.List, e store.BounceEvent, why string, now time.Time, rep *Report) error {
	ok, err := p.st.DisableByBounces(ctx, l.ID, e.Email, now, e.ID)
	if err != nil || !ok {
		return err
	}
	rep.Disabled++
	p.log.Info("delivery disabled by bounces", "list", l.Name, "domain", l.Domain, "member", e.Email, "why", why)
	if !l.Settings.BounceNotifyOwnerOnDisable {
		return nil
	}
	items, err := disableNotice(ctx, p.st, l, e.Email, why, now)
	if err != nil || len(items) == 0 {
		return err
	}
	_, err = p.sp.EnqueueAll(ctx, items)
	return err
}

// warnings sends the warnings that are due to members disabled by
// bounces and removes those whose warnings ran out.
func (p *Policy) warnings(ctx context.Context, now time.Time, lists *listCache, rep *Report) error {
	infos, err := p.st.BounceInfos(ctx, 0, true)
	if err != nil {
		return fmt.Errorf("bounce policy: %w", err)
	}
	for _, bi := range infos {
		l, err := lists.get(ctx, bi.ListID)
		if err != nil {
			return err
		}
		if l == nil || !l.Settings.ProcessBounces {
			continue
		}
		switch dueWarning(&l.Settings, bi, now) {
		case warnSend:
			err = p.warn(ctx, l, bi, now, rep)
		case warnRemove:
			err = p.remove(ctx, l, bi.Email, now, rep)
		}
		if err != nil {
			return fmt.Errorf("bounce policy: %s on %s: %w", bi.Email, l.Address(), err)
		}
	}
	return nil
}

func (p *Policy) warn(ctx context.Context, l *store.List, bi store.BounceInfo, now time.Time, rep *Report) error {
	s := l.Settings
	bi.WarningsSent++
	bi.LastWarning = now
	it := warningItem(l, bi.Email, bi.WarningsSent, s.BounceYouAreDisabledWarnings, s.BounceYouAreDisabledWarningsInterval, now)
	if _, err := p.sp.EnqueueAll(ctx, []spool.Item{it}); err != nil {
		return fmt.Errorf("send warning: %w", err)
	}
	if err := p.st.SaveBounceInfo(ctx, &bi, 0); err != nil {
		return err
	}
	rep.Warnings++
	p.log.Info("disabled member warned", "list", l.Name, "domain", l.Domain, "member", bi.Email,
		"warning", bi.WarningsSent, "of", s.BounceYouAreDisabledWarnings)
	return nil
}

func (p *Policy) remove(ctx context.Context, l *store.List, email string, now time.Time, rep *Report) error {
	if err := p.st.RemoveMember(ctx, l.ID, email, store.RoleMember); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // gone meanwhile
		}
		return err
	}
	rep.Removed++
	p.log.Info("member removed because of bounces", "list", l.Name, "domain", l.Domain, "member", email)
	if !l.Settings.BounceNotifyOwnerOnRemoval {
		return nil
	}
	items, err := removalNotice(ctx, p.st, l, email, now)
	if err != nil || len(items) == 0 {
		return err
	}
	_, err = p.sp.EnqueueAll(ctx, items)
	return err
}
