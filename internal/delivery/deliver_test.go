package delivery

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

// TestBulkKeepsDomainsTogether: a domain with a transaction's worth of
// recipients gets transactions of its own, a throttled domain too, and the
// small domains share full ones, each domain's recipients side by side.
func TestBulkKeepsDomainsTogether(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Domains = map[string]Limits{"slow.example": {Concurrency: 1}} })
	var rcpts []string
	for i := range 300 {
		dom := "big.example"
		switch {
		case i%6 == 1:
			dom = fmt.Sprintf("small%d.example", i%10)
		case i%6 == 2:
			dom = "slow.example"
		case i%6 == 3 && i%12 == 3:
			dom = fmt.Sprintf("small%d.example", i%10)
		}
		rcpts = append(rcpts, fmt.Sprintf("u%d@%s", i, dom))
	}
	e.enqueue(spool.Envelope{Recipients: rcpts})
	e.process()
	if got := e.sink.Recipients(); len(got) != len(rcpts) {
		t.Fatalf("sink has %d recipients, want %d", len(got), len(rcpts))
	}
	mixed := 0
	for _, m := range e.sink.Messages() {
		if len(m.To) > 50 {
			t.Errorf("transaction with %d recipients, max 50", len(m.To))
		}
		doms := []string{domainOf(m.To[0])}
		for _, r := range m.To[1:] {
			if d := domainOf(r); d != doms[len(doms)-1] {
				if slices.Contains(doms, d) {
					t.Errorf("%s split within a transaction: %v", d, m.To)
				}
				doms = append(doms, d)
			}
		}
		if len(doms) > 1 {
			mixed++
			if slices.Contains(doms, "big.example") || slices.Contains(doms, "slow.example") {
				t.Errorf("big or throttled domain in a shared transaction: %v", doms)
			}
		}
	}
	// big: 175 = 50+50 (a full group during the walk), 50+25 at the end;
	// slow: 50; the 5 small domains' 75: 50+25, shared.
	if n := len(e.sink.Messages()); n != 7 || mixed != 2 {
		t.Errorf("%d transactions (%d shared), want 7 (2)", n, mixed)
	}
	if e.d.Stats.Delivered.Load() != 300 || len(e.retryEntries()) != 0 {
		t.Errorf("delivered %d, retry entries %d", e.d.Stats.Delivered.Load(), len(e.retryEntries()))
	}
}

// TestEveryRecipientAccounted: each recipient ends delivered, retried or
// failed, with drops in the middle of transactions.
func TestEveryRecipientAccounted(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxRecipients = 5 })
	e.sink.Reply("perm1@a.example", 550, smtp.EnhancedCode{5, 1, 1}, "no such user")
	e.sink.Reply("perm2@b.example", 554, smtp.EnhancedCode{5, 7, 1}, "policy")
	e.sink.Reply("temp1@a.example", 451, smtp.EnhancedCode{4, 3, 0}, "later")
	e.sink.Reply("full@b.example", 552, smtp.EnhancedCode{5, 2, 2}, "mailbox full")
	e.sink.DropAtRcpt("drop@c.example")
	var rcpts []string
	for i := range 40 {
		rcpts = append(rcpts, fmt.Sprintf("ok%d@%c.example", i, 'a'+i%3))
	}
	rcpts = append(rcpts, "perm1@a.example", "perm2@b.example", "temp1@a.example", "full@b.example", "drop@c.example")
	e.enqueue(spool.Envelope{Recipients: rcpts})
	e.process()

	delivered := e.sink.Recipients()
	var retried []string
	for _, r := range e.retryEntries() {
		retried = append(retried, r.Envelope.Recipients...)
	}
	failed := map[string]Failure{}
	for _, f := range e.fails.all() {
		failed[f.Recipient] = f
	}
	for _, r := range rcpts {
		n := 0
		if delivered[r] > 0 {
			n++
		}
		if slices.Contains(retried, r) {
			n++
		}
		if _, ok := failed[r]; ok {
			n++
		}
		if n != 1 {
			t.Errorf("%s: delivered %d, retried %v, failed %v", r, delivered[r], slices.Contains(retried, r), failed[r])
		}
	}
	if f := failed["perm1@a.example"]; f.Reason != "unknown_user" || !strings.Contains(f.Reply, "550 5.1.1") {
		t.Errorf("perm1 failure = %+v", f)
	}
	if f := failed["perm2@b.example"]; f.Reason != "policy" {
		t.Errorf("perm2 failure = %+v", f)
	}
	for _, r := range []string{"temp1@a.example", "full@b.example", "drop@c.example"} {
		if !slices.Contains(retried, r) {
			t.Errorf("%s not retried (retry has %v)", r, retried)
		}
	}
	t.Logf("delivered %d, retried %d, failed %d of %d", len(delivered), len(retried), len(failed), len(rcpts))
	rs := e.retryEntries()
	if len(rs) != 1 || rs[0].Envelope.Attempts != 1 || rs[0].Envelope.NotBefore.Before(time.Now().Add(50*time.Second)) {
		t.Errorf("retry entries = %+v", rs)
	}
}

