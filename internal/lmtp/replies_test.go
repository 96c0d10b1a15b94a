package lmtp

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair is a loopback TCP connection: the server end wrapped in a replyConn.
func pair(t *testing.T) (srv *replyConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := replyListener{ln}.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c := <-accepted
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	return c.(*replyConn), client
}

// readN reads exactly n bytes from c within a few seconds.
func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v (got %q)", n, err, b)
	}
	return string(b)
}

func TestRepliesHeldUntilTheSessionReads(t *testing.T) {
	srv, client := pair(t)
	for _, r := range []string{"250 2.0.0 a\r\n", "250 2.0.0 b\r\n"} {
		if _, err := srv.Write([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := client.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client read %d bytes (%v) before the session read: replies were not held", n, err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 16))
		read <- err
	}()
	if got := readN(t, client, 26); got != "250 2.0.0 a\r\n250 2.0.0 b\r\n" {
		t.Errorf("client got %q", got)
	}
	if _, err := client.Write([]byte("QUIT\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Errorf("session read: %v", err)
	}
}

func TestReplyDuringBlockedReadGoesAtOnce(t *testing.T) {
	srv, client := pair(t)
	read := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 16))
		read <- err
	}()
	for waiting := false; !waiting; {
		srv.mu.Lock()
		waiting = srv.reading
		srv.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	// As the LMTP statuses are written while the message reader may wait.
	if _, err := srv.Write([]byte("250 2.0.0 c\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, client, 13); got != "250 2.0.0 c\r\n" {
		t.Errorf("client got %q", got)
	}
	client.Write([]byte("x"))
	if err := <-read; err != nil {
		t.Errorf("session read: %v", err)
	}
}

func TestCloseSendsHeldReplies(t *testing.T) {
	srv, client := pair(t)
	if _, err := srv.Write([]byte("221 2.0.0 Bye\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "221 2.0.0 Bye\r\n" {
		t.Errorf("client got %q, %v", got, err)
	}
}

func TestHeldRepliesBounded(t *testing.T) {
	srv, client := pair(t)
	line := []byte("250 2.1.5 Ok\r\n")
	n := 0
	for n <= maxHeldReplies {
		if _, err := srv.Write(line); err != nil {
			t.Fatal(err)
		}
		n += len(line)
	}
	// Past the bound the held replies went without a read.
	readN(t, client, maxHeldReplies-maxHeldReplies%len(line))
}

// One read from the socket takes a whole pipelined group; the session's
// reads are served from it, and the replies to its first commands stay
// held until the session has handled all it received (RFC 2920 §3).
func TestReadAheadServesAPipelinedGroup(t *testing.T) {
	srv, client := pair(t)
	if _, err := client.Write([]byte("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, len("MAIL FROM:<a@b>\r\n"))
	if _, err := io.ReadFull(srv, p); err != nil || string(p) != "MAIL FROM:<a@b>\r\n" {
		t.Fatalf("first command %q %v", p, err)
	}
	if srv.rend-srv.rpos != len("RCPT TO:<c@d>\r\n") {
		t.Fatalf("read ahead %d bytes, want the rest of the group", srv.rend-srv.rpos)
	}
	if _, err := srv.Write([]byte("250 2.1.0 ok\r\n")); err != nil {
		t.Fatal(err)
	}
	p = make([]byte, len("RCPT TO:<c@d>\r\n"))
	if _, err := io.ReadFull(srv, p); err != nil || string(p) != "RCPT TO:<c@d>\r\n" {
		t.Fatalf("second command %q %v", p, err)
	}
	client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := client.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a reply went while the group was still being handled: %d bytes, %v", n, err)
	}
	if _, err := srv.Write([]byte("250 2.1.5 ok\r\n")); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = srv.Read(make([]byte, 16)) }() // the session waits for more: the replies go
	if got := readN(t, client, 28); got != "250 2.1.0 ok\r\n250 2.1.5 ok\r\n" {
		t.Fatalf("client got %q", got)
	}
}
