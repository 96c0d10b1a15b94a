package main

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// sink is an SMTP server on loopback that herald delivers to and the
// ceiling client drives: it counts the recipients it has taken.
type sink interface {
	addr() string
	// expect starts waiting for n more recipients than the sink has now.
	expect(n int64) *expectation
	// count is the recipients taken so far.
	count() int64
	close() error
}

// tally counts a sink's recipients and times an expectation of them.
type tally struct {
	rcpts atomic.Int64
	mu    sync.Mutex
	exp   *expectation // set by expect
}

// expectation records when the first and the last of a number of
// recipients arrived: the bench waits on done instead of polling, so its
// timings carry no polling delay.
type expectation struct {
	base, target int64
	first, last  time.Time
	done         chan struct{}
}

func (t *tally) expect(n int64) *expectation {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := t.rcpts.Load()
	t.exp = &expectation{base: base, target: base + n, done: make(chan struct{})}
	return t.exp
}

func (t *tally) count() int64 { return t.rcpts.Load() }

// add counts n more recipients, taken now (sessions add concurrently).
func (t *tally) add(n int64) { t.reached(t.rcpts.Add(n)) }

// set records that total recipients have been taken by now (one reader
// follows the sink's own count).
func (t *tally) set(total int64) {
	t.rcpts.Store(total)
	t.reached(total)
}

// reached times the expectation against a new total.
func (t *tally) reached(total int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.exp
	if e == nil || !e.last.IsZero() {
		return
	}
	now := time.Now()
	if e.first.IsZero() && total > e.base {
		e.first = now
	}
	if total >= e.target {
		e.last = now
		close(e.done)
	}
}

// countSink is a minimal SMTP sink in this process that counts the
// recipients of every completed transaction. It answers pipelined
// commands in one write per batch (it flushes only when it has no more
// input buffered), so it costs little next to the client it measures:
// the strictest ceiling.
type countSink struct {
	tally
	ln         net.Listener
	msgs       atomic.Int64
	pipelining bool
}

func startSink(pipelining bool) (*countSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &countSink{ln: ln, pipelining: pipelining}
	go s.serve()
	return s, nil
}

func (s *countSink) addr() string { return s.ln.Addr().String() }

func (s *countSink) close() error { return s.ln.Close() }

func (s *countSink) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *countSink) session(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 16<<10)
	reply := func(line string) bool {
		w.WriteString(line)
		if r.Buffered() == 0 {
			return w.Flush() == nil
		}
		return true
	}
	reply("220 countsink ESMTP\r\n")
	var rcpts int64
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd := bytes.ToUpper(line[:min(4, len(line))])
		switch string(cmd) {
		case "EHLO":
			ext := "250-countsink\r\n250-8BITMIME\r\n"
			if s.pipelining {
				ext += "250-PIPELINING\r\n"
			}
			reply(ext + "250 ENHANCEDSTATUSCODES\r\n")
		case "HELO":
			reply("250 countsink\r\n")
		case "MAIL", "RSET":
			rcpts = 0
			reply("250 2.0.0 Ok\r\n")
		case "RCPT":
			rcpts++
			reply("250 2.1.5 Ok\r\n")
		case "DATA":
			if !reply("354 End data with <CR><LF>.<CR><LF>\r\n") {
				return
			}
			if !s.body(r) {
				return
			}
			s.add(rcpts)
			s.msgs.Add(1)
			rcpts = 0
			reply("250 2.0.0 Ok: queued\r\n")
		case "QUIT":
			w.WriteString("221 2.0.0 Bye\r\n")
			w.Flush()
			return
		default:
			reply("250 2.0.0 Ok\r\n")
		}
	}
}

// body reads up to the lone "." line.
func (s *countSink) body(r *bufio.Reader) bool {
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return false
		}
		if len(line) == 3 && line[0] == '.' && line[1] == '\r' {
			return true
		}
	}
}
