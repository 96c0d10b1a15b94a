package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"herald/internal/mime"
	"herald/internal/notice"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// Acknowledge tells a member who asked for it (the acknowledge_posts
// preference) that their post went out. Automated posts (RFC 3834) and
// posts with "X-Ack: no" get no acknowledgement.
type Acknowledge struct{}

// Name is the handler's name.
func (Acknowledge) Name() string { return "acknowledge" }

// Handle adds the notice.
func (Acknowledge) Handle(ctx context.Context, m *pipeline.Message) error {
	if m.Sender == "" || noAnswer(m.Msg.Header) {
		return nil
	}
	ms, err := m.Roles(ctx, m.Sender)
	if err != nil {
		return fmt.Errorf("roles of %s: %w", m.Sender, err)
	}
	wants := false
	for _, mem := range ms {
		wants = wants || mem.Role == store.RoleMember && mem.AcknowledgePosts
	}
	if !wants {
		return nil
	}
	l := m.List
	subject := mime.DecodeWords(m.Msg.Header.Get("Subject"))
	body := fmt.Sprintf("Your message entitled\n\n    %s\n\nwas successfully received by the %s mailing list (%s).\n",
		oneLine(subject), l.Settings.DisplayName, l.Address())
	m.Notices = append(m.Notices, reply(m, l.Settings.DisplayName+" post acknowledgement", body))
	return nil
}

// noAnswer reports whether a post must get no automatic answer: it is
// automated (RFC 3834) or asks for none (X-Ack: no).
func noAnswer(h *mime.Header) bool {
	return notice.IsAutomated(h) || strings.EqualFold(strings.TrimSpace(h.Get("X-Ack")), "no")
}

// reply composes an automatic answer to the poster from LIST-owner.
func reply(m *pipeline.Message, subject, body string) pipeline.Notice {
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	msg := notice.Compose(notice.Notice{
		From: m.List.SubAddress("owner"), To: []string{m.Sender}, Subject: subject, Body: body,
		AutoSubmitted: "auto-replied", InReplyTo: strings.TrimSpace(m.Msg.Header.Get("Message-ID")),
	}, now)
	return pipeline.Notice{Recipients: []string{m.Sender}, Message: msg}
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
