package moderation

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite" // registers sqlite:
)

type env struct {
	t   *testing.T
	st  store.Store
	sp  *spool.Spool
	s   *Service
	l   *store.List
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp, st := fixture.Spool(t, dir), fixture.Store(t, dir)
	l := fixture.List(t, st, "dev", "lists.example.org", nil)
	for _, r := range []store.Role{store.RoleOwner, store.RoleModerator} {
		m := store.DefaultMember(l.ID, string(r)+"@example.com", r)
		must(t, st.AddMember(ctx, &m))
	}
	e := &env{t: t, st: st, sp: sp, l: l, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	e.s = New(st, sp, log)
	e.s.now = func() time.Time { return e.now }
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const post = "From: Poster <poster@example.net>\r\nTo: dev@lists.example.org\r\nSubject: A question\r\nMessage-ID: <q@example.net>\r\n\r\nbody text\r\n"

func (e *env) hold(raw string) (*store.Held, []spool.Item) {
	e.t.Helper()
	h, items, err := e.s.Hold(e.t.Context(), e.l, Post{Raw: []byte(raw), EnvSender: "poster@example.net",
		Sender: "poster@example.net", Reasons: []string{"not a member", "too \x1b[31mred\r\nInjected: yes"}})
	must(e.t, err)
	return h, items
}

// queued returns what the spool holds in queue.
func (e *env) queued(queue string) []*spool.Entry {
	e.t.Helper()
	es, err := e.sp.List(queue)
	must(e.t, err)
	var out []*spool.Entry
	for _, x := range es {
		full, err := e.sp.Get(x.ID)
		must(e.t, err)
		out = append(out, full)
	}
	return out
}

func TestHoldNotices(t *testing.T) {
	e := newEnv(t)
	h, items := e.hold(post)
	if !IsHeldToken(h.Token) {
		t.Errorf("token %q", h.Token)
	}
	if len(items) != 2 {
		t.Fatalf("%d notices, want moderators and poster", len(items))
	}
	mod, poster := string(items[0].Message), string(items[1].Message)
	if got := items[0].Envelope.Recipients; !slices.Equal(got, []string{"owner@example.com", "moderator@example.com"}) {
		t.Errorf("moderator notice to %v", got)
	}
	for _, want := range []string{"Reply-To: dev-confirm+" + h.Token + "@lists.example.org", "confirm " + h.Token,
		"requires approval", "Content-Type: message/rfc822", "body text", "not a member"} {
		if !strings.Contains(mod, want) {
			t.Errorf("moderator notice lacks %q:\n%s", want, mod)
		}
	}
	if strings.Contains(mod, "\nInjected: yes") || strings.Contains(poster, "\nInjected: yes") || strings.Contains(mod, "\x1b") {
		t.Errorf("a reason's control characters reached a notice")
	}
	if !slices.Equal(items[1].Envelope.Recipients, []string{"poster@example.net"}) ||
		!strings.Contains(poster, "awaits moderator approval") || strings.Contains(poster, "body text") ||
		!strings.Contains(poster, "Auto-Submitted: auto-replied") {
		t.Errorf("poster notice:\n%s", poster)
	}

	// The daily limit and automated posters.
	e.l.Settings.MaxAutoresponsesPerDay = 2
	_, items = e.hold(post) // second today
	_, items3 := e.hold(post)
	if len(items) != 2 || len(items3) != 1 {
		t.Errorf("notices: second hold %d, third hold %d; want 2 then 1 (limit 2 a day)", len(items), len(items3))
	}
	e.now = e.now.Add(24 * time.Hour)
	if _, items = e.hold(post); len(items) != 2 {
		t.Errorf("the next day: %d notices", len(items))
	}
	if _, items = e.hold("Auto-Submitted: auto-replied\r\n" + post); len(items) != 1 {
		t.Errorf("an automated poster got a notice")
	}
	e.l.Settings.AdminImmedNotify, e.l.Settings.RespondToPostRequests = false, false
	if _, items = e.hold(post); len(items) != 0 {
		t.Errorf("notices with both settings off: %d", len(items))
	}
}

func TestModeratorReply(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	h1, _ := e.hold(post)
	h2, _ := e.hold(post)
	h3, _ := e.hold(post)

	got, err := e.s.HandleModeratorReply(ctx, e.l, h1.Token, Approve, "")
	must(t, err)
	if got.ID != h1.ID {
		t.Errorf("decided on %d", got.ID)
	}
	in := e.queued(spool.In)
	if len(in) != 1 || in[0].Envelope.Meta["approved"] != "1" || string(in[0].Message) != post {
		t.Errorf("approve: in queue %+v", in)
	}
	must(t, func() error { _, err := e.s.HandleModeratorReply(ctx, e.l, h2.Token, Reject, "off topic"); return err }())
	out := e.queued(spool.Out)
	if len(out) != 1 || !strings.Contains(string(out[0].Message), "off topic") || out[0].Envelope.Recipients[0] != "poster@example.net" {
		t.Errorf("reject: out queue %d entries", len(out))
	}
	must(t, func() error { _, err := e.s.HandleModeratorReply(ctx, e.l, h3.Token, Discard, ""); return err }())
	if hs, _ := e.st.ListHeld(ctx, e.l.ID); len(hs) != 0 {
		t.Errorf("%d held after deciding all", len(hs))
	}
	for _, tok := range []string{h1.Token, "mod00000000000000000000000000000000", ""} {
		if _, err := e.s.HandleModeratorReply(ctx, e.l, tok, Approve, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %q: %v, want not found", tok, err)
		}
	}
	h4, _ := e.hold(post)
	if _, err := e.s.HandleModeratorReply(ctx, e.l, h4.Token, "maybe", ""); !errors.Is(err, ErrBadDecision) {
		t.Errorf("bad decision: %v", err)
	}
}

func TestParseReply(t *testing.T) {
	cases := []struct {
		text   string
		d      Decision
		reason string
		ok     bool
	}{
		{"", Approve, "", true},
		{"\n\n> quoted original\n> lines\n", Approve, "", true},
		{"approve\n", Approve, "", true},
		{"  Approved.\n\nthanks", Approve, "", true},
		{"reject Please post in English.\n", Reject, "Please post in English.", true},
		{"REJECT\n", Reject, "", true},
		{"discard\n> approve\n", Discard, "", true},
		{"confirm mod0123\ndiscard", Discard, "", true},
		{"Thanks, looks fine to me\n", "", "", false},
		{"-- \nsignature approve\n", Approve, "", true},
	}
	for _, c := range cases {
		d, reason, ok := ParseReply(c.text)
		if d != c.d || reason != c.reason || ok != c.ok {
			t.Errorf("ParseReply(%q) = %q %q %v, want %q %q %v", c.text, d, reason, ok, c.d, c.reason, c.ok)
		}
	}
}

func TestTokens(t *testing.T) {
	tok := NewToken()
	if !IsHeldToken(tok) || tok == NewToken() {
		t.Errorf("NewToken %q", tok)
	}
	for _, bad := range []string{"", "mod", "0123456789abcdef0123456789abcdef", "modxyz0000000000000000000000000000", tok + "0"} {
		if IsHeldToken(bad) {
			t.Errorf("IsHeldToken(%q)", bad)
		}
	}
}

func TestExpireHeld(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.l.Settings.MaxDaysToHold, e.l.Settings.MaxDaysToHoldAction = 2, "reject"
	e.l.Settings.RespondToPostRequests, e.l.Settings.AdminImmedNotify = false, false
	must(t, e.st.UpdateSettings(ctx, e.l.ID, e.l.Settings))
	other := &store.List{Name: "keep", Domain: "lists.example.org", Settings: store.DefaultSettings("keep")}
	must(t, e.st.CreateList(ctx, other))
	approve := &store.List{Name: "auto", Domain: "lists.example.org", Settings: store.DefaultSettings("auto")}
	approve.Settings.MaxDaysToHold, approve.Settings.MaxDaysToHoldAction = 1, "approve"
	must(t, e.st.CreateList(ctx, approve))

	old, _ := e.hold(post)
	for _, l := range []*store.List{other, approve} {
		_, _, err := e.s.Hold(ctx, l, Post{Raw: []byte(post), Sender: "poster@example.net"})
		must(t, err)
	}
	e.now = e.now.Add(36 * time.Hour)
	young, _ := e.hold(post)
	n, err := e.s.ExpireHeld(ctx)
	must(t, err)
	if n != 1 {
		t.Errorf("expired %d after 36 h, want 1 (the auto list's)", n)
	}
	e.now = e.now.Add(24 * time.Hour) // 60 h after the first holds
	n, err = e.s.ExpireHeld(ctx)
	must(t, err)
	if n != 1 {
		t.Errorf("expired %d after 60 h, want 1", n)
	}
	hs, _ := e.st.ListHeld(ctx, e.l.ID)
	if len(hs) != 1 || hs[0].ID != young.ID || hs[0].ID == old.ID {
		t.Errorf("held after expiry: %+v", hs)
	}
	if kept, _ := e.st.ListHeld(ctx, other.ID); len(kept) != 1 {
		t.Errorf("a list without max_days_to_hold lost its held post")
	}
	if in := e.queued(spool.In); len(in) != 1 || in[0].Envelope.List != "auto" {
		t.Errorf("approve on expiry: in queue %v", in)
	}
	out := e.queued(spool.Out)
	if len(out) != 1 || !strings.Contains(string(out[0].Message), "no moderator decided within 2 days") {
		t.Errorf("reject on expiry: %d notices", len(out))
	}
}
