package rules

import (
	"context"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// approvalHeaders carry a moderator password (Mailman's names).
var approvalHeaders = []string{"Approved", "Approve", "X-Approved", "X-Approve"}

// maxPasswordChecks bounds the argon2id verifications one post can cause.
const maxPasswordChecks = 4

// Approved hits when a moderator released the post (herald held approve,
// or a reply to the hold notice), or when the post carries the list's
// moderator_password in an Approved:/Approve: header or as the first
// non-blank line of its first text/plain part. The password found is left
// in Meta for cleanse, which removes it before anything goes out.
type Approved struct{}

// Name is the rule's name.
func (Approved) Name() string { return "approved" }

// Check looks for a pre-approval or a valid password.
func (Approved) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	if m.Approved {
		return pipeline.Verdict{Hit: true, Reason: "approved by a moderator"}, nil
	}
	hash := m.List.Settings.ModeratorPassword
	if hash == "" {
		return pipeline.Verdict{}, nil
	}
	for i, pw := range passwordCandidates(m.Msg) {
		if i == maxPasswordChecks {
			break
		}
		if store.CheckPassword(hash, pw) {
			m.SetMeta(pipeline.MetaApprovedPassword, pw)
			return pipeline.Verdict{Hit: true, Reason: "approved with the moderator password"}, nil
		}
	}
	return pipeline.Verdict{}, nil
}

// passwordCandidates returns the values of the approval headers and the
// value of an "Approved: pw" first body line.
func passwordCandidates(msg *mime.Message) []string {
	var out []string
	for _, h := range approvalHeaders {
		for _, v := range msg.Header.Values(h) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	if pw, ok := bodyPassword(FirstText(msg)); ok {
		out = append(out, pw)
	}
	return out
}

// bodyPassword reads an "Approved: pw" (or "Approve:") pseudo-header on
// the first non-blank line of text.
func bodyPassword(text string) (string, bool) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return "", false
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "approved", "approve":
			value = strings.TrimSpace(value)
			return value, value != ""
		}
		return "", false
	}
	return "", false
}

// FirstText returns the decoded text of the first inline text/plain part
// (best effort: "" when there is none or the message does not parse).
func FirstText(msg *mime.Message) string {
	text := ""
	_ = mime.Walk(msg, func(p *mime.Part) error { // best effort: an error only ends the search
		if p.ContentType == "text/plain" && !p.IsAttachment() {
			text = p.Text()
			return errFound
		}
		return nil
	})
	return text
}
