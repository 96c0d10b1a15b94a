package smtpclient_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"herald/internal/delivery/smtpclient"
	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

var body = smtpclient.Wire([]byte("From: a@example.org\r\nSubject: t\r\n\r\nhello\r\n.dot\r\n"))

func startSink(t *testing.T) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, addr string, opts smtpclient.Options) *smtpclient.Conn {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	c, err := smtpclient.Dial(context.Background(), "tcp", addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run sends txs back to back, then flushes, and returns how often each
// Done ran.
func run(t *testing.T, c *smtpclient.Conn, txs []*smtpclient.Tx) []int {
	t.Helper()
	done := make([]int, len(txs))
	for i, tx := range txs {
		tx.Done = func(*smtpclient.Tx) { done[i]++ }
		if err := c.Send(tx); err != nil {
			t.Logf("send %d: %v", i, err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Logf("flush: %v", err)
	}
	return done
}

func TestSendModes(t *testing.T) {
	for _, noPipe := range []bool{false, true} {
		t.Run(fmt.Sprintf("nopipelining=%v", noPipe), func(t *testing.T) {
			s := startSink(t)
			s.Reply("bad@example.net", 550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			s.Reply("later@example.net", 451, smtp.EnhancedCode{4, 3, 0}, "try later")
			s.Reply("all@bad.example", 550, smtp.EnhancedCode{5, 1, 1}, "gone")
			c := dial(t, s.Addr(), smtpclient.Options{NoPipelining: noPipe, Window: 3})
			defer c.Close()
			if c.Pipelining() == noPipe {
				t.Fatalf("Pipelining() = %v with NoPipelining %v", c.Pipelining(), noPipe)
			}
			many := make([]string, 10)
			for i := range many {
				many[i] = fmt.Sprintf("m%d@example.com", i)
			}
			txs := []*smtpclient.Tx{
				{From: "l-bounces@example.org", Rcpts: []string{"a@example.com", "bad@example.net", "later@example.net", "b@example.com"}, Body: body},
				{From: "l-bounces@example.org", Rcpts: []string{"all@bad.example"}, Body: body}, // DATA refused: RSET follows
				{From: "l-bounces@example.org", Rcpts: many, Body: body},                        // more RCPTs than the window
				{From: "l-bounces+c=example.com@example.org", Rcpts: []string{"c@example.com"}, Body: body, Params: "BODY=8BITMIME"},
			}
			done := run(t, c, txs)
			for i, n := range done {
				if n != 1 {
					t.Errorf("tx %d: Done ran %d times", i, n)
				}
				if txs[i].Err != nil {
					t.Errorf("tx %d: Err %v", i, txs[i].Err)
				}
			}
			want := []int{250, 550, 451, 250}
			for i, w := range want {
				if got := txs[0].Result(i); got.Code != w {
					t.Errorf("tx 0 rcpt %d: %v, want %d", i, got, w)
				}
			}
			if r := txs[0].Result(1); r.Enhanced != "5.1.1" || !strings.Contains(r.Text, "no such user") {
				t.Errorf("refusal reply = %+v", r)
			}
			if r := txs[1].Result(0); r.Code != 550 {
				t.Errorf("all-refused tx: %v", r)
			}
			for i := range many {
				if r := txs[2].Result(i); r.Code != 250 {
					t.Errorf("windowed tx rcpt %d: %v", i, r)
				}
			}
			if r := txs[3].Result(0); r.Code != 250 {
				t.Errorf("last tx: %v", r)
			}
			got := s.Recipients()
			if len(got) != 13 || got["a@example.com"] != 1 || got["c@example.com"] != 1 || got["m9@example.com"] != 1 {
				t.Errorf("sink got %v", got)
			}
			msgs := s.Messages()
			if len(msgs) != 3 || !strings.Contains(string(msgs[0].Data), "\r\n.dot\r\n") {
				t.Errorf("sink messages %d, first %q", len(msgs), msgs[0].Data)
			}
			if msgs[2].From != "l-bounces+c=example.com@example.org" {
				t.Errorf("VERP sender = %q", msgs[2].From)
			}
			if err := c.Quit(); err != nil {
				t.Errorf("quit: %v", err)
			}
		})
	}
}

func TestConnectionDrops(t *testing.T) {
	t.Run("at rcpt", func(t *testing.T) {
		s := startSink(t)
		s.DropAtRcpt("boom@example.net")
		c := dial(t, s.Addr(), smtpclient.Options{})
		txs := []*smtpclient.Tx{
			{From: "x@example.org", Rcpts: []string{"a@example.com"}, Body: body},
			{From: "x@example.org", Rcpts: []string{"b@example.com", "boom@example.net"}, Body: body},
			{From: "x@example.org", Rcpts: []string{"c@example.com"}, Body: body},
		}
		done := run(t, c, txs)
		for i, n := range done {
			if n != 1 {
				t.Errorf("tx %d: Done ran %d times", i, n)
			}
		}
		// tx 0's final reply comes after tx 1's envelope went out: it is
		// either delivered or unknown, never lost silently.
		if r := txs[0].Result(0); r.Code != 250 && txs[0].Err == nil {
			t.Errorf("tx 0: %v err %v", r, txs[0].Err)
		}
		for _, i := range []int{1, 2} {
			if txs[i].Err == nil {
				t.Errorf("tx %d: no error after the drop", i)
			}
			if r := txs[i].Result(0); r.Code != 0 || !r.Temporary() {
				t.Errorf("tx %d result %v, want unknown (temporary)", i, r)
			}
		}
		if c.Broken() == nil {
			t.Error("connection not marked broken")
		}
	})
	t.Run("after data", func(t *testing.T) {
		s := startSink(t)
		s.DropAfterData(1)
		c := dial(t, s.Addr(), smtpclient.Options{})
		txs := []*smtpclient.Tx{{From: "x@example.org", Rcpts: []string{"a@example.com"}, Body: body}}
		run(t, c, txs)
		if txs[0].Err == nil || txs[0].Result(0).Code != 0 {
			t.Errorf("final reply lost but tx reported %v / %v", txs[0].Result(0), txs[0].Err)
		}
		if n := s.Recipients()["a@example.com"]; n != 1 {
			t.Errorf("sink recorded %d copies", n)
		}
	})
	t.Run("before body hook fails", func(t *testing.T) {
		s := startSink(t)
		c := dial(t, s.Addr(), smtpclient.Options{})
		tx := &smtpclient.Tx{From: "x@example.org", Rcpts: []string{"a@example.com"}, Body: body,
			BeforeBody: func() error { return fmt.Errorf("journal down") }}
		if err := c.Send(tx); err == nil || tx.Err == nil {
			t.Fatalf("Send = %v, tx.Err = %v; want both set", err, tx.Err)
		}
		time.Sleep(50 * time.Millisecond)
		if len(s.Messages()) != 0 {
			t.Error("message delivered although the body was never sent")
		}
	})
}

// TestPostfixSmtpSink runs the client against Postfix's smtp-sink, with and
// without PIPELINING, and with every RCPT refused temporarily.
func TestPostfixSmtpSink(t *testing.T) {
	bin := "/usr/sbin/smtp-sink"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("SKIP: Postfix smtp-sink not installed (apt-get install -y postfix)")
	}
	cases := []struct {
		name   string
		args   []string
		pipe   bool
		result int
	}{
		{"pipelining", nil, true, 250},
		{"lock-step", []string{"-p"}, false, 250},
		{"rcpt refused", []string{"-r", "RCPT"}, false, 450}, // -r implies -p
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := startSmtpSink(t, bin, c.args...)
			conn := dial(t, addr, smtpclient.Options{Window: 16})
			if conn.Pipelining() != c.pipe {
				t.Fatalf("Pipelining() = %v, want %v", conn.Pipelining(), c.pipe)
			}
			var txs []*smtpclient.Tx
			for i := range 50 {
				rc := make([]string, 1+i%40)
				for k := range rc {
					rc[k] = fmt.Sprintf("u%d.%d@example.com", i, k)
				}
				txs = append(txs, &smtpclient.Tx{From: "l-bounces@example.org", Rcpts: rc, Body: body})
			}
			run(t, conn, txs)
			for i, tx := range txs {
				if tx.Err != nil {
					t.Fatalf("tx %d: %v", i, tx.Err)
				}
				for k := range tx.Rcpts {
					if r := tx.Result(k); r.Code/10 != c.result/10 {
						t.Fatalf("tx %d rcpt %d: %v, want %d", i, k, r, c.result)
					}
				}
			}
			if err := conn.Quit(); err != nil {
				t.Errorf("quit: %v", err)
			}
		})
	}
}

func startSmtpSink(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	argv := append(append([]string{}, args...), addr, "64")
	if os.Geteuid() == 0 {
		argv = append([]string{"-u", "nobody"}, argv...)
	}
	cmd := exec.Command(bin, argv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("smtp-sink did not listen on %s", addr)
	return ""
}

// TestStalledServerTimesOut: an MTA that stops replying, after a reply and
// part of the next in one write, makes the transaction fail once Timeout
// passes without progress instead of hanging the connection.
func TestStalledServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		c.Write([]byte("220 stall.example ESMTP\r\n"))
		c.Read(buf) // EHLO
		c.Write([]byte("250-stall.example\r\n250 PIPELINING\r\n"))
		c.Read(buf)                           // MAIL, RCPT, DATA (pipelined)
		c.Write([]byte("250 2.1.0 ok\r\n25")) // MAIL's reply and a piece of RCPT's
		for {                                 // then silence, reading what comes
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	c := dial(t, ln.Addr().String(), smtpclient.Options{Timeout: 300 * time.Millisecond})
	defer c.Close()
	errc := make(chan error, 1)
	go func() {
		if err := c.Send(&smtpclient.Tx{From: "l-bounces@example.org", Rcpts: []string{"a@example.com"}, Body: body}); err != nil {
			errc <- err
			return
		}
		errc <- c.Flush()
	}()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a stalled MTA's transaction succeeded")
		}
		t.Logf("stalled MTA: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no error 30 s after the MTA stalled with a 300 ms timeout")
	}
}

// TestRcptLineBreakRefused: a recipient with a line break in it is an
// error, never a second command on the wire.
func TestRcptLineBreakRefused(t *testing.T) {
	s := startSink(t)
	c := dial(t, s.Addr(), smtpclient.Options{})
	defer c.Close()
	err := c.Send(&smtpclient.Tx{From: "l-bounces@example.org", Rcpts: []string{"a@example.com>\r\nRCPT TO:<evil@example.net"}, Body: body})
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("Send with a line break in a recipient: %v", err)
	}
	if got := s.Recipients(); len(got) != 0 {
		t.Errorf("sink got %v", got)
	}
}
