package lmtp

import (
	"errors"
	"net"
	"sync"
	"time"
)

// maxHeldReplies bounds the bytes of replies held back; past it they go
// at once (a client pipelining thousands of RCPTs still gets its replies).
const maxHeldReplies = 16 << 10

// readAhead is how much one read from the socket may take: go-smtp reads
// through a 4 KiB bufio.Reader, so a 64 KiB message took 16 reads.
const readAhead = 32 << 10

// replyConn holds a session's replies back until the session needs more
// input, then sends them in one write: RFC 2920 §3 has a server send the
// replies to a pipelined group together once its input buffer is empty,
// as Postfix's smtpd does. go-smtp writes every reply at once (one
// syscall each); a pipelining client (Postfix's LMTP client sends MAIL,
// RCPT and DATA in one packet) then gets three packets for one. A
// lock-step client loses nothing: the session reads right after each
// reply, and a read sends what is held first.
//
// go-smtp reads through a bufio.Reader, so Read is called only when the
// commands already received are all handled; Read reads ahead, and sends
// what is held only when it has no input left and must wait for the
// client: exactly when the client must see the replies. A reply written
// while a read is blocked (the LMTP statuses are written by one goroutine
// while another may still be reading the message) goes at once, so
// nothing the client waits for is ever held while the server waits for
// the client.
type replyConn struct {
	net.Conn
	mu      sync.Mutex
	held    []byte
	reading bool
	sendErr error // the last failed send of held replies, for Close

	// Input read ahead, used by the session's reader only (go-smtp
	// reads from one goroutine at a time): rbuf[rpos:rend], then rerr.
	rbuf       []byte
	rpos, rend int
	rerr       error
}

// replyListener wraps each accepted connection in a replyConn.
type replyListener struct{ net.Listener }

func (l replyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &replyConn{Conn: c}, nil
}

// Write holds p unless a read is waiting or too much is held already.
func (c *replyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reading || len(c.held)+len(p) > maxHeldReplies {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	c.held = append(c.held, p...)
	return len(p), nil
}

// Read returns input read ahead if there is any; else it sends the held
// replies, then reads. A failed send is not returned: the read after it
// reports the dead connection, as when go-smtp writes a reply itself (it
// ignores write errors); a client that connects and leaves (a port probe)
// is then an end of input, not an error to log.
func (c *replyConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.rpos == c.rend && c.rerr == nil {
		c.fill()
	}
	if c.rpos < c.rend {
		n := copy(p, c.rbuf[c.rpos:c.rend])
		c.rpos += n
		return n, nil
	}
	err := c.rerr
	c.rerr = nil
	return 0, err
}

// fill sends the held replies and waits for input.
func (c *replyConn) fill() {
	c.mu.Lock()
	if err := c.flushLocked(); err != nil {
		c.sendErr = err
	}
	c.reading = true
	c.mu.Unlock()
	if c.rbuf == nil {
		c.rbuf = make([]byte, readAhead)
	}
	n, err := c.Conn.Read(c.rbuf)
	c.mu.Lock()
	c.reading = false
	c.mu.Unlock()
	c.rpos, c.rend, c.rerr = 0, n, err
}

// closeFlushTimeout bounds sending the held replies at Close: a client that
// stopped reading must not hold a shutdown.
const closeFlushTimeout = 5 * time.Second

// Close sends the held replies (a 221 or 421 before the close) and closes.
func (c *replyConn) Close() error {
	c.mu.Lock()
	ferr := c.sendErr
	if len(c.held) > 0 {
		ferr = c.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
		ferr = errors.Join(ferr, c.flushLocked())
	}
	c.mu.Unlock()
	return errors.Join(ferr, c.Conn.Close())
}

func (c *replyConn) flushLocked() error {
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}
