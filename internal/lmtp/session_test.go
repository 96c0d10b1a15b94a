package lmtp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/ingress"
	"herald/internal/lmtp"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/store/sqlite"
)

// env is an LMTP server over the real ingress, spool and SQLite store.
type env struct {
	srv   *lmtp.Server
	addr  string
	spool *spool.Spool
}

func start(t testing.TB, minFree int64) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateDomain(ctx, store.Domain{Name: "lists.example.org"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev", "small"} {
		s := store.DefaultSettings(name)
		if name == "small" {
			s.HardMaxMessageSize = 1 // KiB
		}
		if err := st.CreateList(ctx, &store.List{Name: name, Domain: "lists.example.org", Settings: s}); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(dir, "spool"), HashDepth: 1, MinFreeBytes: minFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	srv := lmtp.New(ingress.New(st, sp, 64<<10, nil), lmtp.Options{Hostname: "herald.test", MaxMessageBytes: 64 << 10})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if n := srv.Stats.Panics.Load(); n != 0 {
			t.Errorf("%d panics in sessions", n)
		}
	})
	return &env{srv: srv, addr: ln.Addr().String(), spool: sp}
}

// dialogue sends each client line and returns every reply line read after it.
type conn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	cn := &conn{t: t, c: c, r: bufio.NewReader(c)}
	cn.reply() // greeting
	return cn
}

