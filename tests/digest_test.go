//go:build integration

package tests

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/testutil/smtpsink"
)

// Digest members get no posts, then one digest with them all; regular
// members get each post. `herald digests send` runs beside serve (the
// spool is shared).
func TestDigestDelivery(t *testing.T) {
	h := newH(t)
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "dev@lists.example.org", "default_nonmember_action=accept")
	h.MustRun("members", "add", "dev@lists.example.org", "reg@example.net", "mime@example.net", "plain@example.net")
	h.MustRun("members", "set", "dev@lists.example.org", "mime@example.net", "delivery_mode=mime_digests")
	h.MustRun("members", "set", "dev@lists.example.org", "plain@example.net", "delivery_mode=plaintext_digests")
	h.Start()

	subjects := []string{"first post", "second post"}
	for i, s := range subjects { // one at a time: the runners number concurrent posts in any order
		for _, r := range h.SendLMTP("poster@example.com", []string{"dev@lists.example.org"},
			msg("poster@example.com", "dev@lists.example.org", s, "Body of the "+s+".\n------------------------------\nnot a separator")) {
			if r.Code != 250 {
				t.Fatalf("LMTP: %+v", r)
			}
		}
		if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(ms) > i }) {
			t.Fatalf("post %d not delivered: %d messages", i+1, len(h.Sink.Messages()))
		}
	}
	time.Sleep(500 * time.Millisecond) // anything wrongly sent to the digest members would be here too
	for _, m := range h.Sink.Messages() {
		if strings.Join(m.To, ",") != "reg@example.net" {
			t.Errorf("a post went to %v; only the regular member gets posts", m.To)
		}
	}
	if out := h.MustRun("digests", "ls"); !strings.Contains(out, "dev@lists.example.org: 2 post(s)") {
		t.Fatalf("digests ls: %q", out)
	}
	if out := h.MustRun("digests", "send", "--due"); !strings.Contains(out, "no digest to send") {
		t.Errorf("digests send --due sent a digest below the threshold: %q", out)
	}
	if out := h.MustRun("digests", "send"); !strings.Contains(out, "sent digest vol 1, issue 1 (2 posts) to 2 member(s)") {
		t.Fatalf("digests send: %q", out)
	}
	var mimeD, plainD []byte
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool {
		for _, m := range ms {
			switch strings.Join(m.To, ",") {
			case "mime@example.net":
				mimeD = m.Data
			case "plain@example.net":
				plainD = m.Data
			}
		}
		return mimeD != nil && plainD != nil
	}) {
		t.Fatalf("digests not delivered; sink has %d messages", len(h.Sink.Messages()))
	}
	checkMIMEDigest(t, mimeD, subjects)
	p := string(plainD)
	for _, want := range []string{"Subject: dev Digest, Vol 1, Issue 1", "Today's Topics:", "   1. [dev] first post (poster@example.com)",
		"Message: 2", "Body of the second post.", "\r\n ------------------------------\r\nnot a separator", "End of dev Digest, Vol 1, Issue 1"} {
		if !strings.Contains(p, want) {
			t.Errorf("plain digest lacks %q:\n%s", want, p)
		}
	}
	if out := h.MustRun("digests", "ls"); strings.Contains(out, "dev@") {
		t.Errorf("posts still waiting after the digest: %q", out)
	}
	// The next one is issue 2.
	h.SendLMTP("poster@example.com", []string{"dev@lists.example.org"}, msg("poster@example.com", "dev@lists.example.org", "third", "3"))
	waitFor(t, func() bool { return strings.Contains(h.MustRun("digests", "ls"), "1 post(s)") })
	if out := h.MustRun("digests", "send", "dev@lists.example.org"); !strings.Contains(out, "vol 1, issue 2 (1 posts)") {
		t.Errorf("second digest: %q", out)
	}
}

// checkMIMEDigest parses a MIME digest: each post is a message/rfc822
// part of a multipart/digest, in order.
func checkMIMEDigest(t *testing.T, raw []byte, subjects []string) {
	t.Helper()
	m, err := mime.Parse(raw)
	if err != nil {
		t.Fatalf("MIME digest does not parse: %v", err)
	}
	if s := m.Header.Get("Subject"); s != "dev Digest, Vol 1, Issue 1" {
		t.Errorf("MIME digest subject %q", s)
	}
	// Walk descends into message/rfc822 parts: masthead, topics, each
	// post's text, footer.
	var texts []string
	if err := mime.Walk(m, func(p *mime.Part) error {
		texts = append(texts, p.ContentType+": "+strings.TrimSpace(p.Text()))
		return nil
	}); err != nil {
		t.Fatalf("walk MIME digest: %v", err)
	}
	if len(texts) != 3+len(subjects) || !strings.Contains(texts[2], "Body of the first post.") ||
		!strings.Contains(texts[3], "Body of the second post.") || !strings.Contains(texts[4], "End of dev Digest") {
		t.Errorf("MIME digest parts: %q", texts)
	}
	if n := bytes.Count(raw, []byte("Content-Type: message/rfc822")); n != len(subjects) {
		t.Errorf("MIME digest has %d message/rfc822 parts, want %d", n, len(subjects))
	}
	at := 0
	for _, subj := range subjects {
		i := bytes.Index(raw[at:], []byte("Subject: [dev] "+subj))
		if i < 0 {
			t.Errorf("post %q missing or out of order in the MIME digest", subj)
			break
		}
		at += i + 1
	}
	if !bytes.Contains(raw, []byte("multipart/digest")) || !bytes.Contains(raw, []byte("Today's Topics (2 messages)")) {
		t.Errorf("MIME digest structure:\n%s", raw)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met in 10 s")
}
