// Command lmtpload drives LMTP ingest against a running herald: N
// concurrent sessions each send messages of a given size to one list
// address, and it prints messages per second and the latency of the
// per-recipient reply (which herald only sends once the entry is durable).
//
//	lmtpload -addr 127.0.0.1:8024 -rcpt bench@lists.example.org -sessions 8 -size 4096 -duration 10s
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var pipelining *bool

func main() {
	var (
		addr     = flag.String("addr", "127.0.0.1:8024", "LMTP address (host:port or unix:/path)")
		rcpt     = flag.String("rcpt", "bench@lists.example.org", "recipient")
		sessions = flag.Int("sessions", 8, "concurrent LMTP sessions")
		size     = flag.Int("size", 4096, "message size in bytes")
		duration = flag.Duration("duration", 10*time.Second, "how long to send")
		perConn  = flag.Int("per-conn", 100, "messages per connection before reconnecting")
	)
	pipelining = flag.Bool("pipelining", true, "send MAIL, RCPT and DATA in one write (RFC 2920), as Postfix's LMTP client does; false: one command per round trip")
	flag.Parse()
	if err := run(*addr, *rcpt, *sessions, *size, *duration, *perConn); err != nil {
		fmt.Fprintln(os.Stderr, "lmtpload:", err)
		os.Exit(1)
	}
}

func run(addr, rcpt string, sessions, size int, d time.Duration, perConn int) error {
	var (
		sent, failed atomic.Int64
		mu           sync.Mutex
		lats         []time.Duration
		wg           sync.WaitGroup
		firstErr     atomic.Value
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range sessions {
		wg.Go(func() {
			var local []time.Duration
			seq := 0
			for time.Now().Before(deadline) {
				n, l, err := session(addr, rcpt, size, i, &seq, perConn, deadline)
				sent.Add(int64(n))
				local = append(local, l...)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					time.Sleep(10 * time.Millisecond)
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(float64(len(lats))*p))]
	}
	fmt.Printf("sessions=%d size=%d messages=%d seconds=%.2f msgs_per_sec=%.0f p50=%s p99=%s errors=%d\n",
		sessions, size, sent.Load(), el.Seconds(), float64(sent.Load())/el.Seconds(),
		pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), failed.Load())
	if e, ok := firstErr.Load().(error); ok && sent.Load() == 0 {
		return e
	}
	return nil
}

// session sends up to perConn messages on one connection.
func session(addr, rcpt string, size, worker int, seq *int, perConn int, deadline time.Time) (int, []time.Duration, error) {
	network := "tcp"
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
	}
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	c := &client{conn: conn, r: bufio.NewReaderSize(conn, 4096), pipelining: *pipelining}
	if _, err := c.reply('2'); err != nil { // greeting
		return 0, nil, err
	}
	if err := c.send("LHLO lmtpload\r\n"); err != nil {
		return 0, nil, err
	}
	if _, err := c.reply('2'); err != nil {
		return 0, nil, err
	}
	var lats []time.Duration
	n := 0
	body := messageBody(size - len(message(nil, nil, worker, *seq)))
	var msg []byte
	for ; n < perConn && time.Now().Before(deadline); n++ {
		*seq++
		msg = message(msg[:0], body, worker, *seq)
		t0 := time.Now()
		if err := c.transaction(rcpt, msg); err != nil {
			return n, lats, err
		}
		lats = append(lats, time.Since(t0))
	}
	if err := c.send("QUIT\r\n"); err != nil {
		return n, lats, err
	}
	_, err = c.reply('2')
	return n, lats, err
}

// client is a minimal LMTP client that costs the machine little next to
// the server it loads: the message is made ready for the wire once, and with
// pipelining MAIL, RCPT and DATA go in one write and the body with its
// end in another, as Postfix's LMTP client sends them to a server that
// offers PIPELINING.
type client struct {
	conn       net.Conn
	r          *bufio.Reader
	pipelining bool
}

func (c *client) send(s string) error {
	_, err := io.WriteString(c.conn, s)
	return err
}

// reply reads one (possibly multiline) reply and checks its class.
func (c *client) reply(class byte) (string, error) {
	var all strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("read reply: %w", err)
		}
		all.WriteString(line)
		if len(line) < 4 || line[3] != '-' {
			break
		}
	}
	got := all.String()
	if got == "" || got[0] != class {
		return got, fmt.Errorf("refused: %s", strings.TrimSpace(got))
	}
	return got, nil
}

// transaction sends one message to rcpt and reads its LMTP reply.
func (c *client) transaction(rcpt string, msg []byte) error {
	// SIZE= as Postfix's LMTP client declares it when the server offers SIZE.
	cmds := []string{"MAIL FROM:<load@example.com> SIZE=" + strconv.Itoa(len(msg)) + "\r\n", "RCPT TO:<" + rcpt + ">\r\n", "DATA\r\n"}
	classes := []byte{'2', '2', '3'}
	if c.pipelining {
		if err := c.send(strings.Join(cmds, "")); err != nil {
			return err
		}
		for _, cl := range classes {
			if _, err := c.reply(cl); err != nil {
				return err
			}
		}
	} else {
		for i, cmd := range cmds {
			if err := c.send(cmd); err != nil {
				return err
			}
			if _, err := c.reply(classes[i]); err != nil {
				return err
			}
		}
	}
	if _, err := c.conn.Write(msg); err != nil {
		return err
	}
	_, err := c.reply('2') // one recipient, one LMTP reply
	return err
}

// message appends to buf a message with a unique Subject and Message-ID
// and body, ready for the wire. The body is built once per session, so the
// client costs the machine little next to the server it measures.
func message(buf, body []byte, worker, seq int) []byte {
	buf = fmt.Appendf(buf, "From: load@example.com\r\nTo: bench\r\nSubject: load %d-%d\r\nMessage-ID: <%d.%d.%d@lmtpload>\r\n\r\n",
		worker, seq, time.Now().UnixNano(), worker, seq)
	return append(buf, body...)
}

// messageBody is a body of at least n bytes, ended with the lone dot (no
// line of it starts with a dot, so none needs stuffing).
func messageBody(n int) []byte {
	line := strings.Repeat("abcdefghij", 7) + "\r\n"
	b := make([]byte, 0, n+len(line)+3)
	for len(b) < n {
		b = append(b, line...)
	}
	return append(b, ".\r\n"...)
}