// reply reads one (possibly multi-line) reply.
func (c *conn) reply() string {
	c.t.Helper()
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply: %v (got %q)", err, lines)
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

func (c *conn) cmd(line string) string {
	c.t.Helper()
	fmt.Fprintf(c.c, "%s\r\n", line)
	return c.reply()
}

func message(size int) string {
	body := strings.Repeat("x", 70) + "\r\n"
	var b strings.Builder
	b.WriteString("From: alice@example.com\r\nSubject: test\r\n\r\n")
	for b.Len() < size {
		b.WriteString(body)
	}
	return b.String()
}

func TestPerRecipientRepliesInOrder(t *testing.T) {
	e := start(t, -1)
	c := dial(t, e.addr)
	if r := c.cmd("EHLO x"); !strings.HasPrefix(r, "500") {
		t.Errorf("EHLO on LMTP: %q, want 500", r)
	}
	if r := c.cmd("LHLO client.test"); !strings.Contains(r, "PIPELINING") || !strings.Contains(r, "SIZE 65536") {
		t.Errorf("LHLO: %q", r)
	}
	c.cmd("MAIL FROM:<alice@example.com>")
	steps := []struct{ rcpt, want string }{
		{"dev@lists.example.org", "250"},
		{"small@lists.example.org", "250"},
		{"nosuch@lists.example.org", "550 5.1.1"},
		{"dev-owner@lists.example.org", "250"},
		{"dev-bounces+bob=example.net@lists.example.org", "250"},
		{"dev+tag@lists.example.org", "550 5.1.1"},
		{"not an address", "5"},
	}
	for _, s := range steps {
		if r := c.cmd("RCPT TO:<" + s.rcpt + ">"); !strings.HasPrefix(r, s.want) {
			t.Errorf("RCPT %s: %q, want %s", s.rcpt, r, s.want)
		}
	}
	if r := c.cmd("DATA"); !strings.HasPrefix(r, "354") {
		t.Fatalf("DATA: %q", r)
	}
	fmt.Fprintf(c.c, "%s.\r\n", message(2000)) // over small's 1 KiB
	want := []struct{ code, rcpt string }{
		{"250", "dev@"}, {"552 5.3.4", "small@"}, {"250", "dev-owner@"}, {"250", "dev-bounces+"},
	}
	for _, w := range want {
		r := c.reply()
		if !strings.HasPrefix(r, w.code) || !strings.Contains(r, w.rcpt) {
			t.Errorf("reply %q, want %s for %s", r, w.code, w.rcpt)
		}
	}
	counts := e.spool.Counts()
	if counts[spool.In] != 1 || counts[spool.Owner] != 1 || counts[spool.Bounces] != 1 {
		t.Errorf("spool counts %v", counts)
	}
	// The bounce entry keeps its VERP extension for the bounce runner.
	es, err := e.spool.List(spool.Bounces)
	if err != nil || len(es) != 1 || es[0].Envelope.Extension != "bob=example.net" || es[0].Envelope.List != "dev" {
		t.Errorf("bounce entry %+v %v", es, err)
	}
}

func TestDeclaredSizeRefused(t *testing.T) {
	e := start(t, -1)
	c := dial(t, e.addr)
	c.cmd("LHLO client.test")
	if r := c.cmd("MAIL FROM:<a@example.com> SIZE=999999"); !strings.HasPrefix(r, "552") {
		t.Errorf("SIZE over site limit: %q", r)
	}
	c.cmd("MAIL FROM:<a@example.com> SIZE=5000")
	if r := c.cmd("RCPT TO:<small@lists.example.org>"); !strings.HasPrefix(r, "552 5.3.4") {
		t.Errorf("SIZE over list limit at RCPT: %q", r)
	}
	if r := c.cmd("RCPT TO:<dev@lists.example.org>"); !strings.HasPrefix(r, "250") {
		t.Errorf("SIZE under dev's limit: %q", r)
	}
}

func TestDiskFullIs452(t *testing.T) {
	e := start(t, 1<<62) // more free space than any disk has
	c := dial(t, e.addr)
	c.cmd("LHLO client.test")
	c.cmd("MAIL FROM:<a@example.com>")
	c.cmd("RCPT TO:<dev@lists.example.org>")
	c.cmd("DATA")
	fmt.Fprintf(c.c, "%s.\r\n", message(100))
	if r := c.reply(); !strings.HasPrefix(r, "452 4.3.1") {
		t.Errorf("disk full: %q, want 452 4.3.1", r)
	}
	if n := e.spool.Counts()[spool.In]; n != 0 {
		t.Errorf("%d entries visible after a refused write", n)
	}
}

func FuzzLMTPSession(f *testing.F) {
	f.Add("LHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<dev@lists.example.org>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
	f.Add("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<dev-confirm+abc@lists.example.org>\r\nRCPT TO:<dev-bounces+=@lists.example.org>\r\nDATA\r\n\x00\xff\r\n.\r\n")
	f.Add("LHLO x\r\nRCPT TO:<dev@lists.example.org>\r\nDATA\r\nBDAT 10 LAST\r\n0123456789RSET\r\n")
	f.Add("LHLO x\r\nMAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<dév@lists.example.org>\r\nNOOP\r\nVRFY x\r\n")
	e := start(f, -1)
	f.Fuzz(func(t *testing.T, script string) {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		go func() {
			c.Write([]byte(script))
			c.Write([]byte("\r\n.\r\nQUIT\r\n"))
		}()
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		if n := e.srv.Stats.Panics.Load(); n != 0 {
			t.Fatalf("session panicked on %q", script)
		}
	})
}

// A client pipelining as Postfix's LMTP client does (RFC 2920) gets every
// reply of its group, and the message is accepted.
func TestPipelinedSession(t *testing.T) {
	e := start(t, -1)
	c := dial(t, e.addr)
	fmt.Fprint(c.c, "LHLO client.test\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<dev@lists.example.org>\r\n"+
		"RCPT TO:<nosuch@lists.example.org>\r\nDATA\r\n")
	for _, want := range []string{"250", "250", "250", "550 5.1.1", "354"} {
		if r := c.reply(); !strings.HasPrefix(r, want) {
			t.Fatalf("reply %q, want %s", r, want)
		}
	}
	fmt.Fprintf(c.c, "%s.\r\nMAIL FROM:<bob@example.com>\r\nRCPT TO:<dev@lists.example.org>\r\nDATA\r\n", message(500))
	for _, want := range []string{"250", "250", "250", "354"} {
		if r := c.reply(); !strings.HasPrefix(r, want) {
			t.Fatalf("reply %q, want %s", r, want)
		}
	}
	fmt.Fprintf(c.c, "%s.\r\nQUIT\r\n", message(500))
	for _, want := range []string{"250", "221"} {
		if r := c.reply(); !strings.HasPrefix(r, want) {
			t.Fatalf("reply %q, want %s", r, want)
		}
	}
	if n := e.spool.Counts()[spool.In]; n != 2 {
		t.Errorf("%d entries in the in queue, want 2", n)
	}
}
