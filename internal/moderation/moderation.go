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
	"unicode"

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

// Hold stores the post with its reasons and a reply token, and returns
// the notices to send: to the list's owners and moderators (when
// admin_immed_notify is on: the reasons, the post attached, and how to
// decide by replying), and to the poster (when respond_to_post_requests
// is on, the poster is not automated, and the poster got fewer than
// max_autoresponses_per_day such notices from the list today). The caller
// makes the notices durable with its claim's Forward.
func (s *Service) Hold(ctx context.Context, l *store.List, p Post) (*store.Held, []spool.Item, error) {
	h := &store.Held{ListID: l.ID, Sender: p.Sender, EnvSender: p.EnvSender, Reasons: p.Reasons,
		Received: s.now(), Message: p.Raw, Token: NewToken()}
	m, perr := mime.Parse(p.Raw)
	if perr == nil {
		h.Subject = mime.DecodeWords(m.Header.Get("Subject"))
		h.MessageID = strings.TrimSpace(m.Header.Get("Message-ID"))
	}
	if err := s.store.HoldMessage(ctx, h); err != nil {
		return nil, nil, fmt.Errorf("hold post for %s: %w", l.Address(), err)
	}
	var items []spool.Item
	if l.Settings.AdminImmedNotify {
		mods, err := s.moderators(ctx, l)
		if err != nil {
			return h, nil, err
		}
		if len(mods) > 0 {
			items = append(items, OutItem(l, mods, s.moderatorNotice(l, h), s.now()))
		}
	}
	if perr == nil && l.Settings.RespondToPostRequests && h.Sender != "" && !notice.IsAutomated(m.Header) {
		ok, err := s.store.AllowAutoresponse(ctx, l.ID, h.Sender, "hold", s.now(), l.Settings.MaxAutoresponsesPerDay, 0)
		if err != nil {
			return h, nil, fmt.Errorf("hold notice limit for %s: %w", h.Sender, err)
		}
		if ok {
			items = append(items, OutItem(l, []string{h.Sender}, s.posterNotice(l, h), s.now()))
		}
	}
	return h, items, nil
}

// moderatorNotice tells the moderators about h and how to decide on it.
func (s *Service) moderatorNotice(l *store.List, h *store.Held) []byte {
	body := fmt.Sprintf("A post to %s from %s is held for approval.\n\nSubject: %s\nReasons:\n  - %s\n\n"+
		"Decide by replying to this message with one word as the first line of your reply:\n"+
		"  approve      the post goes out\n  reject REASON  the poster is told REASON\n  discard      the post is dropped\n"+
		"(an empty reply approves). The reply goes to %s.\n\n"+
		"Or on the server:\n  herald held approve %s %d\n  herald held reject %s %d\n  herald held discard %s %d\n",
		l.Address(), h.Sender, oneLine(h.Subject), strings.Join(oneLines(h.Reasons), "\n  - "), ReplyAddress(l, h.Token),
		l.Address(), h.ID, l.Address(), h.ID, l.Address(), h.ID)
	return notice.Compose(notice.Notice{
		From: l.SubAddress("request"), To: []string{l.SubAddress("owner")},
		Subject: fmt.Sprintf("%s post from %s requires approval (confirm %s)", l.Address(), h.Sender, h.Token),
		Body:    body, Attach: h.Message,
		Extra: [][2]string{{"Reply-To", ReplyAddress(l, h.Token)}},
	}, s.now())
}

// posterNotice tells the poster that h waits for a moderator. It names
// the subject and the reasons but attaches nothing: a forged sender must
// not receive the post's content.
func (s *Service) posterNotice(l *store.List, h *store.Held) []byte {
	body := fmt.Sprintf("Your message to %s with subject\n\n    %s\n\nis being held until a list moderator can review it.\n\n"+
		"Reasons:\n  - %s\n\nEither the message will go out, or you will be told the moderators' decision.\n"+
		"Questions go to the list's owners: %s\n",
		l.Address(), oneLine(h.Subject), strings.Join(oneLines(h.Reasons), "\n  - "), l.SubAddress("owner"))
	return notice.Compose(notice.Notice{
		From: l.SubAddress("owner"), To: []string{h.Sender},
		Subject: "Your message to " + l.Address() + " awaits moderator approval",
		Body:    body, AutoSubmitted: "auto-replied", InReplyTo: h.MessageID,
	}, s.now())
}

// oneLine makes poster-supplied text safe for one line of a notice:
// control characters (line breaks, terminal escapes) become spaces, and
// runs of spaces one.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func oneLines(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = oneLine(s)
	}
	return out
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

// ModeratorNotice returns a notice to l's owners and moderators with raw
// attached (content filtering's filter_action forward), or nothing when
// the list has none.
func (s *Service) ModeratorNotice(ctx context.Context, l *store.List, subject, body string, raw []byte) ([]spool.Item, error) {
	mods, err := s.moderators(ctx, l)
	if err != nil || len(mods) == 0 {
		return nil, err
	}
	n := notice.Compose(notice.Notice{
		From: l.SubAddress("request"), To: []string{l.SubAddress("owner")},
		Subject: subject, Body: body, Attach: raw,
	}, s.now())
	return []spool.Item{OutItem(l, mods, n, s.now())}, nil
}
