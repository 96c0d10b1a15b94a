package smtpclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Options configure a connection.
type Options struct {
	// Helo is the name given in EHLO. Default "localhost".
	Helo string
	// Timeout bounds each network read or write. Default 2 minutes.
	Timeout time.Duration
	// Window is the most commands written before their replies are read.
	// Default 200.
	Window int
	// NoPipelining forces lock-step even when the server offers PIPELINING.
	NoPipelining bool
}

// Conn is one SMTP connection. It is not safe for concurrent use.
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	rset0   time.Time // when the read deadline was last set
	wset0   time.Time // when the write deadline was last set
	opts    Options
	ext     map[string]string
	pipe    bool
	q       []slot // scratch: the replies a pipelined batch waits for
	pending *Tx    // body written, final reply not yet read
	rset    bool   // the server may still hold a transaction: RSET first
	broken  error  // set once the connection failed; every later call fails
}

// Dial connects to addr, reads the greeting and says EHLO (HELO if the
// server refuses EHLO).
func Dial(ctx context.Context, network, addr string, opts Options) (*Conn, error) {
	if opts.Helo == "" {
		opts.Helo = "localhost"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Window <= 0 {
		opts.Window = 200
	}
	d := net.Dialer{Timeout: opts.Timeout}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	c := &Conn{nc: nc, opts: opts,
		r: bufio.NewReaderSize(nc, maxReplyLine+2), w: bufio.NewWriterSize(nc, 64<<10)}
	if err := c.greet(); err != nil {
		_ = nc.Close() // the greeting error is the one to report
		return nil, fmt.Errorf("smtp %s: %w", addr, err)
	}
	return c, nil
}

// ReplyError is a refusal during connection setup.
type ReplyError struct {
	Command string
	Reply   Reply
}

func (e *ReplyError) Error() string { return e.Command + ": " + e.Reply.String() }

func (c *Conn) greet() error {
	g, err := c.read()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if g.Code != 220 {
		return &ReplyError{"greeting", g}
	}
	if err := c.cmd("EHLO " + c.opts.Helo); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	code, lines, err := c.readLines(false)
	if err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if code == 421 {
		return &ReplyError{"EHLO", parseReply(code, strings.Join(lines, "\n"))}
	}
	if code == 250 {
		c.parseExt(lines)
		_, noPipe := c.ext["PIPELINING"]
		c.pipe = noPipe && !c.opts.NoPipelining
		return nil
	}
	if err := c.cmd("HELO " + c.opts.Helo); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	h, err := c.read()
	if err != nil {
		return fmt.Errorf("HELO: %w", err)
	}
	if h.Code != 250 {
		return &ReplyError{"HELO", h}
	}
	c.ext = map[string]string{}
	return nil
}

func (c *Conn) parseExt(lines []string) {
	c.ext = map[string]string{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		if k != "" {
			c.ext[strings.ToUpper(k)] = v
		}
	}
}

// Ext reports whether the server offered the EHLO keyword ext (upper
// case, e.g. "XVERP"), with its parameter.
func (c *Conn) Ext(ext string) (string, bool) {
	v, ok := c.ext[ext]
	return v, ok
}

// Pipelining reports whether transactions are pipelined.
func (c *Conn) Pipelining() bool { return c.pipe }

// Broken returns the error that broke the connection, or nil.
func (c *Conn) Broken() error { return c.broken }

// Pending reports whether a transaction waits for its final reply.
func (c *Conn) Pending() bool { return c.pending != nil }

// Close closes the connection without QUIT; a pending transaction is
// reported as failed.
func (c *Conn) Close() error {
	err := c.nc.Close()
	c.fail(errors.New("connection closed"))
	return err
}

// Quit completes a pending transaction, says QUIT and closes.
func (c *Conn) Quit() error {
	err := c.Flush()
	if err == nil {
		if err = c.cmd("QUIT"); err == nil {
			if err = c.flush(); err == nil {
				_, err = c.read()
			}
		}
	}
	return errors.Join(err, c.Close())
}

// cmd writes one command line made of parts.
func (c *Conn) cmd(parts ...string) error {
	if c.broken != nil {
		return c.broken
	}
	for _, p := range parts {
		if strings.IndexByte(p, '\n') >= 0 || strings.IndexByte(p, '\r') >= 0 {
			return fmt.Errorf("smtp: line break in command %.40q", strings.Join(parts, ""))
		}
	}
	n := len("\r\n")
	for _, p := range parts {
		n += len(p)
	}
	if c.w.Available() < n {
		c.writeDeadline() // the buffer will write (and may block) before flush
	}
	for _, p := range parts {
		if _, err := c.w.WriteString(p); err != nil {
			return c.breakWith(err)
		}
	}
	if _, err := c.w.WriteString("\r\n"); err != nil {
		return c.breakWith(err)
	}
	return nil
}

func (c *Conn) flush() error {
	if c.broken != nil {
		return c.broken
	}
	c.writeDeadline()
	if err := c.w.Flush(); err != nil {
		return c.breakWith(err)
	}
	return nil
}

// read reads one reply with its text. A 421 reply is returned, and
// breaks the connection for every later command (the server is closing
// it).
func (c *Conn) read() (Reply, error) { return c.readFor(false) }

// readFor reads one reply; brief skips the text of positive single-line
// replies (see readReply).
func (c *Conn) readFor(brief bool) (Reply, error) {
	r, err := c.readReply(brief)
	if err != nil {
		return Reply{}, err
	}
	if r.Code == 421 {
		c.broken = fmt.Errorf("server closing connection: %s", r)
		_ = c.nc.Close() // the server is closing it anyway
	}
	return r, nil
}

func (c *Conn) breakWith(err error) error {
	if c.broken == nil {
		c.broken = fmt.Errorf("smtp connection: %w", err)
		_ = c.nc.Close() // already failing; the first error is the one reported
	}
	return c.broken
}

// fail reports the pending transaction as failed with err.
func (c *Conn) fail(err error) {
	if c.pending != nil {
		t := c.pending
		c.pending = nil
		t.finish(err)
	}
}
