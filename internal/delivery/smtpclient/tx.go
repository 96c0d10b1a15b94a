package smtpclient

import (
	"errors"
	"fmt"
	"strings"
)

// Tx is one mail transaction: an envelope and a body. The caller fills
// the first group of fields; Send fills the replies and calls Done.
type Tx struct {
	From string
	// Params are extra MAIL FROM parameters ("BODY=8BITMIME", "XVERP"),
	// space separated, or "".
	Params string
	Rcpts  []string
	// Body is the wire form of the message (see Wire): CRLF lines,
	// dot-stuffed, ending with ".\r\n". It is written as is, never copied.
	Body []byte
	// BeforeBody, if set, runs after the server's 354 and before the body
	// is written; an error aborts the transaction by closing the
	// connection (DATA cannot be cancelled otherwise).
	BeforeBody func() error
	// Done, if set, is called exactly once, when the outcome of every
	// recipient is known or the connection failed.
	Done func(*Tx)

	// Mail, Rcpt, Data and Final are the replies to MAIL FROM, each RCPT
	// TO (in order), DATA (354 when the body may follow) and the final
	// reply after the body. Code 0: not known.
	Mail  Reply
	Rcpt  []Reply
	Data  Reply
	Final Reply
	// Err is set when the connection failed before every reply was read.
	Err error

	finished bool
}

// Result returns the reply that decides recipient i: the refusal of MAIL,
// of its RCPT or of DATA, else the final reply. Code 0 means the outcome
// is unknown because the connection failed (treat it as temporary).
func (t *Tx) Result(i int) Reply {
	switch {
	case t.Mail.Code == 0 || !t.Mail.Positive():
		return t.Mail
	case t.Rcpt[i].Code == 0 || !t.Rcpt[i].Positive():
		return t.Rcpt[i]
	case t.Data.Code != 354:
		return t.Data
	}
	return t.Final
}

func (t *Tx) finish(err error) {
	if t.finished {
		return
	}
	t.finished = true
	if err != nil && t.Final.Code == 0 {
		t.Err = err
	}
	if t.Done != nil {
		t.Done(t)
	}
}

// slot names the reply a written command waits for.
type slot struct {
	kind byte // 'R' RSET, 'M' MAIL, 'T' RCPT, 'D' DATA
	i    int
}

// Send runs t on the connection (see the package doc for the pipelining
// order). It returns an error when the connection broke; t (and a pending
// transaction) then have Err set and Done called. Replies that refuse
// recipients are not errors.
func (c *Conn) Send(t *Tx) error {
	t.Rcpt = make([]Reply, len(t.Rcpts))
	if c.broken != nil {
		c.fail(c.broken)
		t.finish(c.broken)
		return c.broken
	}
	var err error
	if c.pipe {
		err = c.sendPipelined(t)
	} else {
		err = c.sendLockstep(t)
	}
	if err != nil {
		err = c.breakWith(err)
		c.fail(err)
		t.finish(err)
	}
	return err
}

// mail writes MAIL FROM with the transaction's parameters.
func (c *Conn) mail(t *Tx) error {
	if t.Params != "" {
		return c.cmd("MAIL FROM:<", t.From, "> ", t.Params)
	}
	return c.cmd("MAIL FROM:<", t.From, ">")
}

// rcpt writes RCPT TO for recipient i.
// rcpt writes RCPT TO for t.Rcpts[i]: cmd's work for the one command a
// bulk transaction writes hundreds of times, without its variadic parts.
func (c *Conn) rcpt(t *Tx, i int) error {
	if c.broken != nil {
		return c.broken
	}
	a := t.Rcpts[i]
	if strings.IndexByte(a, '\n') >= 0 || strings.IndexByte(a, '\r') >= 0 {
		return fmt.Errorf("smtp: line break in command %.40q", "RCPT TO:<"+a+">")
	}
	if c.w.Available() < len(a)+len("RCPT TO:<>\r\n") {
		c.writeDeadline() // the buffer will write (and may block) before flush
	}
	c.w.WriteString("RCPT TO:<")
	c.w.WriteString(a)
	if _, err := c.w.WriteString(">\r\n"); err != nil {
		return c.breakWith(err) // bufio keeps the first write error: this one tells
	}
	return nil
}

