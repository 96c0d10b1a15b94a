package maildir

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/ingress"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite"
)

type env struct {
	root string
	sp   *spool.Spool
	st   store.Store
	r    *Runner
}

func setup(t *testing.T, opts Options) *env {
	t.Helper()
	dir := t.TempDir()
	st := fixture.Store(t, dir)
	for _, d := range []string{"lists.example.org", "lists.example.net"} {
		fixture.List(t, st, "dev", d, nil)
	}
	log := slog.New(slog.DiscardHandler)
	sp := fixture.Spool(t, dir)
	root := filepath.Join(dir, "maildir")
	opts.Logger = log
	return &env{root: root, sp: sp, st: st, r: New(root, ingress.New(st, sp, 1<<20, log), sp, opts)}
}

// drop writes a Maildir file the way Postfix's virtual agent does: into
// tmp/, then linked into new/.
func (e *env) drop(t *testing.T, rel, name, data string) string {
	t.Helper()
	dir := filepath.Join(e.root, rel)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "new", name)
	if err := os.Link(tmp, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	return dst
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

const post = "Return-Path: <alice@example.com>\nX-Original-To: dev@lists.example.org\nDelivered-To: dev@lists.example.org\nReceived: by mta\nFrom: alice@example.com\nSubject: hi\n\nbody\n"

func TestScanRoutesLikeLMTP(t *testing.T) {
	e := setup(t, Options{})
	p1 := e.drop(t, "lists.example.org/dev/post", "1.a", post)
	p2 := e.drop(t, "lists.example.net/dev/request", "2.b", "From: bob@example.net\nSubject: help\n\n")
	p3 := e.drop(t, "lists.example.org/dev/bounces", "3.c",
		"Return-Path: <>\nDelivered-To: dev-bounces+carol=example.org@lists.example.org\nFrom: MAILER-DAEMON@x\nSubject: fail\n\nx\n")
	e.r.Scan(context.Background())
	for _, p := range []string{p1, p2, p3} {
		if exists(p) {
			t.Errorf("%s not removed after pickup", p)
		}
	}
	counts := e.sp.Counts()
	if counts[spool.In] != 1 || counts[spool.Command] != 1 || counts[spool.Bounces] != 1 || counts[spool.Shunt] != 0 {
		t.Fatalf("counts = %v", counts)
	}
	es, err := e.sp.List(spool.In)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := e.sp.Get(es[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	env := ent.Envelope
	if env.Domain != "lists.example.org" || env.List != "dev" || env.Alias != "post" || env.Sender != "alice@example.com" {
		t.Errorf("envelope = %+v", env)
	}
	msg := string(ent.Message)
	if !strings.HasPrefix(msg, "Received: by mta\r\n") || !strings.HasSuffix(msg, "body\r\n") {
		t.Errorf("message not trimmed of delivery trace fields or not CRLF: %q", msg)
	}
	bs, err := e.sp.List(spool.Bounces)
	if err != nil {
		t.Fatal(err)
	}
	if bs[0].Envelope.Extension != "carol=example.org" || bs[0].Envelope.Sender != "" {
		t.Errorf("bounce envelope = %+v, want the VERP extension from Delivered-To", bs[0].Envelope)
	}
}

func TestScanShuntsWhatItCannotRoute(t *testing.T) {
	e := setup(t, Options{})
	cases := []struct{ rel, data, reason string }{
		{"lists.example.org/nosuch/post", post, "no such list"},
		{"lists.example.org/dev/frob", post, "unknown alias directory"},
		{"lists.example.org/dev/post", "\n\n", "unparseable"},
	}
	var paths []string
	for i, c := range cases {
		paths = append(paths, e.drop(t, c.rel, "f"+string(rune('0'+i)), c.data))
	}
	e.r.Scan(context.Background())
	for _, p := range paths {
		if exists(p) {
			t.Errorf("%s left in place", p)
		}
	}
	shunted, err := e.sp.List(spool.Shunt)
	if err != nil {
		t.Fatal(err)
	}
	if len(shunted) != len(cases) {
		t.Fatalf("shunted %d, want %d", len(shunted), len(cases))
	}
	all := ""
	for _, s := range shunted {
		all += s.Envelope.LastError + "\n"
	}
	for _, c := range cases {
		if !strings.Contains(all, c.reason) {
			t.Errorf("no shunt reason mentions %q:\n%s", c.reason, all)
		}
	}
	if got := e.sp.Counts()[spool.In]; got != 0 {
		t.Errorf("in = %d, want 0", got)
	}
}

// Files that arrive while the runner runs are picked up at once through
// inotify, not at the next periodic scan; stray files outside new/ are
// left alone.
func TestRunPicksUpNewFilesPromptly(t *testing.T) {
	e := setup(t, Options{ScanInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(100 * time.Millisecond) // Run creates the root and watches it
	stray := filepath.Join(e.root, "README")
	if err := os.WriteFile(stray, []byte("not mail"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := e.drop(t, "lists.example.org/dev/post", "9.x", post) // new domain, list and alias directories
	deadline := time.Now().Add(5 * time.Second)
	for exists(p) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if exists(p) {
		t.Fatal("file not picked up within 5 s with a 1 h scan interval: inotify did not fire")
	}
	if got := e.sp.Counts()[spool.In]; got != 1 {
		t.Fatalf("in = %d, want 1", got)
	}
	if !exists(stray) {
		t.Error("a stray file outside new/ was removed")
	}
}

// Temporary trouble (here: the store is gone) leaves the file for the next
// pass; nothing is shunted or lost.
func TestScanDefersOnTemporaryFailure(t *testing.T) {
	e := setup(t, Options{})
	p := e.drop(t, "lists.example.org/dev/post", "t.1", post)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	e.r.Scan(context.Background())
	if !exists(p) {
		t.Fatal("file removed although the store was down")
	}
	if a, s, d := e.r.Stats.Snapshot(); a != 0 || s != 0 || d != 1 {
		t.Fatalf("accepted %d shunted %d deferred %d, want 0 0 1", a, s, d)
	}
	if n := e.sp.Counts()[spool.Shunt]; n != 0 {
		t.Fatalf("shunted %d", n)
	}
}
