//go:build integration

package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/smtpsink"

	_ "herald/internal/store/sqlite" // opens the instance's database after it stops

	"github.com/emersion/go-smtp"
)

// setupMembers creates dev@lists.example.org with n members over domains.
func setupMembers(h *H, n, domains int) []string {
	h.t.Helper()
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "dev@lists.example.org")
	h.MustRun("lists", "set", "dev@lists.example.org", "default_nonmember_action=accept", "require_explicit_destination=false")
	var addrs []string
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("user%05d@d%03d.example", i, i%domains))
	}
	f := filepath.Join(h.Dir, "members.txt")
	if err := os.WriteFile(f, []byte(strings.Join(addrs, "\n")+"\n"), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.MustRun("members", "add", "dev@lists.example.org", "--file", f)
	return addrs
}

func post(h *H, subject string) {
	h.t.Helper()
	res := h.SendLMTP("poster@example.com", []string{"dev@lists.example.org"},
		msg("poster@example.com", "dev@lists.example.org", subject, "Body of "+subject))
	if res[0].Code != 250 {
		h.t.Fatalf("post: %d %v", res[0].Code, res[0].Err)
	}
}

// afterStop opens the stopped instance's spool and store.
func afterStop(h *H) (*spool.Spool, store.Store) {
	h.t.Helper()
	ctx := context.Background()
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(h.Dir, "data", "spool"), MinFreeBytes: -1})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { sp.Close() })
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(h.Dir, "data", "herald.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return sp, st
}

// TestDeliveryEveryRecipientAccounted posts to 400 members while the MTA
// refuses some permanently, some temporarily and drops connections in the
// middle of transactions; every member must end delivered, queued for
// retry, or recorded as a bounce event — exactly one of them.
func TestDeliveryEveryRecipientAccounted(t *testing.T) {
	h := newH(t)
	h.env = append(h.env, "HERALD_DELIVERY_CONNECTIONS=3", "HERALD_DELIVERY_MAX_RECIPIENTS=40")
	members := setupMembers(h, 400, 25)
	perm := map[string]bool{members[3]: true, members[77]: true, members[250]: true}
	temp := map[string]bool{members[5]: true, members[120]: true}
	for a := range perm {
		h.Sink.Reply(a, 550, smtp.EnhancedCode{5, 1, 1}, "no such user")
	}
	for a := range temp {
		h.Sink.Reply(a, 451, smtp.EnhancedCode{4, 3, 0}, "try later")
	}
	h.Sink.DropAtRcpt(members[200]) // mid-transaction, before DATA
	h.Sink.DropAfterData(1)         // after the body, before the reply: a duplicate, never a loss
	h.Start()
	post(h, "Accounted")
	want := len(members) - len(perm) - len(temp)
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(uniq(ms)) >= want }) {
		t.Fatalf("sink has %d distinct recipients, want %d", len(uniq(h.Sink.Messages())), want)
	}
	time.Sleep(500 * time.Millisecond)
	h.Stop()

	sp, st := afterStop(h)
	retried := map[string]bool{}
	es, err := sp.List(spool.Retry)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, r := range e.Envelope.Recipients {
			retried[r] = true
		}
	}
	bounced := map[string]bool{}
	evs, err := st.UnprocessedBounces(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Source != "smtp" || !e.Permanent || e.Reason != "unknown_user" {
			t.Errorf("bounce event %+v", e)
		}
		bounced[e.Email] = true
	}
	got := h.Sink.Recipients()
	var nd, nr, nb, dups int
	for _, m := range members {
		d, r, b := got[m] > 0, retried[m], bounced[m]
		if d {
			nd++
			dups += got[m] - 1
		}
		if r {
			nr++
		}
		if b {
			nb++
		}
		n := 0
		for _, x := range []bool{d, r, b} {
			if x {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: delivered %v, retried %v, bounced %v", m, d, r, b)
		}
		if perm[m] != b || temp[m] != r {
			t.Errorf("%s: perm %v bounced %v, temp %v retried %v", m, perm[m], b, temp[m], r)
		}
	}
	t.Logf("%d members: %d delivered (%d duplicate copies from the dropped final reply), %d retried, %d bounced",
		len(members), nd, dups, nr, nb)
	if nd+nr+nb != len(members) {
		t.Errorf("accounted %d of %d", nd+nr+nb, len(members))
	}
	if dups > 40 {
		t.Errorf("%d duplicates: more than the one transaction whose reply was lost", dups)
	}
}

func uniq(ms []smtpsink.Message) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for _, r := range m.To {
			out[strings.ToLower(r)] = true
		}
	}
	return out
}

// TestDeliveryMTAOutage: with the MTA down, the post waits in the retry
// queue (no tight reconnect loop); when the MTA is back, every member
// gets it once.
func TestDeliveryMTAOutage(t *testing.T) {
	h := newH(t)
	h.env = append(h.env, "HERALD_DELIVERY_CONNECTIONS=2")
	members := setupMembers(h, 50, 5)
	port := h.Sink.Port()
	h.Sink.Close()
	h.Start()
	post(h, "Outage")
	time.Sleep(3 * time.Second)
	log, _ := os.ReadFile(h.logPath)
	if n := strings.Count(string(log), "cannot reach MTA"); n == 0 || n > 4 {
		t.Errorf("%d failed dials in 3 s; want a few, with backoff", n)
	}
	sink, err := smtpsink.StartOn(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("SKIP: cannot reopen the sink's port: %v", err)
	}
	defer sink.Close()
	// retry_min is 1s in the harness: the entry comes back within seconds.
	if !sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(uniq(ms)) >= len(members) }) {
		t.Fatalf("after the outage the sink has %d of %d", len(uniq(sink.Messages())), len(members))
	}
	for r, n := range sink.Recipients() {
		if n != 1 {
			t.Errorf("%s got %d copies", r, n)
		}
	}
}

