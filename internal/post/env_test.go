package post_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/dmarc"
	"herald/internal/dns"
	"herald/internal/moderation"
	"herald/internal/pipeline/handlers"
	"herald/internal/pipeline/rules"
	"herald/internal/post"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/dnsstub"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite" // registers sqlite:
)

// env is a post runner on a real spool and SQLite store, with a DNS stub.
type env struct {
	t    testing.TB
	sp   *spool.Spool
	st   store.Store
	list *store.List
	dns  *dnsstub.Server
	run  *runner.Runner
	ctx  context.Context
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv creates dev@lists.example.org with members alice, bob and carol
// and owner owner@example.com.
func newEnv(t testing.TB, tweak func(*store.Settings)) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := t.Context()
	sp, st := fixture.Spool(t, dir), fixture.Store(t, dir)
	stub, err := dnsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stub.Close() })
	s := store.DefaultSettings("dev")
	if tweak != nil {
		tweak(&s)
	}
	l := fixture.List(t, st, "dev", "lists.example.org", &s)
	for _, a := range []string{"alice@example.com", "bob@example.net", "carol@example.org"} {
		m := store.DefaultMember(l.ID, a, store.RoleMember)
		must(t, st.AddMember(ctx, &m))
	}
	o := store.DefaultMember(l.ID, "owner@example.com", store.RoleOwner)
	must(t, st.AddMember(ctx, &o))
	mod := moderation.New(st, sp, quietLog())
	proc := post.New(st, mod, rules.DefaultChain(), handlers.New(handlers.Options{BaseURL: "https://lists.example.org"}),
		post.Options{Logger: quietLog(), Chunk: 2, DMARC: dmarc.New(dns.New(dns.Options{Server: stub.Addr(), Timeout: time.Second}))})
	r := runner.New("post", spool.In, sp, proc, runner.Options{Logger: quietLog()})
	return &env{t: t, sp: sp, st: st, list: l, dns: stub, run: r, ctx: ctx}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// set changes the list's settings.
func (e *env) set(kv ...string) {
	e.t.Helper()
	for i := 0; i < len(kv); i += 2 {
		must(e.t, e.list.Settings.Set(kv[i], kv[i+1]))
	}
	must(e.t, e.st.UpdateSettings(e.ctx, e.list.ID, e.list.Settings))
}

// post enqueues raw as a post and runs the post runner until the in
// queue is empty.
func (e *env) post(envSender, raw string) {
	e.t.Helper()
	e.enqueue(envSender, raw, nil)
	if _, err := e.run.RunUntilEmpty(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) enqueue(envSender, raw string, meta map[string]string) {
	e.t.Helper()
	_, err := e.sp.Enqueue(e.ctx, spool.Item{Queue: spool.In, Message: []byte(raw), Envelope: spool.Envelope{
		Domain: "lists.example.org", List: "dev", Alias: "post", Sender: envSender,
		Recipients: []string{"dev@lists.example.org"}, Arrived: time.Now(), Meta: meta,
	}})
	must(e.t, err)
}

// out is what the out queue holds: posts (Alias post) and notices.
type out struct {
	posts   []spool.Entry
	notices []spool.Entry
}

// drain takes every entry off the out queue.
func (e *env) drain() out {
	e.t.Helper()
	var o out
	for {
		c, ok, err := e.sp.TryClaim(spool.Out)
		must(e.t, err)
		if !ok {
			return o
		}
		ent := spool.Entry{ID: c.ID, Envelope: c.Envelope, Message: c.Message}
		must(e.t, c.Done(e.ctx))
		if ent.Envelope.Alias == "post" {
			o.posts = append(o.posts, ent)
		} else {
			o.notices = append(o.notices, ent)
		}
	}
}

// rcpts returns the sorted recipients of entries.
func rcpts(es []spool.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Envelope.Recipients...)
	}
	slices.Sort(out)
	return out
}

// held returns the list's held posts.
func (e *env) held() []store.Held {
	e.t.Helper()
	hs, err := e.st.ListHeld(e.ctx, e.list.ID)
	must(e.t, err)
	return hs
}

// msg builds a post.
func msg(from, to, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%d@test.example>\r\nDate: Fri, 01 May 2026 12:00:00 +0000\r\n",
		from, to, subject, time.Now().UnixNano())
	for _, x := range extra {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.String()
}
