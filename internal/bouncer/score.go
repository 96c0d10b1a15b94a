package bouncer

import (
	"time"

	"herald/internal/store"
)

// Event sources that name the member beyond doubt and that nobody outside
// can forge: the bounce of a probe (its token) and a refusal in herald's
// own SMTP transaction.
const (
	SourceProbe = "probe"
	SourceSMTP  = "smtp"
)

// Event reasons that never score: the failure says nothing about the
// member's address.
var nonScoring = map[string]bool{"policy": true, "too_large": true}

// action is what one bounce event does to a member.
type action int

const (
	actNone    action = iota // nothing to act on (the record may still change)
	actScore                 // the score went up
	actProbe                 // the score reached the threshold: send a probe
	actDisable               // disable delivery
)

func (a action) String() string {
	return [...]string{"none", "score", "probe", "disable"}[a]
}

// reasonHeld is decide's reason for an event the circuit breaker holds.
const reasonHeld = "circuit breaker holds scoring"

// decision is the outcome of one event.
type decision struct {
	info   store.BounceInfo // the record to save
	act    action
	reason string // why, for the log
}

// decide applies the scoring rules (see the package doc) to one event for
// a member's record. held says the list's circuit breaker holds at the
// event's time; now is when a probe would go out.
func decide(s *store.Settings, bi store.BounceInfo, ev store.BounceEvent, held bool, now time.Time) decision {
	d := decision{info: bi}
	stale := time.Duration(max(s.BounceInfoStaleAfter, 0)) * 24 * time.Hour
	switch {
	case bi.DeliveryStatus != store.DeliveryEnabled:
		d.reason = "delivery is " + bi.DeliveryStatus
		return d
	case !ev.Permanent:
		d.reason = "temporary failure"
		return d
	case nonScoring[ev.Reason]:
		d.reason = ev.Reason + " rejection: not the member's fault"
		return d
	case held:
		d.reason = reasonHeld
		return d
	}
	// A probe lapses when its answer would be older than a stale score.
	if !bi.ProbeSent.IsZero() && ev.At.Sub(bi.ProbeSent) > stale {
		d.info.ProbeSent = time.Time{}
	}
	switch {
	case ev.Source == SourceProbe:
		d.act, d.reason = actDisable, "the probe bounced"
		return d
	case ev.Source == SourceSMTP && !d.info.ProbeSent.IsZero() && !ev.At.Before(d.info.ProbeSent):
		d.act, d.reason = actDisable, "refused at SMTP time after the probe"
		return d
	}
	if !bi.LastBounce.IsZero() && sameDay(bi.LastBounce, ev.At) {
		if ev.At.After(bi.LastBounce) {
			d.info.LastBounce = ev.At
		}
		d.reason = "already scored today"
		return d
	}
	if bi.LastBounce.IsZero() || ev.At.Sub(bi.LastBounce) > stale {
		d.info.Score = 1
	} else {
		d.info.Score++
	}
	d.info.LastBounce = ev.At
	d.act, d.reason = actScore, "scored"
	if d.info.Score < max(s.BounceScoreThreshold, 1) {
		return d
	}
	if s.VERPProbes {
		d.info.Score, d.info.ProbeSent = 0, now
		d.act, d.reason = actProbe, "threshold reached: probing"
		return d
	}
	d.act, d.reason = actDisable, "threshold reached"
	return d
}

// sameDay reports whether a and b fall on the same UTC date.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// warning is what the warning pass does for a member disabled by bounces.
type warning int

const (
	warnNotYet warning = iota
	warnSend
	warnRemove
)

// dueWarning applies Mailman 3's memberships_pending_warning and
// memberships_pending_removal to one record.
func dueWarning(s *store.Settings, bi store.BounceInfo, now time.Time) warning {
	interval := time.Duration(max(s.BounceYouAreDisabledWarningsInterval, 0)) * 24 * time.Hour
	if !bi.LastWarning.IsZero() && now.Before(bi.LastWarning.Add(interval)) {
		return warnNotYet
	}
	if bi.WarningsSent < s.BounceYouAreDisabledWarnings {
		return warnSend
	}
	return warnRemove
}