func (c *Conn) sendPipelined(t *Tx) error {
	q := c.q[:0]
	defer func() { c.q = q[:0] }()
	if c.rset {
		q = append(q, slot{kind: 'R'})
		if err := c.cmd("RSET"); err != nil {
			return err
		}
	}
	q = append(q, slot{kind: 'M'})
	if err := c.mail(t); err != nil {
		return err
	}
	for i := range t.Rcpts {
		q = append(q, slot{kind: 'T', i: i})
		if err := c.rcpt(t, i); err != nil {
			return err
		}
		if len(q) >= c.opts.Window && i < len(t.Rcpts)-1 {
			if err := c.exchange(t, &q); err != nil {
				return err
			}
		}
	}
	q = append(q, slot{kind: 'D'})
	if err := c.cmd("DATA"); err != nil {
		return err
	}
	if err := c.exchange(t, &q); err != nil {
		return err
	}
	if sent, err := c.startBody(t); err != nil || !sent {
		return err
	}
	c.rset = false
	c.pending = t
	return nil
}

// startBody acts on DATA's reply: a refusal ends t and leaves the
// connection needing RSET; a 354 sends the body. It reports whether the
// body went out.
func (c *Conn) startBody(t *Tx) (bool, error) {
	if t.Data.Code != 354 {
		c.rset = true
		t.finish(nil)
		return false, nil
	}
	if err := c.writeBody(t); err != nil {
		return false, err
	}
	return true, nil
}

// exchange flushes what was written, reads the pending transaction's final
// reply, then the replies queued in q.
func (c *Conn) exchange(t *Tx, q *[]slot) error {
	if err := c.flush(); err != nil {
		return err
	}
	if err := c.readPending(); err != nil {
		return err
	}
	for _, s := range *q {
		r, err := c.readFor(true) // only refusals' texts are ever read
		if err != nil {
			return err
		}
		switch s.kind {
		case 'M':
			t.Mail = r
		case 'T':
			t.Rcpt[s.i] = r
		case 'D':
			t.Data = r
		}
	}
	*q = (*q)[:0]
	return nil
}

func (c *Conn) readPending() error {
	if c.pending == nil {
		return nil
	}
	p := c.pending
	r, err := c.read()
	if err != nil {
		return err
	}
	c.pending = nil
	p.Final = r
	p.finish(nil)
	return nil
}

func (c *Conn) writeBody(t *Tx) error {
	if t.BeforeBody != nil {
		if err := t.BeforeBody(); err != nil {
			return fmt.Errorf("before body: %w", err)
		}
	}
	if len(t.Body) < 3 || string(t.Body[len(t.Body)-3:]) != ".\r\n" {
		return errors.New("smtp: body is not in wire form (see Wire)")
	}
	c.writeDeadline() // a body larger than the buffer is written at once
	if _, err := c.w.Write(t.Body); err != nil {
		return err
	}
	return nil
}

// Flush sends what is buffered and reads the pending transaction's final
// reply, so its Done runs now.
func (c *Conn) Flush() error {
	if c.pending == nil {
		return c.broken
	}
	err := c.flush()
	if err == nil {
		err = c.readPending()
	}
	if err != nil {
		c.fail(err)
	}
	return err
}

func (c *Conn) sendLockstep(t *Tx) error {
	step := func(write error) (Reply, error) {
		if write != nil {
			return Reply{}, write
		}
		if err := c.flush(); err != nil {
			return Reply{}, err
		}
		return c.readFor(true)
	}
	var err error
	if c.rset {
		if _, err = step(c.cmd("RSET")); err != nil {
			return err
		}
		c.rset = false
	}
	if t.Mail, err = step(c.mail(t)); err != nil {
		return err
	}
	if !t.Mail.Positive() {
		t.finish(nil)
		return nil
	}
	accepted := 0
	for i := range t.Rcpts {
		if t.Rcpt[i], err = step(c.rcpt(t, i)); err != nil {
			return err
		}
		if t.Rcpt[i].Positive() {
			accepted++
		}
	}
	if accepted == 0 {
		c.rset = true
		t.finish(nil)
		return nil
	}
	if t.Data, err = step(c.cmd("DATA")); err != nil {
		return err
	}
	if sent, err := c.startBody(t); err != nil || !sent {
		return err
	}
	c.pending = t
	return c.Flush()
}
