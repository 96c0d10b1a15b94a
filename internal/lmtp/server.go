package lmtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"herald/internal/address"

	"github.com/emersion/go-smtp"
)

// Backend is what a session needs from the rest of herald.
type Backend interface {
	// Resolve maps a recipient address to its list target and the largest
	// message that target accepts. Errors are classified with package
	// status (unknown recipient, temporary).
	Resolve(ctx context.Context, rcpt string) (address.Recipient, int64, error)
	// Accept makes the message durable for each recipient and returns one
	// error per recipient (nil: durable, may be acknowledged).
	Accept(ctx context.Context, sender string, rcpts []address.Recipient, data []byte) []error
}

// Options configure the server. Zero values take the defaults noted.
type Options struct {
	// Hostname in the greeting. Default "localhost".
	Hostname string
	// MaxMessageBytes is the site-wide limit, advertised with SIZE. Default 10 MiB.
	MaxMessageBytes int64
	// MaxRecipients per transaction. Default 1000.
	MaxRecipients int
	// Timeout for reads and writes on the connection. Default 5 minutes.
	Timeout time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Stats are counters for /metrics.
type Stats struct {
	Sessions, Messages, Accepted, Rejected, TempFailed atomic.Int64
	// Panics counts panics in session code (go-smtp recovers them and
	// answers 421); tests fail when it is not zero.
	Panics atomic.Int64
}

// countPanic records a panic and lets it continue to go-smtp's recovery,
// which answers the client. Deferred at the top of session methods.
func (s *Server) countPanic() {
	if p := recover(); p != nil {
		s.Stats.Panics.Add(1)
		s.log.Error("panic in lmtp session", "panic", p)
		panic(p)
	}
}

// Server is an LMTP server serving any number of listeners.
type Server struct {
	smtp    *smtp.Server
	backend Backend
	opts    Options
	log     *slog.Logger
	// Stats counts sessions and per-recipient outcomes.
	Stats Stats
}

// New returns a server that hands messages to b.
func New(b Backend, opts Options) *Server {
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 10 << 20
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 1000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{backend: b, opts: opts, log: opts.Logger.With("component", "lmtp")}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.LMTP = true
	srv.Domain = opts.Hostname
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.ReadTimeout = opts.Timeout
	srv.WriteTimeout = opts.Timeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogPrinter{s.log}
	s.smtp = srv
	return s
}

// Serve accepts connections on ln until Shutdown or Close; it returns nil
// after a shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.smtp.Serve(replyListener{ln})
	if errors.Is(err, net.ErrClosed) || errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lmtp serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// Shutdown stops accepting, waits for sessions to end until ctx is done,
// then closes the ones left. A recipient whose reply was not yet written
// never got a 250: its MTA will retry.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if cerr := s.smtp.Close(); cerr != nil && !errors.Is(cerr, smtp.ErrServerClosed) {
			return fmt.Errorf("lmtp close: %w", cerr)
		}
		return nil
	}
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("lmtp shutdown: %w", err)
	}
	return nil
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.Stats.Sessions.Add(1)
	remote := ""
	if a := c.Conn().RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &session{srv: s, log: s.log.With("remote", remote)}, nil
}

// slogPrinter adapts slog to go-smtp's Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.log.Warn(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.log.Warn(fmt.Sprint(v...)) }

// maxPrealloc caps the buffer readAll allocates on the client's word.
const maxPrealloc = 1 << 20

// readAll reads the DATA stream; go-smtp's reader enforces the site limit.
//
// sizeHint is the client's SIZE= (0 if none): with it the buffer is
// allocated once instead of doubling from 16 KiB, up to maxPrealloc, so a
// client cannot make herald reserve much memory with a SIZE it never sends.
func readAll(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	initial := int64(16 << 10)
	if sizeHint > 0 && sizeHint < maxPrealloc {
		initial = max(sizeHint+1, 512) // +1: room to see EOF without growing
	} else if sizeHint >= maxPrealloc {
		initial = maxPrealloc
	}
	if limit > 0 && limit < initial {
		initial = limit + 1
	}
	buf := make([]byte, 0, initial)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, smtp.ErrDataTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
