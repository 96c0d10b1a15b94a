package bouncer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite"
)

// env is a real SQLite store and a real spool in a temp dir, with the list
// dev@lists.example.org (members alice, bob, carol; owner owner@example.com)
// and a clock the test moves.
type env struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	sp   *spool.Spool
	list *store.List
	now  time.Time
	proc *Processor
	pol  *Policy
}

func newEnv(t *testing.T, members ...string) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, sp := fixture.Store(t, dir), fixture.Spool(t, dir)
	e := &env{t: t, ctx: ctx, st: st, sp: sp, now: day0}
	e.list = fixture.List(t, st, "dev", "lists.example.org", nil)
	if len(members) == 0 {
		members = []string{"alice@example.com", "bob@example.net", "carol@example.org"}
	}
	for _, m := range members {
		e.add(m, store.RoleMember)
	}
	e.add("owner@example.com", store.RoleOwner)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := Options{Logger: log, Now: func() time.Time { return e.now }, SiteOwner: "postmaster@example.org"}
	e.proc = NewProcessor(st, opts)
	e.pol = NewPolicy(st, sp, opts)
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func (e *env) add(email string, role store.Role) {
	e.t.Helper()
	m := store.DefaultMember(e.list.ID, email, role)
	if err := e.st.AddMember(e.ctx, &m); err != nil {
		e.t.Fatal(err)
	}
}

// set changes list settings.
func (e *env) set(kv ...string) {
	e.t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if err := e.list.Settings.Set(kv[i], kv[i+1]); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.st.UpdateSettings(e.ctx, e.list.ID, e.list.Settings); err != nil {
		e.t.Fatal(err)
	}
}

// deliver puts msg into the bounces queue as ingress would for rcpt (a
// local part of the list's domain) and runs the processor on it.
func (e *env) deliver(ext string, msg []byte) {
	e.t.Helper()
	rcpt := "dev-bounces@lists.example.org"
	if ext != "" {
		rcpt = "dev-bounces+" + ext + "@lists.example.org"
	}
	_, err := e.sp.Enqueue(e.ctx, spool.Item{Queue: spool.Bounces, Message: msg, Envelope: spool.Envelope{
		Domain: "lists.example.org", List: "dev", Alias: "bounces", Extension: ext, Sender: "",
		Recipients: []string{rcpt}, Arrived: e.now,
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	c, ok, err := e.sp.TryClaim(spool.Bounces)
	if err != nil || !ok {
		e.t.Fatalf("claim bounce: %v %v", ok, err)
	}
	if err := e.proc.Process(e.ctx, c); err != nil {
		e.t.Fatalf("process bounce: %v", err)
	}
}

// pass runs a policy pass at the env's time.
func (e *env) pass() Report {
	e.t.Helper()
	rep, err := e.pol.Pass(e.ctx, e.now)
	if err != nil {
		e.t.Fatalf("pass at %v: %v", e.now, err)
	}
	return rep
}

// out takes every entry of the out queue.
func (e *env) out() []spool.Entry {
	e.t.Helper()
	var got []spool.Entry
	for {
		c, ok, err := e.sp.TryClaim(spool.Out)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ok {
			return got
		}
		got = append(got, c.Entry)
		if err := c.Done(e.ctx); err != nil {
			e.t.Fatal(err)
		}
	}
}

// events returns the list's events so far.
func (e *env) events() []store.BounceEvent {
	e.t.Helper()
	evs, err := e.st.BouncesBetween(e.ctx, e.list.ID, day0.Add(-24*time.Hour), e.now.Add(365*24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *env) info(email string) store.BounceInfo {
	e.t.Helper()
	bi, err := e.st.BounceInfo(e.ctx, e.list.ID, email)
	if err != nil {
		e.t.Fatalf("bounce info of %s: %v", email, err)
	}
	return *bi
}

// record stores an SMTP-time failure as the delivery engine does.
func (e *env) record(email, reason, detail string) {
	e.t.Helper()
	ev := &store.BounceEvent{ListID: e.list.ID, Email: email, Permanent: true, Reason: reason, Detail: detail,
		Source: SourceSMTP, At: e.now}
	if err := e.st.RecordBounce(e.ctx, ev); err != nil {
		e.t.Fatal(err)
	}
}

// dsn is an RFC 3464 report from a remote MTA about rcpt, sent to to.
func dsn(to, rcpt, action, status, diag string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: %s
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"
Message-ID: <dsn.%d@mx.example.net>

--b1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: %s
Status: %s
Diagnostic-Code: smtp; %s

--b1
Content-Type: text/rfc822-headers

From: dev@lists.example.org
Subject: [dev] hello

--b1--
`, to, time.Now().UnixNano(), rcpt, action, status, diag), "\n", "\r\n"))
}
