package delivery

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// pool keeps up to size open SMTP connections to one MTA.
type pool struct {
	addr    string
	helo    string
	timeout time.Duration
	slots   chan struct{}     // one token per connection allowed
	idle    chan *smtp.Client // open, idle connections
}

func newPool(addr, helo string, size int, timeout time.Duration) *pool {
	p := &pool{addr: addr, helo: helo, timeout: timeout,
		slots: make(chan struct{}, size), idle: make(chan *smtp.Client, size)}
	for range size {
		p.slots <- struct{}{}
	}
	return p
}

// get returns an idle connection or dials a new one when a slot is free.
func (p *pool) get(ctx context.Context) (*smtp.Client, error) {
	select {
	case c := <-p.idle:
		// A connection idle for long may have been closed by the MTA;
		// RSET is cheap and tells.
		if err := c.Reset(); err == nil {
			return c, nil
		}
		_ = c.Close() // dead connection: its error says nothing new
		return p.dial(ctx)
	case <-p.slots:
		c, err := p.dial(ctx)
		if err != nil {
			p.slots <- struct{}{}
		}
		return c, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pool) dial(ctx context.Context) (*smtp.Client, error) {
	d := net.Dialer{Timeout: p.timeout}
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to MTA %s: %w", p.addr, err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = p.timeout
	c.SubmissionTimeout = 2 * p.timeout
	if err := c.Hello(p.helo); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("EHLO to MTA %s: %w", p.addr, err)
	}
	return c, nil
}

// put returns a healthy connection for reuse.
func (p *pool) put(c *smtp.Client) { p.idle <- c }

// discard closes a broken connection and frees its slot.
func (p *pool) discard(c *smtp.Client) {
	_ = c.Close() // already broken; the caller reports the original error
	p.slots <- struct{}{}
}

// close quits every idle connection.
func (p *pool) close() {
	for {
		select {
		case c := <-p.idle:
			_ = c.Quit() // best effort at shutdown
			p.slots <- struct{}{}
		default:
			return
		}
	}
}
