package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"herald/internal/pipeline"
)

// Replybot answers posts with the list's autoresponse_postings_text when
// autorespond_postings is respond_and_continue or respond_and_discard
// (Mailman's names), at most once per autoresponse_grace_period days and
// max_autoresponses_per_day times a day per address. Automated posts and
// posts with "X-Ack: no" get no answer. respond_and_discard then ends the
// post (a Stop), answered or not.
type Replybot struct{}

// Name is the handler's name.
func (Replybot) Name() string { return "replybot" }

// Handle answers the post.
func (Replybot) Handle(ctx context.Context, m *pipeline.Message) error {
	s := m.List.Settings
	if s.AutorespondPostings != "respond_and_continue" && s.AutorespondPostings != "respond_and_discard" {
		return nil
	}
	if m.Sender != "" && !noAnswer(m.Msg.Header) && strings.TrimSpace(s.AutoresponsePostingsText) != "" && m.Ledger != nil {
		grace := time.Duration(s.AutoresponseGracePeriod) * 24 * time.Hour
		ok, err := m.Ledger.AllowAutoresponse(ctx, m.List.ID, m.Sender, "postings", m.Now, s.MaxAutoresponsesPerDay, grace)
		if err != nil {
			return fmt.Errorf("autoresponse limit for %s: %w", m.Sender, err)
		}
		if ok {
			m.Notices = append(m.Notices, reply(m, "Auto-response for your message to "+m.List.Address(),
				Expand(s.AutoresponsePostingsText, ListVars(m))))
		}
	}
	if s.AutorespondPostings == "respond_and_discard" {
		return &pipeline.Stop{Action: pipeline.Discard, Reason: "the list answers posts automatically and discards them"}
	}
	return nil
}
