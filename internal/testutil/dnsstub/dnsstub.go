// Package dnsstub is a tiny authoritative DNS server on loopback UDP for
// tests: it answers TXT (and, empty, any other type) for the names it is
// given, NXDOMAIN for the rest, and SERVFAIL for names set to fail. It
// counts queries so tests can check caching. It is no resolver and no
// general server: one question per query, no TCP, no EDNS.
package dnsstub

import (
	"errors"
	"net"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// Server is a running stub.
type Server struct {
	conn net.PacketConn
	done chan struct{}

	mu      sync.Mutex
	txt     map[string][]string
	fail    map[string]bool
	queries map[string]int
}

// Start listens on 127.0.0.1 on a free UDP port.
func Start() (*Server, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{conn: conn, done: make(chan struct{}), txt: map[string][]string{},
		fail: map[string]bool{}, queries: map[string]int{}}
	go s.serve()
	return s, nil
}

// Addr returns "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// Close stops the server and waits for it.
func (s *Server) Close() error {
	err := s.conn.Close()
	<-s.done
	return err
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// SetTXT makes name answer with these TXT records (none: remove it).
func (s *Server) SetTXT(name string, records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(records) == 0 {
		delete(s.txt, key(name))
		return
	}
	s.txt[key(name)] = records
}

// SetFail makes name answer SERVFAIL (or stop doing so).
func (s *Server) SetFail(name string, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[key(name)] = fail
}

// Queries returns how many queries for name arrived.
func (s *Server) Queries(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[key(name)]
}

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if resp, ok := s.answer(buf[:n]); ok {
			_, _ = s.conn.WriteTo(resp, addr) // a lost answer is a client timeout, as on a real network
		}
	}
}

// answer builds the response to one query.
func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := key(q.Name.String())
	s.mu.Lock()
	s.queries[name]++
	txts, known := s.txt[name]
	fail := s.fail[name]
	s.mu.Unlock()

	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	switch {
	case fail:
		rh.RCode = dnsmessage.RCodeServerFailure
	case !known:
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, false
	}
	if err := b.Question(q); err != nil {
		return nil, false
	}
	if err := b.StartAnswers(); err != nil {
		return nil, false
	}
	if !fail && q.Type == dnsmessage.TypeTXT {
		for _, t := range txts {
			rr := dnsmessage.TXTResource{TXT: split255(t)}
			if err := b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, rr); err != nil {
				return nil, false
			}
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// split255 cuts a TXT value into character-strings of at most 255 bytes.
func split255(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}
