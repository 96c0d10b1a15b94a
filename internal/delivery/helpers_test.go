package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/fixture"
	"herald/internal/testutil/smtpsink"

	_ "herald/internal/store/sqlite" // registers sqlite:
)

// env is one test's spool, store, sink and Deliverer.
type env struct {
	t     *testing.T
	sp    *spool.Spool
	st    store.Store
	sink  *smtpsink.Sink
	d     *Deliverer
	fails *failures
	list  *store.List
}

// failures records what the Deliverer reports.
type failures struct {
	mu sync.Mutex
	fs []Failure
}

func (f *failures) RecordFailure(_ context.Context, x Failure) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fs = append(f.fs, x)
	return nil
}

func (f *failures) all() []Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Failure(nil), f.fs...)
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T, tweak func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	sp, st := fixture.Spool(t, dir), fixture.Store(t, dir)
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	l := fixture.List(t, st, "dev", "lists.example.org", nil)
	e := &env{t: t, sp: sp, st: st, sink: sink, fails: &failures{}, list: l}
	opts := Options{Addr: sink.Addr(), Connections: 3, MaxRecipients: 50, Timeout: 5 * time.Second,
		Store: st, Failures: e.fails, ProgressDir: filepath.Join(dir, "progress"), Logger: quietLog(),
		RetryMin: time.Minute, BaseURL: "https://lists.example.org"}
	if tweak != nil {
		tweak(&opts)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	e.d = d
	return e
}

// eachOnce reports every recipient the sink has more than one copy for and
// returns how many recipients it has.
func (e *env) eachOnce() int {
	e.t.Helper()
	got := e.sink.Recipients()
	for r, n := range got {
		if n != 1 {
			e.t.Errorf("%s got %d copies", r, n)
		}
	}
	return len(got)
}

// addMembers subscribes n members spread over domains (one batch).
func (e *env) addMembers(n, domains int, tweak func(*store.Member)) []string {
	e.t.Helper()
	var out []string
	var ms []*store.Member
	for i := range n {
		m := store.DefaultMember(e.list.ID, fmt.Sprintf("user%04d@d%02d.example", i, i%domains), store.RoleMember)
		m.DisplayName = fmt.Sprintf("User %d", i)
		if tweak != nil {
			tweak(&m)
		}
		ms = append(ms, &m)
		out = append(out, m.Email)
	}
	if _, err := e.st.(store.MemberBatches).AddMembers(context.Background(), ms); err != nil {
		e.t.Fatal(err)
	}
	return out
}

const testMsg = "From: Alice <alice@example.com>\r\nTo: dev@lists.example.org\r\nSubject: [dev] hi\r\n" +
	"Date: Mon, 1 Jun 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nList-Id: <dev.lists.example.org>\r\n" +
	"List-Unsubscribe: <mailto:dev-leave@lists.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"

// enqueue puts an out entry in the spool.
func (e *env) enqueue(env spool.Envelope) string {
	e.t.Helper()
	env.Domain, env.List, env.Alias = "lists.example.org", "dev", "post"
	if env.Sender == "" {
		env.Sender = "dev-bounces@lists.example.org"
	}
	id, err := e.sp.Enqueue(context.Background(), spool.Item{Queue: spool.Out, Envelope: env, Message: []byte(testMsg)})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// process claims and processes every ready out entry.
func (e *env) process() {
	e.t.Helper()
	for {
		c, ok, err := e.sp.TryClaim(spool.Out)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ok {
			return
		}
		if err := e.d.Process(context.Background(), c); err != nil {
			e.t.Fatalf("process %s: %v", c.ID, err)
		}
	}
}

// retryEntries returns the retry queue's entries.
func (e *env) retryEntries() []spool.Entry {
	e.t.Helper()
	es, err := e.sp.List(spool.Retry)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}
