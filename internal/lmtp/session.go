package lmtp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"herald/internal/address"
	"herald/internal/status"

	"github.com/emersion/go-smtp"
)

// opTimeout bounds a backend call so a stuck store cannot hold a session.
const opTimeout = 2 * time.Minute

type rcpt struct {
	raw     string // as the client sent it: the key go-smtp uses for status
	target  address.Recipient
	maxSize int64
}

type session struct {
	srv   *Server
	log   *slog.Logger
	from  string
	size  int64 // SIZE= from MAIL, 0 if absent
	rcpts []rcpt
}

var _ smtp.LMTPSession = (*session)(nil)

func (s *session) Reset() {
	s.from, s.size, s.rcpts = "", 0, nil
}

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.Reset()
	s.from = from
	if opts != nil {
		s.size = opts.Size
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	defer s.srv.countPanic()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	target, maxSize, err := s.srv.backend.Resolve(ctx, to)
	if err != nil {
		if status.KindOf(err) == status.KindUnknownRecipient {
			s.srv.Stats.Rejected.Add(1)
			s.log.Info("unknown recipient", "rcpt", to)
		} else {
			s.srv.Stats.TempFailed.Add(1)
			s.log.Warn("resolve recipient", "rcpt", to, "err", err)
		}
		return reply(err)
	}
	// RFC 1870 §6.2: a declared SIZE over the limit may be refused at RCPT.
	if s.size > 0 && maxSize > 0 && s.size > maxSize {
		s.srv.Stats.Rejected.Add(1)
		return reply(status.TooBig(errors.New("declared size over the list's limit")))
	}
	s.rcpts = append(s.rcpts, rcpt{raw: to, target: target, maxSize: maxSize})
	return nil
}

func (s *session) Data(r io.Reader) error {
	return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "LMTP only"}
}

// LMTPDataAtOnce tells go-smtp (herald's patch) that LMTPData sets the
// statuses only when the recipients' one commit is done, so it may run on
// the connection's goroutine.
func (s *session) LMTPDataAtOnce() {}

// LMTPData reads the message and gives each recipient its own status.
// RFC 2033 §4.2: one reply per successful RCPT, in order; go-smtp writes
// them in RCPT order from the statuses set here.
func (s *session) LMTPData(r io.Reader, sc smtp.StatusCollector) error {
	defer s.srv.countPanic()
	s.srv.Stats.Messages.Add(1)
	data, err := readAll(r, s.srv.opts.MaxMessageBytes, s.size)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		s.log.Warn("read data", "err", err)
		return reply(status.Temporary(err))
	}
	var (
		accept  []address.Recipient
		indexes []int
	)
	for i, rc := range s.rcpts {
		if rc.maxSize > 0 && int64(len(data)) > rc.maxSize {
			s.srv.Stats.Rejected.Add(1)
			sc.SetStatus(rc.raw, reply(status.TooBig(errors.New("message over the list's limit"))))
			continue
		}
		accept = append(accept, rc.target)
		indexes = append(indexes, i)
	}
	if len(accept) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	errs := s.srv.backend.Accept(ctx, s.from, accept, data)
	for j, i := range indexes {
		var e error
		if j < len(errs) {
			e = errs[j]
		} else {
			e = status.Temporary(errors.New("backend returned too few statuses"))
		}
		rc := s.rcpts[i]
		if e != nil {
			s.log.Warn("accept failed", "rcpt", rc.raw, "err", e)
			if status.IsTemporary(e) {
				s.srv.Stats.TempFailed.Add(1)
			} else {
				s.srv.Stats.Rejected.Add(1)
			}
			sc.SetStatus(rc.raw, reply(e))
			continue
		}
		s.srv.Stats.Accepted.Add(1)
		sc.SetStatus(rc.raw, nil)
	}
	return nil
}
