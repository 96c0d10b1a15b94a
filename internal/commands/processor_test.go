package commands

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/membership"
	"herald/internal/mime"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/store/sqlite"
)

// rig is the command runner on a real spool and SQLite store.
type rig struct {
	t   *testing.T
	st  store.Store
	sp  *spool.Spool
	run *runner.Runner
	l   *store.List
}

func newRig(t *testing.T, opts membership.Options, edit func(*store.Settings)) *rig {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(dir, "spool"), HashDepth: 1, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	if err := st.CreateDomain(ctx, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	s := store.DefaultSettings("dev")
	if edit != nil {
		edit(&s)
	}
	l := &store.List{Name: "dev", Domain: "example.org", Settings: s}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	svc := membership.New(st, opts)
	p := New(st, svc, Options{})
	return &rig{t: t, st: st, sp: sp, l: l, run: runner.New("command", spool.Command, sp, p, runner.Options{})}
}

// send queues a message to alias (with extension) and runs the runner.
func (r *rig) send(alias, ext, envSender, msg string) {
	r.t.Helper()
	_, err := r.sp.Enqueue(r.t.Context(), spool.Item{Queue: spool.Command, Message: []byte(msg), Envelope: spool.Envelope{
		Domain: "example.org", List: "dev", Alias: alias, Extension: ext, Sender: envSender,
		Recipients: []string{"dev-" + alias + "@example.org"}, Arrived: time.Now(),
	}})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.run.RunUntilEmpty(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
	if n := r.sp.Counts()[spool.Shunt]; n != 0 {
		r.t.Fatalf("%d entries shunted", n)
	}
}

type out struct {
	to, from, subject, body string
}

// drain returns and removes the out queue's messages.
func (r *rig) drain() []out {
	r.t.Helper()
	var res []out
	for {
		c, ok, err := r.sp.TryClaim(spool.Out)
		if err != nil {
			r.t.Fatal(err)
		}
		if !ok {
			return res
		}
		m, err := mime.Parse(c.Message)
		if err != nil {
			r.t.Fatal(err)
		}
		res = append(res, out{to: strings.Join(c.Envelope.Recipients, ","), from: m.Header.Get("From"),
			subject: m.Header.Get("Subject"), body: strings.ReplaceAll(mime.TextBody(m), "\r\n", "\n")})
		if err := c.Done(r.t.Context()); err != nil {
			r.t.Fatal(err)
		}
	}
}

func message(from, subject, body string, extra ...string) string {
	h := fmt.Sprintf("From: %s\r\nTo: dev-request@example.org\r\nSubject: %s\r\nMessage-ID: <%d@test>\r\n", from, subject, time.Now().UnixNano())
	for _, e := range extra {
		h += e + "\r\n"
	}
	return h + "\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
}

func TestRequestMixedCommands(t *testing.T) {
	r := newRig(t, membership.Options{}, func(s *store.Settings) { s.MemberRosterVisibility = "public" })
	r.send("request", "", "bob@example.net", message("Bob <Bob@Example.NET>", "help",
		"join digest=weekly\nfrobnicate\nwho\necho hello\nconfirm notatoken\njoin\nend\nleave\n"))
	got := r.drain()
	if len(got) != 2 {
		t.Fatalf("%d mails, want the confirmation and the reply: %+v", len(got), got)
	}
	var reply, confirm out
	for _, m := range got {
		if strings.Contains(m.from, "-confirm+") {
			confirm = m
		} else {
			reply = m
		}
	}
	if confirm.to != "bob@example.net" || reply.to != "bob@example.net" {
		t.Errorf("mail to %q and %q, want bob@example.net", confirm.to, reply.to)
	}
	for _, want := range []string{
		"> help\n    Commands for dev@example.org",
		"> join digest=weekly\n    Usage: join [digest=no|mime|plain]",
		"> frobnicate\n    Unknown command.",
		"> who\n    0 member(s) of dev@example.org:",
		"> echo hello\n    hello",
		"> confirm notatoken\n    The confirmation code is unknown",
		"> join\n    A confirmation request was sent to bob@example.net.",
		"> end\n    Done",
	} {
		if !strings.Contains(reply.body, want) {
			t.Errorf("reply lacks %q:\n%s", want, reply.body)
		}
	}
	if strings.Contains(reply.body, "> leave") {
		t.Errorf("command after end was run:\n%s", reply.body)
	}
	// Replying to the confirmation (to its From address) subscribes.
	tok := strings.TrimSuffix(strings.TrimPrefix(confirm.from, "dev-confirm+"), "@example.org")
	r.send("confirm", tok, "bob@example.net", message("bob@example.net", "Re: "+confirm.subject, "> quoted confirmation\n"))
	if _, err := r.st.GetMember(t.Context(), r.l.ID, "bob@example.net", store.RoleMember); err != nil {
		t.Fatalf("not subscribed after replying: %v", err)
	}
	got = r.drain()
	if len(got) != 1 || !strings.Contains(got[0].subject, "Welcome") {
		t.Fatalf("after confirming: %+v, want only the welcome", got)
	}
}

func TestAutomatedIgnored(t *testing.T) {
	r := newRig(t, membership.Options{}, nil)
	cases := []struct {
		name, envSender, from string
		extra                 []string
	}{
		{"auto-submitted", "bob@example.net", "bob@example.net", []string{"Auto-Submitted: auto-replied"}},
		{"precedence bulk", "bob@example.net", "bob@example.net", []string{"Precedence: bulk"}},
		{"precedence list", "bob@example.net", "bob@example.net", []string{"Precedence: list"}},
		{"null sender", "", "bob@example.net", nil},
		{"x-autoreply", "bob@example.net", "bob@example.net", []string{"X-Autoreply: yes"}},
		{"mailer-daemon", "MAILER-DAEMON@example.net", "MAILER-DAEMON@example.net", nil},
		{"another list", "other-bounces@example.com", "other-request@example.com", nil},
		{"ourselves", "dev-bounces@example.org", "dev-request@example.org", nil},
		{"list mail", "bob@example.net", "bob@example.net", []string{"List-Id: <x.example.com>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, alias := range []string{"request", "join"} {
				r.send(alias, "", c.envSender, message(c.from, "help", "join\n", c.extra...))
			}
			if got := r.drain(); len(got) != 0 {
				t.Errorf("answered an automated message: %+v", got)
			}
			if _, err := r.st.PendingRequest(t.Context(), r.l.ID, "bob@example.net"); err == nil {
				t.Error("acted on an automated message")
			}
		})
	}
	// An out-of-office reply to a confirmation does not confirm.
	o, err := membership.New(r.st, membership.Options{}).Subscribe(t.Context(), r.l,
		membership.Subscription{Email: "carol@example.net", Source: membership.SourceEmail})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := mime.Parse(o.Mail[0].Message)
	tok := strings.TrimSuffix(strings.TrimPrefix(m.Header.Get("From"), "dev-confirm+"), "@example.org")
	r.send("confirm", tok, "carol@example.net", message("carol@example.net", "Out of office", "I am away.", "Auto-Submitted: auto-replied"))
	if _, err := r.st.GetMember(t.Context(), r.l.ID, "carol@example.net", store.RoleMember); err == nil {
		t.Error("an autoresponder confirmed a subscription")
	}
}

func TestAliasesAnswerOnce(t *testing.T) {
	r := newRig(t, membership.Options{AutoresponsesPerDay: 3}, func(s *store.Settings) { s.SubscriptionPolicy = "confirm" })
	r.send("join", "", "v@example.net", message("v@example.net", "", ""))
	got := r.drain()
	if len(got) != 1 || !strings.Contains(got[0].from, "-confirm+") {
		t.Fatalf("-join: %+v, want just the confirmation", got)
	}
	// Repeats get a short reply, at most AutoresponsesPerDay of them.
	for range 10 {
		r.send("join", "", "v@example.net", message("v@example.net", "", ""))
	}
	got = r.drain()
	if len(got) != 3 {
		t.Fatalf("%d replies to repeated joins, want 3", len(got))
	}
	if !strings.Contains(got[0].body, "already pending") {
		t.Errorf("reply: %s", got[0].body)
	}
	// -leave for a non-member: a reply saying so (the daily quota is used up).
	r.send("leave", "", "w@example.net", message("w@example.net", "", ""))
	got = r.drain()
	if len(got) != 1 || !strings.Contains(got[0].body, "w@example.net is not subscribed") {
		t.Fatalf("-leave of a non-member: %+v", got)
	}
}

func TestNoBackscatter(t *testing.T) {
	r := newRig(t, membership.Options{}, nil)
	r.send("request", "", "victim@example.net", message("victim@example.net", "Cheap watches",
		"Best prices on watches\nVisit our shop\n"))
	if got := r.drain(); len(got) != 0 {
		t.Errorf("spam to -request was answered: %+v", got)
	}
}
