// Package socketmap serves herald's routing tables to Postfix live, over
// Postfix's socketmap protocol (socketmap_table(5)): Postfix sends a
// netstring "NAME KEY" and reads one netstring reply, "OK DATA",
// "NOTFOUND ", "TEMP REASON" or "PERM REASON", on a connection it keeps
// open. Answers come from the store at the moment of the lookup, so the
// tables are never stale and need no postmap.
//
// Tables (Postfix: socketmap:inet:HOST:PORT:NAME):
//
//	recipients  list address (sub-addresses and -bounces+/-confirm+ included) → "herald"
//	domains     herald domain → "herald"
//	vmailbox    list address → "<domain>/<list>/<alias>/" (Maildir delivery)
//	transport   herald domain → the transport the config names
//
// Invariant: a store failure is TEMP, never NOTFOUND, so Postfix answers
// 4xx and the sender retries instead of getting a bounce.
package socketmap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"herald/internal/address"
	"herald/internal/status"
	"herald/internal/store"
)

// maxRequest bounds a request netstring (Postfix keys are short).
const maxRequest = 10000

// idleTimeout closes connections Postfix stopped using.
const idleTimeout = 5 * time.Minute

// Resolver maps a recipient to its list target (ingress.Ingress does).
type Resolver interface {
	Resolve(ctx context.Context, rcpt string) (address.Recipient, int64, error)
}

// Domains looks up a herald domain.
type Domains interface {
	GetDomain(ctx context.Context, name string) (*store.Domain, error)
}

// Server answers socketmap lookups.
type Server struct {
	res       Resolver
	domains   Domains
	transport string
	log       *slog.Logger

	mu     sync.Mutex
	ln     net.Listener
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// New returns a server; transport is the transport table's answer for a
// herald domain (e.g. "lmtp:[127.0.0.1]:8024").
func New(res Resolver, domains Domains, transport string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{res: res, domains: domains, transport: transport, log: log.With("component", "socketmap"), conns: map[net.Conn]struct{}{}}
}

// Serve answers on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close() // Close came first
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("socketmap accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close() // shutting down
			return nil
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// Close stops accepting, closes every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		_ = c.Close() // ending the session is the point
	}
	s.mu.Unlock()
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("socketmap close: %w", err)
	}
	return nil
}

func (s *Server) serveConn(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close() // the client went away or sent garbage
	}()
	r := bufio.NewReader(c)
	for {
		_ = c.SetDeadline(time.Now().Add(idleTimeout)) // best effort
		req, err := ReadNetstring(r, maxRequest)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("socketmap request", "err", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		reply := s.Lookup(ctx, string(req))
		cancel()
		if _, err := c.Write(Netstring([]byte(reply))); err != nil {
			return
		}
	}
}

// Lookup answers one request "NAME KEY".
func (s *Server) Lookup(ctx context.Context, req string) string {
	name, key, ok := strings.Cut(req, " ")
	if !ok || key == "" {
		return "PERM malformed request"
	}
	key = strings.ToLower(key)
	switch name {
	case "recipients", "vmailbox":
		if !strings.Contains(key, "@") || strings.HasPrefix(key, "@") {
			return "NOTFOUND "
		}
		r, _, err := s.res.Resolve(ctx, key)
		if err != nil {
			return errReply(err)
		}
		if name == "recipients" {
			return "OK herald"
		}
		return "OK " + r.Domain + "/" + r.List + "/" + string(r.Alias) + "/"
	case "domains", "transport":
		if strings.Contains(key, "@") || strings.HasPrefix(key, ".") {
			return "NOTFOUND " // transport_maps asks user@domain and .parent forms too
		}
		if _, err := s.domains.GetDomain(ctx, key); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "NOTFOUND "
			}
			s.log.Warn("socketmap domain lookup", "domain", key, "err", err)
			return "TEMP store unavailable"
		}
		if name == "domains" {
			return "OK herald"
		}
		return "OK " + s.transport
	}
	return "PERM unknown table " + name
}

func errReply(err error) string {
	if status.KindOf(err) == status.KindUnknownRecipient {
		return "NOTFOUND "
	}
	return "TEMP store unavailable"
}

// Netstring encodes b as "LEN:B,".
func Netstring(b []byte) []byte {
	out := strconv.AppendInt(nil, int64(len(b)), 10)
	out = append(out, ':')
	out = append(out, b...)
	return append(out, ',')
}

// ReadNetstring reads one netstring of at most max bytes.
func ReadNetstring(r *bufio.Reader, max int) ([]byte, error) {
	n := 0
	for digits := 0; ; digits++ {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == ':' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || digits > 6 {
			return nil, errors.New("netstring: bad length")
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return nil, fmt.Errorf("netstring: %d bytes over the limit of %d", n, max)
	}
	b := make([]byte, n+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[n] != ',' {
		return nil, errors.New("netstring: missing comma")
	}
	return b[:n], nil
}
