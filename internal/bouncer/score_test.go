package bouncer

import (
	"testing"
	"time"

	"herald/internal/store"
)

var day0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func days(n int) time.Time { return day0.Add(time.Duration(n) * 24 * time.Hour) }

func TestDecide(t *testing.T) {
	enabled := store.BounceInfo{ListID: 1, Email: "bob@example.net", DeliveryStatus: store.DeliveryEnabled}
	with := func(f func(*store.BounceInfo)) store.BounceInfo { bi := enabled; f(&bi); return bi }
	perm := func(at time.Time, reason, source string) store.BounceEvent {
		return store.BounceEvent{ID: 7, Email: "bob@example.net", Permanent: true, Reason: reason, Source: source, At: at}
	}
	now := days(1).Add(2 * time.Hour)
	cases := []struct {
		name      string
		probes    bool
		bi        store.BounceInfo
		ev        store.BounceEvent
		held      bool
		wantAct   action
		wantScore int
		wantLast  time.Time
		wantProbe time.Time
	}{
		{"first bounce scores 1", true, enabled, perm(days(1), "unknown_user", "dsn"), false, actScore, 1, days(1), time.Time{}},
		{"next day adds one", true, with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 2, days(0) }),
			perm(days(1), "other", "smtp"), false, actScore, 3, days(1), time.Time{}},
		{"same day scores nothing but moves the date", true,
			with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 2, days(1) }),
			perm(days(1).Add(3*time.Hour), "unknown_user", "verp"), false, actNone, 2, days(1).Add(3 * time.Hour), time.Time{}},
		{"stale score starts again", true, with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 4, days(0) }),
			perm(days(8), "unknown_user", "dsn"), false, actScore, 1, days(8), time.Time{}},
		{"seven days is not stale yet", true, with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 2, days(0) }),
			perm(days(7), "unknown_user", "dsn"), false, actScore, 3, days(7), time.Time{}},
		{"threshold with probes sends a probe", true, with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 4, days(0) }),
			perm(days(1), "unknown_user", "dsn"), false, actProbe, 0, days(1), now},
		{"threshold without probes disables", false, with(func(b *store.BounceInfo) { b.Score, b.LastBounce = 4, days(0) }),
			perm(days(1), "unknown_user", "dsn"), false, actDisable, 5, days(1), time.Time{}},
		{"temporary never scores", true, enabled,
			store.BounceEvent{Email: "bob@example.net", Reason: "mailbox_full", At: days(1)}, false, actNone, 0, time.Time{}, time.Time{}},
		{"policy never scores", true, enabled, perm(days(1), "policy", "smtp"), false, actNone, 0, time.Time{}, time.Time{}},
		{"too large never scores", true, enabled, perm(days(1), "too_large", "dsn"), false, actNone, 0, time.Time{}, time.Time{}},
		{"held by the breaker", true, enabled, perm(days(1), "unknown_user", "smtp"), true, actNone, 0, time.Time{}, time.Time{}},
		{"disabled member: residual", true, with(func(b *store.BounceInfo) { b.DeliveryStatus = store.DeliveryByBounces }),
			perm(days(1), "unknown_user", "dsn"), false, actNone, 0, time.Time{}, time.Time{}},
		{"member's own disable: no score", true, with(func(b *store.BounceInfo) { b.DeliveryStatus = store.DeliveryByUser }),
			perm(days(1), "unknown_user", "dsn"), false, actNone, 0, time.Time{}, time.Time{}},
		{"probe bounce disables", true, with(func(b *store.BounceInfo) { b.ProbeSent, b.LastBounce = days(1), days(1) }),
			perm(days(1), "unknown_user", SourceProbe), false, actDisable, 0, days(1), days(1)},
		{"probe bounce of a policy refusal does not", true, with(func(b *store.BounceInfo) { b.ProbeSent = days(1) }),
			perm(days(1), "policy", SourceProbe), false, actNone, 0, time.Time{}, days(1)},
		{"SMTP refusal after the probe disables", true, with(func(b *store.BounceInfo) { b.ProbeSent, b.LastBounce = days(1), days(1) }),
			perm(days(1).Add(time.Minute), "unknown_user", SourceSMTP), false, actDisable, 0, days(1), days(1)},
		{"SMTP refusal before the probe only scores", true,
			with(func(b *store.BounceInfo) { b.ProbeSent, b.LastBounce = days(2), days(1) }),
			perm(days(1).Add(time.Hour), "unknown_user", SourceSMTP), false, actNone, 0, days(1).Add(time.Hour), days(2)},
		{"a VERP bounce cannot confirm a probe", true,
			with(func(b *store.BounceInfo) { b.ProbeSent, b.LastBounce = days(1), days(1) }),
			perm(days(2), "unknown_user", "verp"), false, actScore, 1, days(2), days(1)},
		{"a lapsed probe is forgotten", true, with(func(b *store.BounceInfo) { b.ProbeSent, b.LastBounce = days(0), days(0) }),
			perm(days(9), "unknown_user", SourceSMTP), false, actScore, 1, days(9), time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := store.DefaultSettings("dev")
			s.VERPProbes = tc.probes
			d := decide(&s, tc.bi, tc.ev, tc.held, now)
			if d.act != tc.wantAct || d.info.Score != tc.wantScore || !d.info.LastBounce.Equal(tc.wantLast) ||
				!d.info.ProbeSent.Equal(tc.wantProbe) {
				t.Errorf("decide = %s (%s), score %d, last %v, probe %v; want %s, score %d, last %v, probe %v",
					d.act, d.reason, d.info.Score, d.info.LastBounce, d.info.ProbeSent,
					tc.wantAct, tc.wantScore, tc.wantLast, tc.wantProbe)
			}
		})
	}
}

