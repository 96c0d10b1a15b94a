package membership

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/store/sqlite"
)

// env is a service on a real SQLite store with a settable clock.
type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	svc *Service
	now time.Time
	l   *store.List
}

func newEnv(t *testing.T, opts Options, edit func(s *store.Settings)) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, ctx: t.Context(), st: st, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts.Now = func() time.Time { return e.now }
	if opts.BaseURL == "" {
		opts.BaseURL = "https://lists.example.org"
	}
	e.svc = New(st, opts)
	if err := st.CreateDomain(e.ctx, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	e.l = e.list("dev", edit)
	return e
}

func (e *env) list(name string, edit func(s *store.Settings)) *store.List {
	e.t.Helper()
	s := store.DefaultSettings(name)
	s.AdminNotifyMchanges = true
	if edit != nil {
		edit(&s)
	}
	l := &store.List{Name: name, Domain: "example.org", Settings: s}
	if err := e.st.CreateList(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
	owner := store.DefaultMember(l.ID, "owner@example.com", store.RoleOwner)
	if err := e.st.AddMember(e.ctx, &owner); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// ban bans pattern on l (nil: globally) in the store.
func (e *env) ban(l *store.List, pattern string) {
	e.t.Helper()
	b := &store.Ban{Pattern: pattern}
	if l != nil {
		b.ListID = l.ID
	}
	if err := e.st.AddBan(e.ctx, b); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) isMember(l *store.List, email string) bool {
	e.t.Helper()
	_, err := e.st.GetMember(e.ctx, l.ID, email, store.RoleMember)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) verify(email string) {
	e.t.Helper()
	if err := e.st.SetAddressVerified(e.ctx, email, e.now); err != nil {
		e.t.Fatal(err)
	}
}

// mail is one parsed outgoing message.
type mail struct {
	to      []string
	from    string
	subject string
	auto    string
	body    string
}

func parseMail(t *testing.T, items []spool.Item) []mail {
	t.Helper()
	var out []mail
	for _, it := range items {
		if it.Queue != spool.Out {
			t.Errorf("mail item in queue %q, want out", it.Queue)
		}
		m, err := mime.Parse(it.Message)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mail{to: it.Envelope.Recipients, from: m.Header.Get("From"),
			subject: mime.DecodeWords(m.Header.Get("Subject")), auto: m.Header.Get("Auto-Submitted"),
			body: mime.TextBody(m)})
	}
	return out
}

// tokenOf returns the token in the From of the confirmation mail among items.
func tokenOf(t *testing.T, items []spool.Item) string {
	t.Helper()
	for _, m := range parseMail(t, items) {
		if _, rest, ok := strings.Cut(m.from, "-confirm+"); ok {
			tok, _, _ := strings.Cut(rest, "@")
			return tok
		}
	}
	t.Fatalf("no confirmation mail among %d items", len(items))
	return ""
}

// rcpts lists every recipient of items, in order.
func rcpts(items []spool.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Envelope.Recipients...)
	}
	return out
}
