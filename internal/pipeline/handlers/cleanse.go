package handlers

import (
	"context"
	"fmt"
	stdmime "mime"
	"regexp"
	"strings"

	"herald/internal/mime"
	"herald/internal/notice"
	"herald/internal/pipeline"
)

// cleansed are fields removed from every post: approval passwords must
// never reach members, receipt requests would make every member's client
// answer the poster, and Archived-At names the poster's archive, not ours.
var cleansed = []string{
	"Approved", "Approve", "X-Approved", "X-Approve", "Urgent",
	"Return-Receipt-To", "Disposition-Notification-To", "X-Confirm-Reading-To", "X-PMRQC",
	"Archived-At",
}

// identifying are the fields an anonymous list removes besides From,
// Reply-To and Sender: each can name the poster or their machine.
var identifying = []string{
	"Organization", "Return-Path", "Received", "X-Originating-Email", "X-Originating-IP",
	"X-Envelope-From", "X-Sender", "X-Authenticated-Sender", "X-Authenticated-User",
	"DKIM-Signature", "DomainKey-Signature", "Authentication-Results", "ARC-Seal",
	"ARC-Message-Signature", "ARC-Authentication-Results", "X-Google-DKIM-Signature",
}

// Cleanse removes fields that must not go out to members, removes the
// moderator password a post was approved with from every header field and
// text part, and on an anonymous_list replaces the poster's identity with
// the list's (From and Reply-To become the list, the Message-ID is new).
type Cleanse struct{}

// Name is the handler's name.
func (Cleanse) Name() string { return "cleanse" }

// Handle removes the fields.
func (Cleanse) Handle(_ context.Context, m *pipeline.Message) error {
	h := m.Msg.Header
	for _, f := range cleansed {
		h.Del(f)
	}
	if pw := m.Meta[pipeline.MetaApprovedPassword]; pw != "" {
		if err := removePassword(m.Msg, pw); err != nil {
			return err
		}
	}
	if m.List.Settings.AnonymousList {
		anonymize(m)
	}
	return nil
}

// anonymize makes the list the post's only visible author.
func anonymize(m *pipeline.Message) {
	h, l := m.Msg.Header, m.List
	for _, f := range identifying {
		h.Del(f)
	}
	h.Del("Sender")
	h.Set("From", mailbox(l.Settings.DisplayName, l.Address()))
	h.Set("Reply-To", l.Address())
	h.Set("Message-ID", notice.MessageID(l.Domain))
}

// phrase returns a display name as an RFC 5322 phrase: ASCII is quoted
// when it has specials (quotes and backslashes escaped); anything else is
// one run of B-encoded words (RFC 2047 §5: encoded words in a phrase must
// not be quoted, and B keeps specials out of the way).
func phrase(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if !isASCII(s) {
		return stdmime.BEncoding.Encode("utf-8", s)
	}
	if !strings.ContainsAny(s, `()<>[]:;@\,."`) {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// mailbox renders "phrase <addr>", or addr alone without a name.
func mailbox(name, addr string) string {
	if strings.TrimSpace(name) == "" {
		return addr
	}
	return phrase(name) + " <" + addr + ">"
}

// removePassword removes "Approved: pw" lines and every other occurrence
// of pw from the text parts and header fields of msg. Parts without pw
// keep their bytes.
func removePassword(msg *mime.Message, pw string) error {
	for _, name := range fieldsContaining(msg.Header, pw) {
		vals := msg.Header.Values(name)
		msg.Header.Del(name)
		for _, v := range vals {
			msg.Header.Add(name, mime.EncodeWords(strings.ReplaceAll(mime.DecodeWords(v), pw, "")))
		}
	}
	tree, err := parseTree(msg)
	if err != nil {
		return fmt.Errorf("remove the approval password: %w", err)
	}
	pseudo := regexp.MustCompile(`(?i)approved?:[ \t]*` + regexp.QuoteMeta(pw)) // quoted: always compiles
	changed := false
	tree.leaves(func(n *node) {
		if !strings.HasPrefix(n.mediaType, "text/") || n.isAttachment() {
			return
		}
		text := n.text()
		if !strings.Contains(text, pw) {
			return
		}
		var out strings.Builder
		dropBlank := false
		for line := range strings.Lines(text) {
			if dropBlank && strings.TrimSpace(line) == "" {
				dropBlank = false
				continue
			}
			dropBlank = false
			if n.mediaType == "text/plain" && pseudo.MatchString(line) &&
				strings.TrimSpace(pseudo.ReplaceAllString(line, "")) == "" {
				dropBlank = true // the pseudo-header line and the blank line after it
				continue
			}
			out.WriteString(strings.ReplaceAll(pseudo.ReplaceAllString(line, ""), pw, ""))
		}
		n.setText(strings.TrimPrefix(n.mediaType, "text/"), out.String())
		changed = true
	})
	if changed {
		msg.Body = tree.bodyBytes()
		if !tree.multipart {
			copyContentFields(msg.Header, tree.header)
		}
	}
	return nil
}

// fieldsContaining returns the names of the fields that contain s, raw or
// decoded, each once.
func fieldsContaining(h *mime.Header, s string) []string {
	var names []string
	seen := map[string]bool{}
	for _, f := range h.Fields() {
		key := strings.ToLower(f.Name)
		if !seen[key] && (strings.Contains(f.Value, s) || strings.Contains(mime.DecodeWords(f.Value), s)) {
			seen[key] = true
			names = append(names, f.Name)
		}
	}
	return names
}

// copyContentFields makes dst's Content-Type and Content-Transfer-Encoding
// those of src (the root node's header is the message header itself, so
// this only matters when they are different headers).
func copyContentFields(dst, src *mime.Header) {
	if dst == src {
		return
	}
	for _, f := range []string{"Content-Type", "Content-Transfer-Encoding"} {
		if v := src.Get(f); v != "" {
			dst.Set(f, v)
		}
	}
}