func TestRetryPeriodExpires(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RetryPeriod = time.Hour })
	e.sink.Reply("slow@a.example", 451, smtp.EnhancedCode{4, 2, 2}, "over quota")
	e.enqueue(spool.Envelope{Recipients: []string{"slow@a.example", "ok@a.example"}, Arrived: time.Now().Add(-2 * time.Hour)})
	e.process()
	fs := e.fails.all()
	if len(fs) != 1 || !fs[0].Expired || fs[0].Recipient != "slow@a.example" || fs[0].Reason != "mailbox_full" ||
		!strings.Contains(fs[0].Reply, "retry period") {
		t.Fatalf("failures = %+v", fs)
	}
	if len(e.retryEntries()) != 0 {
		t.Error("expired recipient still retried")
	}
}

func TestMTADownRetriesEverything(t *testing.T) {
	// An "MTA" that hangs up on every connection: a port of our own, so
	// no other test's server can answer on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	e := newEnv(t, func(o *Options) { o.Addr = ln.Addr().String() })
	var rcpts []string
	for i := range 300 {
		rcpts = append(rcpts, fmt.Sprintf("u%d@d%d.example", i, i%30))
	}
	start := time.Now()
	e.enqueue(spool.Envelope{Recipients: rcpts})
	e.process()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("outage handling took %s", d)
	}
	rs := e.retryEntries()
	if len(rs) != 1 || len(rs[0].Envelope.Recipients) != 300 {
		t.Fatalf("retry entries: %d", len(rs))
	}
	if n := e.d.Stats.Dials.Load(); n > 3 {
		t.Errorf("%d dial attempts during the outage, want backoff", n)
	}
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// processAsync claims the next out entry and processes it in a goroutine;
// the channel reports Process's result.
func (e *env) processAsync() <-chan error {
	e.t.Helper()
	_, done := e.claimAndProcessAsync()
	return done
}

// claimAndProcessAsync is processAsync that also returns the claim, for
// tests that end it as the runner would.
func (e *env) claimAndProcessAsync() (*spool.Claim, <-chan error) {
	e.t.Helper()
	c, ok, err := e.sp.TryClaim(spool.Out)
	if err != nil || !ok {
		e.t.Fatalf("claim: %v %v", ok, err)
	}
	done := make(chan error, 1)
	go func() { done <- e.d.Process(context.Background(), c) }()
	return c, done
}

// waitProcessed waits up to d for Process to return nil; what says what
// the test was waiting for.
func (e *env) waitProcessed(done <-chan error, d time.Duration, what string) {
	e.t.Helper()
	select {
	case err := <-done:
		if err != nil {
			e.t.Fatal(err)
		}
	case <-time.After(d):
		e.t.Fatal(what)
	}
}

// mtaDownEnv returns an env whose MTA address nothing listens on, after
// a first entry found it down (deferred to retry), with a second entry
// queued in out; it returns the address and the second entry's id.
func mtaDownEnv(t *testing.T) (*env, string, string) {
	t.Helper()
	addr := freeAddr(t)
	e := newEnv(t, func(o *Options) { o.Addr = addr })
	e.enqueue(spool.Envelope{Recipients: []string{"first@example.net"}})
	e.process()
	if rs := e.retryEntries(); len(rs) != 1 {
		t.Fatalf("first entry: %d retry entries, want 1", len(rs))
	}
	return e, addr, e.enqueue(spool.Envelope{Recipients: []string{"second@example.net"}})
}

// wantBackUntouched checks that id is the out queue's only entry, with no
// attempt counted, and that only the first entry went to retry.
func (e *env) wantBackUntouched(id, when string) {
	e.t.Helper()
	out, err := e.sp.List(spool.Out)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(out) != 1 || out[0].ID != id || out[0].Envelope.Attempts != 0 {
		e.t.Errorf("out queue %s: %+v, want %s back untouched", when, out, id)
	}
	if rs := e.retryEntries(); len(rs) != 1 {
		e.t.Errorf("%d retry entries %s, want only the first", len(rs), when)
	}
}

