package socketmap

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"testing"

	"herald/internal/ingress"
	"herald/internal/store"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite"
)

func start(t *testing.T) (addr string, st store.Store) {
	t.Helper()
	dir := t.TempDir()
	st = fixture.Store(t, dir)
	for _, d := range []string{"lists.example.org", "lists.example.net"} {
		fixture.List(t, st, "dev", d, nil)
	}
	log := slog.New(slog.DiscardHandler)
	sp := fixture.Spool(t, dir)
	srv := New(ingress.New(st, sp, 1<<20, log), st, "lmtp:[127.0.0.1]:8024", log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String(), st
}

func TestLookupsOverOneConnection(t *testing.T) {
	addr, st := start(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func(req string) string {
		t.Helper()
		if _, err := c.Write(Netstring([]byte(req))); err != nil {
			t.Fatal(err)
		}
		b, err := ReadNetstring(r, 100000)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct{ req, want string }{
		{"recipients dev@lists.example.org", "OK herald"},
		{"recipients DEV-Request@Lists.Example.NET", "OK herald"},
		{"recipients dev-bounces+alice=example.com@lists.example.org", "OK herald"},
		{"recipients dev-confirm+abc123@lists.example.net", "OK herald"},
		{"recipients dev+frob@lists.example.org", "NOTFOUND "},
		{"recipients nosuch@lists.example.org", "NOTFOUND "},
		{"recipients @lists.example.org", "NOTFOUND "},
		{"vmailbox dev-subscribe@lists.example.net", "OK lists.example.net/dev/join/"},
		{"vmailbox dev@lists.example.org", "OK lists.example.org/dev/post/"},
		{"domains lists.example.org", "OK herald"},
		{"domains example.org", "NOTFOUND "},
		{"transport lists.example.net", "OK lmtp:[127.0.0.1]:8024"},
		{"transport dev@lists.example.net", "NOTFOUND "},
		{"transport .example.net", "NOTFOUND "},
		{"aliases x", "PERM unknown table aliases"},
		{"recipients", "PERM malformed request"},
	}
	for _, cs := range cases {
		if got := ask(cs.req); got != cs.want {
			t.Errorf("%q: got %q, want %q", cs.req, got, cs.want)
		}
	}
	// Live: a list created now is found on the same connection.
	if err := st.CreateList(context.Background(), &store.List{Name: "ops", Domain: "lists.example.org", Settings: store.DefaultSettings("ops")}); err != nil {
		t.Fatal(err)
	}
	if got := ask("recipients ops-owner@lists.example.org"); got != "OK herald" {
		t.Errorf("new list: got %q", got)
	}
}

func TestNetstring(t *testing.T) {
	for _, s := range []string{"", "a", "recipients dev@lists.example.org"} {
		b, err := ReadNetstring(bufio.NewReader(bytes.NewReader(Netstring([]byte(s)))), 100)
		if err != nil || string(b) != s {
			t.Errorf("round trip %q: %q %v", s, b, err)
		}
	}
	for _, bad := range []string{"x:abc,", "3:abc;", "5:abc,", ":abc,", "99999999:x,", "200:" + string(make([]byte, 200)) + ","} {
		if _, err := ReadNetstring(bufio.NewReader(bytes.NewReader([]byte(bad))), 100); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
