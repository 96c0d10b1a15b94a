//go:build integration

package tests

import (
	"strings"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"
)

// TestModeratorReplyApproves: a moderator approves a held post by replying
// to the hold notice, and the post reaches the members.
func TestModeratorReplyApproves(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.MustRun("lists", "set", "dev@lists.example.org", "respond_to_post_requests=false")
	h.Start()

	h.SendLMTP("stranger@example.biz", []string{"dev@lists.example.org"},
		msg("stranger@example.biz", "dev@lists.example.org", "Please approve me", "held"))
	var notice smtpsink.Message
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool {
		for _, m := range ms {
			if strings.Contains(header(m.Data, "Subject"), "requires approval") {
				notice = m
				return true
			}
		}
		return false
	}) {
		t.Fatal("no hold notice")
	}
	replyTo := header(notice.Data, "Reply-To")
	replyTo = strings.Trim(replyTo[strings.LastIndex(replyTo, "<")+1:], "<> ")
	if !strings.HasPrefix(replyTo, "dev-confirm+") {
		t.Fatalf("hold notice Reply-To = %q, want dev-confirm+TOKEN", replyTo)
	}

	// A reply that is not a decision changes nothing.
	h.SendLMTP("owner@example.com", []string{replyTo},
		msg("owner@example.com", replyTo, "Re: "+header(notice.Data, "Subject"), "hmm, let me think\n\n> quoted notice"))
	// The decision.
	res := h.SendLMTP("owner@example.com", []string{replyTo},
		msg("owner@example.com", replyTo, "Re: "+header(notice.Data, "Subject"), "approve\n\n> quoted notice"))
	if res[0].Code != 250 {
		t.Fatalf("reply: %d %v", res[0].Code, res[0].Err)
	}
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool {
		n := 0
		for _, m := range ms {
			if strings.Contains(header(m.Data, "Subject"), "[dev] Please approve me") {
				n += len(m.To)
			}
		}
		return n >= 3
	}) {
		t.Fatalf("approved post not delivered; sink has %v", sortedRcpts(h.Sink.Messages()))
	}
	if out := strings.TrimSpace(h.MustRun("held", "ls", "dev@lists.example.org")); out != "" {
		t.Errorf("post still held: %q", out)
	}
}