func TestMTADownEntriesWaitForIt(t *testing.T) {
	e, addr, _ := mtaDownEnv(t)
	done := e.processAsync()
	select {
	case err := <-done:
		t.Fatalf("second entry finished while the MTA was down: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	sink, err := smtpsink.StartOn(addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer sink.Close()
	e.waitProcessed(done, 20*time.Second, "second entry still waiting after the MTA came back")
	if got := sink.Recipients(); got["second@example.net"] != 1 {
		t.Errorf("sink got %v, want second@example.net once", got)
	}
	if rs := e.retryEntries(); len(rs) != 1 {
		t.Errorf("%d retry entries, want only the first", len(rs))
	}
}

func TestMTADownTimeUpGivesEntryBack(t *testing.T) {
	e, _, id := mtaDownEnv(t)
	c, ok, err := e.sp.TryClaim(spool.Out)
	if err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.d.Process(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.wantBackUntouched(id, "when time ran out")
}

func TestMTADownStopGivesEntryBack(t *testing.T) {
	e, _, id := mtaDownEnv(t)
	done := e.processAsync()
	time.Sleep(100 * time.Millisecond)
	e.d.Stop()
	e.waitProcessed(done, 10*time.Second, "Stop did not end the wait")
	e.wantBackUntouched(id, "after stop")
}

func TestExpandMembersFilters(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addMembers(20, 4, nil)
	add := func(email string, f func(*store.Member)) {
		m := store.DefaultMember(e.list.ID, email, store.RoleMember)
		f(&m)
		if err := e.st.AddMember(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	add("poster@example.com", func(m *store.Member) { m.ReceiveOwnPostings = false })
	add("ccd@example.com", func(m *store.Member) { m.ReceiveListCopy = false })
	add("ccd-wants-copy@example.com", func(m *store.Member) {})
	add("disabled@example.com", func(m *store.Member) { m.DeliveryStatus = store.DeliveryByBounces })
	add("digest@example.com", func(m *store.Member) { m.DeliveryMode = store.ModeMIMEDigest })
	owner := store.DefaultMember(e.list.ID, "owner@example.com", store.RoleOwner)
	if err := e.st.AddMember(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(7, "poster@example.com", []string{"CCD@example.com", "ccd-wants-copy@example.com"})})
	e.process()
	got := e.sink.Recipients()
	for _, r := range []string{"poster@example.com", "ccd@example.com", "disabled@example.com", "digest@example.com", "owner@example.com"} {
		if got[r] != 0 {
			t.Errorf("%s got the post", r)
		}
	}
	if len(got) != 21 || got["ccd-wants-copy@example.com"] != 1 {
		t.Errorf("recipients %d: %v", len(got), got)
	}
}

// TestResumeSkipsJournaled: an attempt that ended after some
// transactions left their recipients in the entry's file; the next
// attempt (the entry was retried, or recovered after a crash: its
// Attempts counted) skips them.
func TestResumeSkipsJournaled(t *testing.T) {
	var dir string
	e := newEnv(t, func(o *Options) { dir = o.ProgressDir })
	members := e.addMembers(30, 3, nil)
	id := e.enqueue(spool.Envelope{Attempts: 1, Meta: MemberEnvelope(1, "", nil)})
	done := strings.Join(members[:12], "\n") + "\n" + members[12][:5] // torn last line
	if err := os.WriteFile(filepath.Join(dir, id), []byte(done), 0o640); err != nil {
		t.Fatal(err)
	}
	e.process()
	got := e.sink.Recipients()
	if len(got) != 18 {
		t.Errorf("resumed delivery sent %d, want 18", len(got))
	}
	for _, m := range members[:12] {
		if got[m] != 0 {
			t.Errorf("%s sent again", m)
		}
	}
	if e.d.Stats.Resumed.Load() != 12 {
		t.Errorf("Resumed = %d", e.d.Stats.Resumed.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, id)); !os.IsNotExist(err) {
		t.Errorf("journal left behind: %v", err)
	}
}

func TestVERPMode(t *testing.T) {
	e := newEnv(t, nil)
	e.list.Settings.VERPDeliveryInterval = 2
	if err := e.st.UpdateSettings(context.Background(), e.list.ID, e.list.Settings); err != nil {
		t.Fatal(err)
	}
	members := e.addMembers(10, 2, nil)
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(4, "", nil)}) // 4 % 2 == 0: VERP
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(5, "", nil)}) // bulk
	e.process()
	verp, bulk := 0, 0
	for _, m := range e.sink.Messages() {
		if m.From == "dev-bounces@lists.example.org" {
			bulk++
			continue
		}
		verp++
		l, d, _ := strings.Cut(m.To[0], "@")
		if len(m.To) != 1 || m.From != "dev-bounces+"+l+"="+d+"@lists.example.org" {
			t.Errorf("VERP transaction from %s to %v", m.From, m.To)
		}
	}
	// The bulk post's 10 recipients at 2 small domains share 1 transaction.
	if verp != len(members) || bulk != 1 {
		t.Errorf("%d VERP and %d bulk transactions, want %d and 1", verp, bulk, len(members))
	}
}
