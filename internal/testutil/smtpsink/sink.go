// Package smtpsink is a recording SMTP server on loopback for tests: it
// stores every message it accepts and can answer chosen recipients with a
// chosen reply, or drop the connection in the middle of a transaction.
package smtpsink

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted transaction.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Sink is a running SMTP sink.
type Sink struct {
	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	// replies maps a recipient to the error its RCPT gets.
	replies map[string]*smtp.SMTPError
	// dropAtData closes the connection at DATA when set.
	dropAtData bool
	// dropAtRcpt closes the connection when RCPT TO names one of these
	// recipients, each once.
	dropAtRcpt map[string]bool
	// dropAfterData closes the connection after DATA's body was received
	// (recorded), before the final reply, for that many transactions.
	dropAfterData int
	// delay slows every DATA down, so tests can act mid-fan-out.
	delay  time.Duration
	notify chan struct{}
}

// Start listens on 127.0.0.1 on a free port.
func Start() (*Sink, error) { return StartOn("127.0.0.1:0") }

// StartOn listens on addr (a test reopening a port after an outage).
func StartOn(addr string) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{ln: ln, replies: map[string]*smtp.SMTPError{}, notify: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s, conn: c}, nil }))
	srv.Domain = "sink.test.invalid"
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 100000
	srv.ErrorLog = discardLogger{}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }() // returns at Close
	return s, nil
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Port is the sink's port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Reply makes RCPT TO:<rcpt> fail with code and enhanced code text.
func (s *Sink) Reply(rcpt string, code int, enh smtp.EnhancedCode, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[strings.ToLower(rcpt)] = &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// ClearReplies makes every recipient succeed again.
func (s *Sink) ClearReplies() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = map[string]*smtp.SMTPError{}
	s.dropAtData = false
	s.dropAtRcpt = nil
	s.dropAfterData = 0
}

// DropAtData makes the sink close connections at DATA.
func (s *Sink) DropAtData(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAtData = on
}

// DropAtRcpt makes the sink close the connection, once, when a RCPT TO
// names rcpt (mid-transaction, before DATA).
func (s *Sink) DropAtRcpt(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropAtRcpt == nil {
		s.dropAtRcpt = map[string]bool{}
	}
	s.dropAtRcpt[strings.ToLower(rcpt)] = true
}

// DropAfterData makes the sink record the next n messages and then close
// the connection instead of replying: the client cannot know they were
// delivered, and must send them again (duplicates, never losses).
func (s *Sink) DropAfterData(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfterData = n
}

// Delay makes every DATA take at least d.
func (s *Sink) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Messages returns a copy of what was received.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Recipients returns how often each recipient received a message.
func (s *Sink) Recipients() map[string]int {
	out := map[string]int{}
	for _, m := range s.Messages() {
		for _, r := range m.To {
			out[strings.ToLower(r)]++
		}
	}
	return out
}

// WaitFor waits until cond holds for the received messages or timeout.
func (s *Sink) WaitFor(timeout time.Duration, cond func([]Message) bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond(s.Messages()) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-s.notify:
		case <-time.After(min(left, 100*time.Millisecond)):
		}
	}
}

type session struct {
	sink *Sink
	conn *smtp.Conn
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	e := s.sink.replies[strings.ToLower(to)]
	drop := s.sink.dropAtRcpt[strings.ToLower(to)]
	delete(s.sink.dropAtRcpt, strings.ToLower(to))
	s.sink.mu.Unlock()
	if drop {
		s.conn.Close()
		return errDrop
	}
	if e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

var errDrop = errors.New("dropping connection")

func (s *session) Data(r io.Reader) error {
	s.sink.mu.Lock()
	drop, delay := s.sink.dropAtData, s.sink.delay
	s.sink.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if drop {
		s.conn.Close()
		return errDrop
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, Message{From: s.from, To: append([]string(nil), s.to...), Data: b.Bytes()})
	dropAfter := s.sink.dropAfterData > 0
	if dropAfter {
		s.sink.dropAfterData--
	}
	s.sink.mu.Unlock()
	if dropAfter {
		s.conn.Close()
		return errDrop
	}
	select {
	case s.sink.notify <- struct{}{}:
	default:
	}
	return nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}
