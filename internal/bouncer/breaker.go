package bouncer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"herald/internal/store"
)

// burst is a run of policy bounces of one class, close enough in time and
// numerous enough to trip the circuit breaker.
type burst struct {
	class      string
	start, end time.Time // first and last event of the run
	addresses  int       // distinct addresses in the busiest window
	sample     string    // one event's detail
}

// tripCount is how many distinct addresses must bounce with one policy
// class within a window to trip the breaker of a list with members
// members; 0 means the breaker is off.
func tripCount(s *store.Settings, members int) int {
	if s.BounceCircuitBreakerPercent <= 0 {
		return 0
	}
	share := (s.BounceCircuitBreakerPercent*members + 99) / 100
	return max(share, s.BounceCircuitBreakerMinimum, 1)
}

// findBursts returns the runs of policy events (oldest first, as the store
// returns them) in which at least need distinct addresses bounced with the
// same policy class within window. Overlapping windows of one class merge
// into one burst.
func findBursts(evs []store.BounceEvent, window time.Duration, need int) []burst {
	if need <= 0 {
		return nil
	}
	byClass := map[string][]store.BounceEvent{}
	var classes []string
	for _, e := range evs {
		if e.Reason != "policy" {
			continue
		}
		c := policyClass(e.Detail)
		if byClass[c] == nil {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], e)
	}
	var out []burst
	for _, c := range classes {
		out = append(out, classBursts(c, byClass[c], window, need)...)
	}
	slices.SortFunc(out, func(a, b burst) int { return a.start.Compare(b.start) })
	return out
}

// classBursts slides a window over one class's events (sorted by time).
func classBursts(class string, evs []store.BounceEvent, window time.Duration, need int) []burst {
	var out []burst
	count := map[string]int{}
	lo := 0
	for hi, e := range evs {
		count[e.Email]++
		for e.At.Sub(evs[lo].At) > window {
			if count[evs[lo].Email]--; count[evs[lo].Email] == 0 {
				delete(count, evs[lo].Email)
			}
			lo++
		}
		if len(count) < need {
			continue
		}
		if n := len(out); n > 0 && !evs[lo].At.After(out[n-1].end) {
			out[n-1].end = e.At
			out[n-1].addresses = max(out[n-1].addresses, len(count))
			continue
		}
		out = append(out, burst{class: class, start: evs[lo].At, end: evs[hi].At, addresses: len(count),
			sample: evs[hi].Detail})
	}
	return out
}

// heldAt reports whether a hold covers t.
func heldAt(holds []store.BounceHold, t time.Time) bool {
	for _, h := range holds {
		if !t.Before(h.Start) && t.Before(h.Until) {
			return true
		}
	}
	return false
}

// breaker looks for bursts around a list's events (oldest first), starts a
// hold for each new one (telling the administrators), and returns the
// holds that may cover the events.
func (p *Policy) breaker(ctx context.Context, l *store.List, evs []store.BounceEvent, now time.Time, rep *Report) ([]store.BounceHold, error) {
	from := evs[0].At.Add(-p.opts.Window)
	to := evs[len(evs)-1].At.Add(p.opts.Window + time.Microsecond)
	holds, err := p.st.BounceHolds(ctx, l.ID, from)
	if err != nil {
		return nil, fmt.Errorf("bounce policy: %w", err)
	}
	members, err := p.st.CountMembers(ctx, l.ID, store.RoleMember)
	if err != nil {
		return nil, fmt.Errorf("bounce policy: %w", err)
	}
	need := tripCount(&l.Settings, members)
	if need == 0 {
		return holds, nil
	}
	window, err := p.st.BouncesBetween(ctx, l.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("bounce policy: %w", err)
	}
	for _, b := range findBursts(window, p.opts.Window, need) {
		h := store.BounceHold{ListID: l.ID, Start: b.start.Add(-p.opts.Window), Until: b.end.Add(p.opts.Hold),
			Reason: fmt.Sprintf("%d of %d members refused for %s: %s", b.addresses, members, b.class, b.sample)}
		if i := overlap(holds, h); i >= 0 {
			if err := p.extend(ctx, &holds[i], h); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.st.AddBounceHold(ctx, &h); err != nil {
			return nil, fmt.Errorf("bounce policy: %w", err)
		}
		holds = append(holds, h)
		rep.Holds++
		p.log.Warn("circuit breaker: bounce scoring held", "list", l.Name, "domain", l.Domain, "class", b.class,
			"addresses", b.addresses, "members", members, "from", h.Start, "until", h.Until)
		items, err := breakerNotice(ctx, p.st, l, b, members, h, now)
		if err == nil && len(items) > 0 {
			_, err = p.sp.EnqueueAll(ctx, items)
		}
		if err != nil {
			return nil, fmt.Errorf("bounce policy: circuit breaker notice: %w", err)
		}
	}
	return holds, nil
}

// overlap returns the index of a hold that overlaps h, or -1.
func overlap(holds []store.BounceHold, h store.BounceHold) int {
	for i, o := range holds {
		if h.Start.Before(o.Until) && o.Start.Before(h.Until) {
			return i
		}
	}
	return -1
}

// extend widens hold o to cover h too.
func (p *Policy) extend(ctx context.Context, o *store.BounceHold, h store.BounceHold) error {
	if !h.Start.Before(o.Start) && !h.Until.After(o.Until) {
		return nil
	}
	if h.Start.Before(o.Start) {
		o.Start = h.Start
	}
	if h.Until.After(o.Until) {
		o.Until = h.Until
	}
	if err := p.st.UpdateBounceHold(ctx, o); err != nil {
		return fmt.Errorf("bounce policy: %w", err)
	}
	return nil
}
