package bouncer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
)

// subjects lists "recipient: subject" of the messages sent.
func subjects(out []spool.Entry) []string {
	var s []string
	for _, e := range out {
		subj := ""
		for _, line := range strings.Split(string(e.Message), "\r\n") {
			if v, ok := strings.CutPrefix(line, "Subject: "); ok {
				subj = v
				break
			}
		}
		s = append(s, strings.Join(e.Envelope.Recipients, ",")+": "+subj)
	}
	return s
}

// TestLifecycleDSN follows Mailman's schedule for a dead address that
// bounces by DSN: five daily bounces, a probe, its bounce, disable,
// three warnings a week apart, removal.
func TestLifecycleDSN(t *testing.T) {
	e := newEnv(t)
	bounceBob := func() {
		e.deliver("", dsn("dev-bounces@lists.example.org", "bob@example.net", "failed", "5.1.1", "550 5.1.1 user unknown"))
	}
	for day := 0; day < 5; day++ {
		e.now = days(day)
		bounceBob()
		bounceBob() // twice a day: scores once
		if rep := e.pass(); rep.Waiting != 2 || rep.Events != 0 {
			t.Fatalf("day %d: events younger than the window were looked at: %+v", day, rep)
		}
		e.now = days(day).Add(2 * time.Hour)
		rep := e.pass()
		if rep.Events != 2 || rep.Scored != 1 {
			t.Fatalf("day %d: %+v, want 2 events, 1 scored", day, rep)
		}
		if bi := e.info("bob@example.net"); day < 4 && bi.Score != day+1 {
			t.Fatalf("day %d: score %d, want %d", day, bi.Score, day+1)
		}
	}
	if rep := e.pass(); rep != (Report{}) {
		t.Fatalf("an idle pass did something: %+v", rep)
	}
	out := e.out()
	if len(out) != 1 || out[0].Envelope.Recipients[0] != "bob@example.net" {
		t.Fatalf("after the fifth bounce: sent %q, want one probe to bob", subjects(out))
	}
	probe := out[0]
	token, ok := strings.CutPrefix(probe.Envelope.Sender, "dev-bounces+")
	token = strings.TrimSuffix(token, "@lists.example.org")
	if !ok || len(token) != 32 || !strings.Contains(string(probe.Message), "probe") {
		t.Fatalf("probe sender %q / message:\n%s", probe.Envelope.Sender, probe.Message)
	}
	if bi := e.info("bob@example.net"); bi.Score != 0 || bi.ProbeSent.IsZero() || bi.DeliveryStatus != store.DeliveryEnabled {
		t.Fatalf("after the probe: %+v", bi)
	}

	// The probe bounces the next day.
	e.now = days(5)
	e.deliver(token, dsn(probe.Envelope.Sender, "bob@example.net", "failed", "5.1.1", "550 5.1.1 user unknown"))
	e.now = days(5).Add(2 * time.Hour)
	rep := e.pass()
	if rep.Disabled != 1 || rep.Warnings != 1 {
		t.Fatalf("probe bounce: %+v, want a disable and the first warning", rep)
	}
	got := subjects(e.out())
	want := []string{
		"owner@example.com: bob@example.net's subscription disabled on dev",
		"bob@example.net: Your subscription for the dev mailing list has been disabled",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if m, _ := e.st.GetMember(e.ctx, e.list.ID, "bob@example.net", store.RoleMember); m == nil || m.DeliveryStatus != store.DeliveryByBounces {
		t.Fatalf("bob not disabled: %+v", m)
	}
	// Residual bounces of the disabled address score nothing.
	bounceBob()
	e.now = days(6)
	if rep := e.pass(); rep.Scored != 0 || rep.Warnings != 0 || rep.Events != 1 {
		t.Fatalf("residual bounce: %+v", rep)
	}

	for i, day := range []int{12, 19} {
		e.now = days(day).Add(2 * time.Hour)
		if rep := e.pass(); rep.Warnings != 1 {
			t.Fatalf("day %d: %+v, want warning %d", day, rep, i+2)
		}
		if got := subjects(e.out()); len(got) != 1 || !strings.HasPrefix(got[0], "bob@example.net: Your subscription") {
			t.Fatalf("day %d: sent %q", day, got)
		}
		e.now = e.now.Add(6 * 24 * time.Hour)
		if rep := e.pass(); rep != (Report{}) {
			t.Fatalf("day %d: a pass within the interval did %+v", day+6, rep)
		}
	}
	e.now = days(26).Add(2 * time.Hour)
	if rep := e.pass(); rep.Removed != 1 {
		t.Fatalf("day 26: %+v, want the removal", rep)
	}
	if got := subjects(e.out()); len(got) != 1 || got[0] != "owner@example.com: bob@example.net unsubscribed from dev mailing list due to bounces" {
		t.Fatalf("removal notices: %q", got)
	}
	if _, err := e.st.GetMember(e.ctx, e.list.ID, "bob@example.net", store.RoleMember); err == nil {
		t.Fatal("bob is still a member")
	}
	for _, m := range []string{"alice@example.com", "carol@example.org"} {
		if bi := e.info(m); bi.DeliveryStatus != store.DeliveryEnabled || bi.Score != 0 {
			t.Errorf("%s touched: %+v", m, bi)
		}
	}
}

// TestLifecycleSMTP: refusals at SMTP time score, and a refusal after the
// probe went out confirms it.
func TestLifecycleSMTP(t *testing.T) {
	e := newEnv(t)
	e.set("bounce_score_threshold", "3", "bounce_you_are_disabled_warnings", "0", "bounce_notify_owner_on_disable", "false")
	for day := 0; day < 3; day++ {
		e.now = days(day)
		e.record("bob@example.net", "unknown_user", "550 5.1.1 <bob@example.net>: User unknown")
		e.now = days(day).Add(2 * time.Hour)
		e.pass()
	}
	if got := subjects(e.out()); len(got) != 1 || !strings.Contains(got[0], "probe") {
		t.Fatalf("sent %q, want the probe", got)
	}
	// The probe (and any later post) is refused at SMTP time.
	e.now = days(2).Add(2*time.Hour + time.Minute)
	e.record("bob@example.net", "unknown_user", "550 5.1.1 <bob@example.net>: User unknown")
	e.now = days(2).Add(4 * time.Hour)
	rep := e.pass()
	if rep.Disabled != 1 || rep.Removed != 1 {
		t.Fatalf("%+v: want bob disabled and, with no warnings configured, removed", rep)
	}
	if got := subjects(e.out()); len(got) != 1 || !strings.Contains(got[0], "unsubscribed") {
		t.Fatalf("sent %q, want only the removal notice", got)
	}
}

func TestPolicyWithoutProbes(t *testing.T) {
	e := newEnv(t)
	e.set("verp_probes", "false", "bounce_score_threshold", "2")
	for day := 0; day < 2; day++ {
		e.now = days(day)
		e.record("carol@example.org", "other", "550 rejected")
		e.now = days(day).Add(2 * time.Hour)
		e.pass()
	}
	if bi := e.info("carol@example.org"); bi.DeliveryStatus != store.DeliveryByBounces || !bi.DisabledAt.Equal(days(1).Add(2*time.Hour)) {
		t.Fatalf("carol after 2 scores without probes: %+v", bi)
	}
}

func TestPolicyReasonsThatNeverScore(t *testing.T) {
	e := newEnv(t)
	e.set("bounce_score_threshold", "1")
	e.record("alice@example.com", "policy", "554 5.7.1 blocked using zen.spamhaus.org")
	e.record("bob@example.net", "too_large", "552 5.3.4 message too big")
	ev := &store.BounceEvent{ListID: e.list.ID, Email: "carol@example.org", Reason: "mailbox_full", Source: "dsn", At: e.now}
	if err := e.st.RecordBounce(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(2 * time.Hour)
	rep := e.pass()
	if rep.Events != 3 || rep.Ignored != 3 || rep.Scored != 0 || len(e.out()) != 0 {
		t.Fatalf("%+v: nothing should score", rep)
	}
}

// TestCircuitBreaker: a post refused by many members' providers for a
// blocklisting holds scoring, also of refusals that do not look like
// policy, and tells the owners once.
func TestCircuitBreaker(t *testing.T) {
	var members []string
	for i := range 20 {
		members = append(members, fmt.Sprintf("m%02d@example.net", i))
	}
	e := newEnv(t, members...)
	e.set("bounce_score_threshold", "1") // one scored bounce would probe at once
	for i := range 4 {
		e.now = day0.Add(time.Duration(i) * 5 * time.Minute)
		e.record(members[i], "policy", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org")
	}
	// A provider that words its blocklist refusal as an unknown user.
	e.record(members[10], "unknown_user", "550 5.1.1 recipient rejected")
	e.now = day0.Add(2 * time.Hour)
	rep := e.pass()
	if rep.Holds != 1 || rep.Held != 1 || rep.Scored != 0 || rep.Probes != 0 {
		t.Fatalf("%+v: want one hold that keeps m10 from scoring", rep)
	}
	got := subjects(e.out())
	if len(got) != 1 || !strings.HasPrefix(got[0], "owner@example.com: Bounce processing paused for dev") {
		t.Fatalf("sent %q, want one owner notice", got)
	}
	holds, err := e.st.BounceHolds(e.ctx, e.list.ID, e.now)
	if err != nil || len(holds) != 1 || !strings.Contains(holds[0].Reason, "4 of 20 members refused for blocklist") {
		t.Fatalf("holds = %+v, %v", holds, err)
	}
	// More of the same the next hour: the hold grows, no second notice.
	e.now = day0.Add(3 * time.Hour)
	for i := 4; i < 8; i++ {
		e.record(members[i], "policy", "554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org")
	}
	e.now = day0.Add(5 * time.Hour)
	if rep := e.pass(); rep.Holds != 0 || len(e.out()) != 0 {
		t.Fatalf("second burst: %+v, want the hold extended quietly", rep)
	}
	// After the hold, bounces score again.
	e.now = day0.Add(3 * 24 * time.Hour)
	e.record(members[10], "unknown_user", "550 5.1.1 recipient rejected")
	e.now = e.now.Add(2 * time.Hour)
	if rep := e.pass(); rep.Scored != 1 || rep.Probes != 1 {
		t.Fatalf("after the hold: %+v, want m10 scored and probed", rep)
	}
}

func TestBreakerIgnoresScatteredPolicyBounces(t *testing.T) {
	var members []string
	for i := range 100 {
		members = append(members, fmt.Sprintf("m%03d@example.net", i))
	}
	e := newEnv(t, members...)
	// Three policy refusals in an hour are 3% of 100 members: below 5%.
	for i := range 3 {
		e.record(members[i], "policy", "550 5.7.26 DMARC policy of example.com")
	}
	e.record(members[50], "unknown_user", "550 5.1.1 no such user")
	e.now = e.now.Add(2 * time.Hour)
	if rep := e.pass(); rep.Holds != 0 || rep.Scored != 1 {
		t.Fatalf("%+v: want no hold and one score", rep)
	}
}
