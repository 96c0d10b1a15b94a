package smtp_test

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// atOnceBackend serves LMTP sessions that implement LMTPDataAtOnce
// (herald's patch): LMTPData runs on the connection's goroutine.
type atOnceBackend struct {
	firstLines []string // the first line of each message, as read
	inline     []bool   // whether LMTPData ran on the connection's goroutine
}

func (be *atOnceBackend) NewSession(_ *smtp.Conn) (smtp.Session, error) {
	return &atOnceSession{be: be}, nil
}

type atOnceSession struct {
	be    *atOnceBackend
	rcpts []string
}

func (s *atOnceSession) Reset()        { s.rcpts = nil }
func (s *atOnceSession) Logout() error { return nil }
func (s *atOnceSession) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *atOnceSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *atOnceSession) Data(io.Reader) error { return errors.New("LMTP only") }
func (s *atOnceSession) LMTPDataAtOnce()      {}

// LMTPData reads only the first line (the rest must be discarded for
// the next command), panics if it says so, gives the first recipient a
// 250 and leaves the others to the returned error.
func (s *atOnceSession) LMTPData(r io.Reader, sc smtp.StatusCollector) error {
	stack := make([]byte, 1<<16)
	stack = stack[:runtime.Stack(stack, false)]
	// Only the connection's goroutine has Conn.handleData on its stack.
	s.be.inline = append(s.be.inline, strings.Contains(string(stack), "(*Conn).handleData("))
	line, _ := bufio.NewReader(r).ReadString('\n')
	s.be.firstLines = append(s.be.firstLines, strings.TrimSpace(line))
	if strings.Contains(line, "panic") {
		panic("asked to")
	}
	sc.SetStatus(s.rcpts[0], nil)
	return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "try later"}
}

func atOnceServer(t *testing.T) (*atOnceBackend, func(string) []string, func() bool) {
	be := &atOnceBackend{}
	_, s, c, scanner := testServer(t, func(s *smtp.Server) {
		s.LMTP = true
		s.Backend = be
		s.ErrorLog = smtpLogger{t}
	})
	t.Cleanup(func() { c.Close(); s.Close() })
	scanner.Scan() // greeting
	sendLHLO(t, scanner, c)
	// send writes a pipelined transaction to two recipients and returns
	// the server's replies to it (MAIL, two RCPT, DATA, then two).
	send := func(body string) []string {
		io.WriteString(c, "MAIL FROM:<a@example.org>\r\nRCPT TO:<x@example.org>\r\nRCPT TO:<y@example.org>\r\nDATA\r\n"+
			body+".\r\n")
		var out []string
		for i := 0; i < 6; i++ {
			if !scanner.Scan() {
				break
			}
			out = append(out, scanner.Text())
		}
		return out
	}
	closed := func() bool {
		io.WriteString(c, "NOOP\r\n")
		return !scanner.Scan()
	}
	return be, send, closed
}

type smtpLogger struct{ t *testing.T }

func (l smtpLogger) Printf(format string, v ...interface{}) { l.t.Logf(format, v...) }
func (l smtpLogger) Println(v ...interface{})               { l.t.Log(v...) }

func TestLMTPDataAtOnce(t *testing.T) {
	be, send, closed := atOnceServer(t)
	for i := 0; i < 2; i++ { // the second transaction reads cleanly after the unread rest of the first
		got := send("first line\r\nsecond line\r\n..stuffed\r\n")
		if len(got) != 6 || !strings.HasPrefix(got[3], "354 ") || !strings.HasPrefix(got[4], "250 2.0.0 <x@example.org>") ||
			!strings.HasPrefix(got[5], "450 4.2.0 <y@example.org> try later") {
			t.Fatalf("transaction %d: %q", i+1, got)
		}
	}
	if len(be.firstLines) != 2 || be.firstLines[1] != "first line" {
		t.Errorf("messages read: %q", be.firstLines)
	}
	if len(be.inline) != 2 || !be.inline[0] || !be.inline[1] {
		t.Errorf("LMTPData on the connection's goroutine: %v", be.inline)
	}
	if closed() {
		t.Fatal("connection closed after good transactions")
	}
}

func TestLMTPDataAtOncePanic(t *testing.T) {
	_, send, closed := atOnceServer(t)
	got := send("panic now\r\n")
	if len(got) < 6 || !strings.HasPrefix(got[4], "421 4.0.0 <x@example.org>") || !strings.HasPrefix(got[5], "421 4.0.0 <y@example.org>") {
		t.Fatalf("after a panic: %q", got)
	}
	if !closed() {
		t.Fatal("connection still open after a panic")
	}
}