// TestDeliveryCrashResumes kills herald in the middle of a VERP fan-out
// and restarts it: no member is lost, and duplicates are bounded by the
// transactions in flight (one per connection).
func TestDeliveryCrashResumes(t *testing.T) {
	const conns = 4
	h := newH(t)
	h.env = append(h.env, fmt.Sprintf("HERALD_DELIVERY_CONNECTIONS=%d", conns))
	members := setupMembers(h, 2500, 50)
	h.MustRun("lists", "set", "dev@lists.example.org", "verp_delivery_interval=1")
	h.Sink.Delay(2 * time.Millisecond) // so the kill lands mid-fan-out
	h.Start()
	post(h, "Crash")
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(ms) >= 600 }) {
		t.Fatalf("fan-out did not start: %d", len(h.Sink.Messages()))
	}
	h.Kill()
	before := len(h.Sink.Messages())
	if before >= len(members) {
		t.Fatalf("fan-out finished (%d) before the kill", before)
	}
	h.Sink.Delay(0)
	h.Start()
	if !h.Sink.WaitFor(60*time.Second, func(ms []smtpsink.Message) bool { return len(uniq(ms)) >= len(members) }) {
		t.Fatalf("after restart the sink has %d of %d", len(uniq(h.Sink.Messages())), len(members))
	}
	time.Sleep(500 * time.Millisecond)
	got := h.Sink.Recipients()
	lost, dups := 0, 0
	for _, m := range members {
		if got[m] == 0 {
			lost++
		}
		if got[m] > 1 {
			dups += got[m] - 1
		}
	}
	t.Logf("killed after %d of %d transactions; after restart: %d lost, %d duplicates (bound %d)", before, len(members), lost, dups, conns)
	if lost != 0 {
		t.Errorf("%d members lost", lost)
	}
	if dups > conns {
		t.Errorf("%d duplicates, more than one transaction per connection (%d)", dups, conns)
	}
}

// TestDeliveryDKIMKeygen: `herald dkim keygen` prints the record and
// posts go out signed (verified in the delivery package's tests against
// a DNS stub; here: the CLI and the wiring).
func TestDeliveryDKIMKeygen(t *testing.T) {
	h := newH(t)
	setupMembers(h, 3, 1)
	out := h.MustRun("dkim", "keygen", "lists.example.org", "--selector", "s1")
	if !strings.HasPrefix(out, "s1._domainkey.lists.example.org. IN TXT ( \"v=DKIM1; k=rsa; p=") {
		t.Errorf("keygen printed %q", out)
	}
	if _, _, code := h.Run("dkim", "keygen", "lists.example.org"); code != 2 {
		t.Errorf("second keygen without --force: exit %d, want 2", code)
	}
	if show := h.MustRun("dkim", "show", "lists.example.org"); show != out {
		t.Errorf("show = %q, want %q", show, out)
	}
	h.Start()
	post(h, "Signed")
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(ms) >= 1 }) {
		t.Fatal("post not delivered")
	}
	d := header(h.Sink.Messages()[0].Data, "DKIM-Signature")
	if !strings.Contains(d, "d=lists.example.org") || !strings.Contains(d, "s=s1") || !strings.Contains(d, "List-Unsubscribe-Post") {
		t.Errorf("DKIM-Signature = %q", d)
	}
}

// TestDeliveryStopWithBacklog: SIGTERM while posts wait behind a slow
// MTA. herald finishes the entries its runners hold and stops, leaving the
// rest queued (its runners once went on claiming after the stop, and the
// out runner took back the entries it had just given back, so a stop
// drained the whole backlog); after a restart every member has every post
// exactly once.
func TestDeliveryStopWithBacklog(t *testing.T) {
	const posts = 60
	h := newH(t)
	members := setupMembers(h, 3, 3)
	h.Sink.Delay(200 * time.Millisecond)
	h.Start()
	for i := range posts {
		post(h, fmt.Sprintf("Backlog %d", i))
	}
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(ms) >= 3 }) {
		t.Fatal("delivery did not start")
	}
	start := time.Now()
	h.Stop() // fails the test if herald is still running 20 s later
	sent := len(h.Sink.Messages())
	t.Logf("stopped in %v with %d of %d posts delivered", time.Since(start).Round(time.Millisecond), sent, posts)
	if sent >= posts {
		t.Errorf("all %d posts went out after SIGTERM: the stop drained the queues", posts)
	}
	h.Sink.Delay(0)
	h.Start()
	want := posts * len(members)
	count := func(ms []smtpsink.Message) map[string]int {
		got := map[string]int{}
		for _, m := range ms {
			for _, r := range m.To {
				got[header(m.Data, "Subject")+" to "+strings.ToLower(r)]++
			}
		}
		return got
	}
	if !h.Sink.WaitFor(60*time.Second, func(ms []smtpsink.Message) bool { return len(count(ms)) >= want }) {
		t.Fatalf("after restart %d of %d copies delivered", len(count(h.Sink.Messages())), want)
	}
	time.Sleep(500 * time.Millisecond)
	for k, n := range count(h.Sink.Messages()) {
		if n != 1 {
			t.Errorf("%s: %d copies", k, n)
		}
	}
}
