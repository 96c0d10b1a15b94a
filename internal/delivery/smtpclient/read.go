package smtpclient

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxReplyLine bounds one reply line (RFC 5321 §4.5.3.1.5 says 512
// octets; servers exceed it in texts, so allow more).
const maxReplyLine = 8 << 10

// maxReplyLines bounds the lines of one multi-line reply.
const maxReplyLines = 100

// errLongLine is a reply line over maxReplyLine.
var errLongLine = errors.New("reply line too long")

// deadlineSlack is how stale a connection deadline may get before it is
// set again: setting one costs a runtime timer update, and a pipelined
// batch reads hundreds of replies, so deadlines are refreshed at most
// every Timeout/deadlineSlack and time out between (1-1/deadlineSlack)
// and 1 times Timeout after the last progress.
const deadlineSlack = 16

// readDeadline makes sure the read deadline is at least almost Timeout
// away.
func (c *Conn) readDeadline() {
	if now := time.Now(); now.Sub(c.rset0) > c.opts.Timeout/deadlineSlack {
		c.rset0 = now
		_ = c.nc.SetReadDeadline(now.Add(c.opts.Timeout)) // errors show on the read
	}
}

// lineBuffered reports whether a whole line is already buffered, so
// reading it cannot block and needs no fresh deadline (a pipelined batch
// reads hundreds of replies from a few reads, and looking up the time for
// each one was a tenth of a bulk delivery's CPU).
func (c *Conn) lineBuffered() bool {
	b, _ := c.r.Peek(c.r.Buffered()) // never fails for what is buffered
	return bytes.IndexByte(b, '\n') >= 0
}

// writeDeadline is readDeadline for writes.
func (c *Conn) writeDeadline() {
	if now := time.Now(); now.Sub(c.wset0) > c.opts.Timeout/deadlineSlack {
		c.wset0 = now
		_ = c.nc.SetWriteDeadline(now.Add(c.opts.Timeout)) // errors show on the write
	}
}

// line reads one reply line without its line ending. The slice is only
// valid until the next read.
func (c *Conn) line() ([]byte, error) {
	b, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errLongLine
	}
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if len(b) > maxReplyLine {
		return nil, errLongLine
	}
	return b, nil
}

// replyCode parses "250-text", "250 text" or "250": the code and whether
// more lines follow.
func replyCode(b []byte) (code int, more bool, err error) {
	if len(b) < 3 || (len(b) > 3 && b[3] != ' ' && b[3] != '-') {
		return 0, false, fmt.Errorf("malformed reply line %.40q", b)
	}
	for _, d := range b[:3] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("malformed reply line %.40q", b)
		}
		code = code*10 + int(d-'0')
	}
	if code < 200 || code > 599 {
		return 0, false, fmt.Errorf("reply code out of range in %.40q", b)
	}
	return code, len(b) > 3 && b[3] == '-', nil
}

// readReply reads one (possibly multi-line) reply. With brief, a
// single-line positive reply is returned with its Code only, without
// allocating: nothing reads the text of an accepted RCPT.
func (c *Conn) readReply(brief bool) (Reply, error) {
	code, lines, err := c.readLines(brief)
	if err != nil || lines == nil {
		return Reply{Code: code}, err
	}
	return parseReply(code, strings.Join(lines, "\n")), nil
}

// readLines reads one reply: its code and its text lines (nil for a
// brief positive one, see readReply).
func (c *Conn) readLines(brief bool) (int, []string, error) {
	if c.broken != nil {
		return 0, nil, c.broken
	}
	if !c.lineBuffered() {
		c.readDeadline() // this read may block
	}
	b, err := c.line()
	if err != nil {
		return 0, nil, c.breakWith(err)
	}
	code, more, err := replyCode(b)
	if err != nil {
		return 0, nil, c.breakWith(err)
	}
	if !more && brief && code < 400 {
		return code, nil, nil
	}
	lines := []string{text(b)}
	for more {
		if len(lines) == maxReplyLines {
			return 0, nil, c.breakWith(fmt.Errorf("reply of more than %d lines", maxReplyLines))
		}
		if b, err = c.line(); err != nil {
			return 0, nil, c.breakWith(err)
		}
		var k int
		if k, more, err = replyCode(b); err != nil {
			return 0, nil, c.breakWith(err)
		}
		if k != code {
			return 0, nil, c.breakWith(fmt.Errorf("reply code changed from %d to %d within a reply", code, k))
		}
		lines = append(lines, text(b))
	}
	return code, lines, nil
}

// text is a reply line without its code and separator.
func text(b []byte) string {
	if len(b) <= 4 {
		return ""
	}
	return string(b[4:])
}