func TestDueWarning(t *testing.T) {
	s := store.DefaultSettings("dev") // 3 warnings, 7 days apart
	disabled := func(sent int, last time.Time) store.BounceInfo {
		return store.BounceInfo{DeliveryStatus: store.DeliveryByBounces, DisabledAt: days(0), WarningsSent: sent, LastWarning: last}
	}
	cases := []struct {
		name string
		bi   store.BounceInfo
		now  time.Time
		want warning
	}{
		{"first warning at once", disabled(0, time.Time{}), days(0), warnSend},
		{"second not before the interval", disabled(1, days(0)), days(7).Add(-time.Second), warnNotYet},
		{"second after the interval", disabled(1, days(0)), days(7), warnSend},
		{"third", disabled(2, days(7)), days(14), warnSend},
		{"removal one interval after the last", disabled(3, days(14)), days(21), warnRemove},
		{"not removed before", disabled(3, days(14)), days(20), warnNotYet},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := dueWarning(&s, tc.bi, tc.now); got != tc.want {
				t.Errorf("dueWarning = %d, want %d", got, tc.want)
			}
		})
	}
	s.BounceYouAreDisabledWarnings = 0
	if got := dueWarning(&s, disabled(0, time.Time{}), days(0)); got != warnRemove {
		t.Errorf("with no warnings: %d, want removal at once", got)
	}
}

func TestFindBursts(t *testing.T) {
	ev := func(email string, min int, reason, detail string) store.BounceEvent {
		return store.BounceEvent{Email: email, Reason: reason, Detail: detail, At: day0.Add(time.Duration(min) * time.Minute)}
	}
	const spamhaus = "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
	const dmarc = "550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy"
	cases := []struct {
		name  string
		evs   []store.BounceEvent
		need  int
		want  int    // bursts
		class string // of the first
	}{
		{"three blocklist refusals in an hour", []store.BounceEvent{
			ev("a@x.net", 0, "policy", spamhaus), ev("b@y.net", 10, "policy", spamhaus), ev("c@z.net", 50, "policy", spamhaus),
		}, 3, 1, classBlocklist},
		{"spread over more than the window", []store.BounceEvent{
			ev("a@x.net", 0, "policy", spamhaus), ev("b@y.net", 40, "policy", spamhaus), ev("c@z.net", 90, "policy", spamhaus),
		}, 3, 0, ""},
		{"one address counts once", []store.BounceEvent{
			ev("a@x.net", 0, "policy", spamhaus), ev("a@x.net", 1, "policy", spamhaus), ev("b@y.net", 2, "policy", spamhaus),
		}, 3, 0, ""},
		{"different kinds do not add up", []store.BounceEvent{
			ev("a@x.net", 0, "policy", spamhaus), ev("b@y.net", 1, "policy", dmarc), ev("c@z.net", 2, "policy", spamhaus),
		}, 3, 0, ""},
		{"other reasons do not count", []store.BounceEvent{
			ev("a@x.net", 0, "unknown_user", spamhaus), ev("b@y.net", 1, "policy", spamhaus), ev("c@z.net", 2, "policy", spamhaus),
		}, 3, 0, ""},
		{"a long burst is one", []store.BounceEvent{
			ev("a@x.net", 0, "policy", dmarc), ev("b@y.net", 30, "policy", dmarc), ev("c@z.net", 60, "policy", dmarc),
			ev("d@z.net", 90, "policy", dmarc), ev("e@z.net", 120, "policy", dmarc),
		}, 3, 1, classDMARC},
		{"breaker off", []store.BounceEvent{ev("a@x.net", 0, "policy", dmarc)}, 0, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := findBursts(tc.evs, time.Hour, tc.need)
			if len(got) != tc.want || len(got) > 0 && got[0].class != tc.class {
				t.Errorf("findBursts = %+v, want %d burst(s) of %s", got, tc.want, tc.class)
			}
		})
	}
}

func TestTripCount(t *testing.T) {
	s := store.DefaultSettings("dev") // 5%, at least 3
	for _, tc := range []struct{ members, want int }{{0, 3}, {20, 3}, {100, 5}, {1001, 51}} {
		if got := tripCount(&s, tc.members); got != tc.want {
			t.Errorf("tripCount(%d members) = %d, want %d", tc.members, got, tc.want)
		}
	}
	s.BounceCircuitBreakerPercent = 0
	if got := tripCount(&s, 100); got != 0 {
		t.Errorf("breaker off: tripCount = %d", got)
	}
}

func TestPolicyClass(t *testing.T) {
	for detail, want := range map[string]string{
		"554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org":          classBlocklist,
		"550 5.7.1 Our system has detected that this message is likely unsolicited": classPolicy,
		"550 5.7.26 Unauthenticated email is not accepted due to DMARC policy":      classDMARC,
		"550 5.7.23 SPF validation failed":                                          classAuth,
		"554 5.7.1 Message rejected as spam":                                        classSpam,
		"550 5.7.1 IP 192.0.2.1 has a poor reputation":                              classBlocklist,
	} {
		if got := policyClass(detail); got != want {
			t.Errorf("policyClass(%q) = %s, want %s", detail, got, want)
		}
	}
}
