// Package moderation holds posts for moderators and carries out their
// decisions: approve (the post re-enters the pipeline, pre-approved),
// reject (the poster is told why, unless the post was automated) and
// discard. The CLI, the REST API, the web UI and the post runner share it.
//
// Notices are returned or enqueued as spool items for the out queue; a
// decision removes the held message only after its consequences are
// durable in the spool, so a crash can repeat a decision but never lose it.
package moderation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"herald/internal/mime"
	"herald/internal/notice"
	"herald/internal/spool"
	"herald/internal/store"
)

// Spool is what moderation needs from the spool.
type Spool interface {
	EnqueueAll(ctx context.Context, items []spool.Item) ([]string, error)
}

// Service carries out moderation.
type Service struct {
	store store.Store
	spool Spool
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service.
func New(st store.Store, sp Spool, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, spool: sp, log: log.With("component", "moderation"), now: time.Now}
}

// Post is a message to hold.
type Post struct {
	Raw       []byte
	EnvSender string
	Sender    string
	Reasons   []string
}

// Hold stores the post and returns the notices to send to the list's
// moderators; the caller makes them durable (with its claim's Forward).
func (s *Service) Hold(ctx context.Context, l *store.List, p Post) (*store.Held, []spool.Item, error) {
	h := &store.Held{ListID: l.ID, Sender: p.Sender, EnvSender: p.EnvSender, Reasons: p.Reasons,
		Received: s.now(), Message: p.Raw}
	if m, err := mime.Parse(p.Raw); err == nil {
		h.Subject = mime.DecodeWords(m.Header.Get("Subject"))
		h.MessageID = strings.TrimSpace(m.Header.Get("Message-ID"))
	}
	if err := s.store.HoldMessage(ctx, h); err != nil {
		return nil, nil, fmt.Errorf("hold post for %s: %w", l.Address(), err)
	}
	if !l.Settings.AdminImmedNotify {
		return h, nil, nil
	}
	mods, err := s.moderators(ctx, l)
	if err != nil || len(mods) == 0 {
		return h, nil, err
	}
	body := fmt.Sprintf("A post to %s from %s is held for approval.\n\nSubject: %s\nReasons:\n  - %s\n\n"+
		"Decide with:\n  herald held approve %s %d\n  herald held reject %s %d\n  herald held discard %s %d\n",
		l.Address(), h.Sender, h.Subject, strings.Join(h.Reasons, "\n  - "),
		l.Address(), h.ID, l.Address(), h.ID, l.Address(), h.ID)
	n := notice.Compose(notice.Notice{
		From: l.SubAddress("request"), To: []string{l.SubAddress("owner")},
		Subject: fmt.Sprintf("%s post from %s requires approval", l.Address(), h.Sender),
		Body:    body, Attach: p.Raw,
	}, s.now())
	return h, []spool.Item{OutItem(l, mods, n, s.now())}, nil
}

// moderators returns the owners and moderators of l.
func (s *Service) moderators(ctx context.Context, l *store.List) ([]string, error) {
	var out []string
	for _, role := range []store.Role{store.RoleOwner, store.RoleModerator} {
		err := s.store.EachMember(ctx, l.ID, role, func(m *store.Member) error {
			out = append(out, m.Email)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("moderators of %s: %w", l.Address(), err)
		}
	}
	return out, nil
}

// OutItem wraps a message herald wrote for delivery to rcpts, with the
// list's bounce address as envelope sender.
func OutItem(l *store.List, rcpts []string, msg []byte, now time.Time) spool.Item {
	return spool.Item{Queue: spool.Out, Message: msg, Envelope: spool.Envelope{
		Domain: l.Domain, List: l.Name, Alias: "notice", Sender: l.SubAddress("bounces"),
		Recipients: rcpts, Arrived: now,
	}}
}

// Approve releases a held post: it re-enters the in queue marked approved,
// so it skips moderation but gets every handler.
func (s *Service) Approve(ctx context.Context, l *store.List, id int64) error {
	h, err := s.store.GetHeld(ctx, l.ID, id)
	if err != nil {
		return fmt.Errorf("approve %d on %s: %w", id, l.Address(), err)
	}
	item := spool.Item{Queue: spool.In, Message: h.Message, Envelope: spool.Envelope{
		Domain: l.Domain, List: l.Name, Alias: "post", Sender: h.EnvSender,
		Recipients: []string{l.Address()}, Arrived: s.now(), Meta: map[string]string{"approved": "1"},
	}}
	if _, err := s.spool.EnqueueAll(ctx, []spool.Item{item}); err != nil {
		return fmt.Errorf("approve %d on %s: %w", id, l.Address(), err)
	}
	s.log.Info("approved", "list", l.Name, "domain", l.Domain, "held", id, "sender", h.Sender)
	return s.delete(ctx, l, id)
}

// Reject tells the poster why the post was refused (never an automated
// sender, RFC 3834) and removes it.
func (s *Service) Reject(ctx context.Context, l *store.List, id int64, reason string) error {
	h, err := s.store.GetHeld(ctx, l.ID, id)
	if err != nil {
		return fmt.Errorf("reject %d on %s: %w", id, l.Address(), err)
	}
	if items := s.RejectNotice(l, h.Message, h.Sender, append(h.Reasons, reason)); len(items) > 0 {
		if _, err := s.spool.EnqueueAll(ctx, items); err != nil {
			return fmt.Errorf("reject %d on %s: %w", id, l.Address(), err)
		}
	}
	s.log.Info("rejected", "list", l.Name, "domain", l.Domain, "held", id, "sender", h.Sender)
	return s.delete(ctx, l, id)
}

// RejectNotice returns the notice telling sender that raw was rejected,
// or nothing when raw was automated or there is nobody to tell.
func (s *Service) RejectNotice(l *store.List, raw []byte, sender string, reasons []string) []spool.Item {
	m, err := mime.Parse(raw)
	if sender == "" || err == nil && notice.IsAutomated(m.Header) {
		return nil
	}
	subject, msgid := "", ""
	if err == nil {
		subject = mime.DecodeWords(m.Header.Get("Subject"))
		msgid = strings.TrimSpace(m.Header.Get("Message-ID"))
	}
	var rs []string
	for _, r := range reasons {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		rs = []string{"no reason given"}
	}
	body := fmt.Sprintf("Your message to %s with subject\n\n    %s\n\nwas rejected by the list's moderators.\n\nReasons:\n  - %s\n\n"+
		"Questions go to the list's owners: %s\n", l.Address(), subject, strings.Join(rs, "\n  - "), l.SubAddress("owner"))
	n := notice.Compose(notice.Notice{
		From: l.SubAddress("owner"), To: []string{sender}, Subject: "Your message to " + l.Address() + " was rejected",
		Body: body, AutoSubmitted: "auto-replied", InReplyTo: msgid, Attach: raw,
	}, s.now())
	return []spool.Item{OutItem(l, []string{sender}, n, s.now())}
}

// Discard drops a held post.
func (s *Service) Discard(ctx context.Context, l *store.List, id int64) error {
	s.log.Info("discarded", "list", l.Name, "domain", l.Domain, "held", id)
	return s.delete(ctx, l, id)
}

func (s *Service) delete(ctx context.Context, l *store.List, id int64) error {
	if err := s.store.DeleteHeld(ctx, l.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("remove held %d on %s: %w", id, l.Address(), err)
	}
	return nil
}
