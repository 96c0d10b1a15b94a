package rules

import (
	"context"
	"regexp"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// numberVerb is a printf number in a subject prefix ("[dev %d] ").
var numberVerb = regexp.MustCompile(`%0?\d*d`)

// replyChain is a leading chain of reply and forward markers.
var replyChain = regexp.MustCompile(`(?i)^(?:\s*(?:re|aw|sv|vs|antw|fwd?|wg)\s*(?:\[\d+\])?\s*[:：]\s*)+`)

// bareSubject returns the decoded subject without the list's prefix and
// without leading reply markers.
func bareSubject(m *pipeline.Message) string {
	s := mime.DecodeWords(m.Msg.Header.Get("Subject"))
	if p := strings.TrimSpace(m.List.Settings.SubjectPrefix); p != "" {
		parts := numberVerb.Split(p, -1)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?i)` + strings.Join(parts, `\s*\d+\s*`)) // quoted: always compiles
		s = re.ReplaceAllString(s, "")
	}
	s = replyChain.ReplaceAllString(strings.TrimSpace(s), "")
	return strings.TrimSpace(s)
}

// NoSubject holds posts without a subject of their own (empty, or only
// the list's prefix and reply markers).
type NoSubject struct{}

// Name is the rule's name.
func (NoSubject) Name() string { return "no-subject" }

// Check looks at the subject.
func (NoSubject) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	return pipeline.Verdict{Hit: bareSubject(m) == "", Reason: "the post has no subject"}, nil
}

// digestSubject is how digest subjects read: "dev Digest, Vol 12, Issue 3".
var digestSubject = regexp.MustCompile(`(?i)\bdigest\b,?\s+vol(?:ume)?\.?\s*\d+`)

// DigestReply holds replies to a digest that kept the digest's subject
// (and usually quote the whole digest), when hold_digest_replies is on.
type DigestReply struct{}

// Name is the rule's name.
func (DigestReply) Name() string { return "digest-reply" }

// Check looks for a digest subject naming this list.
func (DigestReply) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	s := m.List.Settings
	if !s.HoldDigestReplies {
		return pipeline.Verdict{}, nil
	}
	subj := strings.ToLower(bareSubject(m))
	loc := digestSubject.FindStringIndex(subj)
	if loc == nil {
		return pipeline.Verdict{}, nil
	}
	before := subj[:loc[0]]
	if !strings.Contains(before, strings.ToLower(m.List.Name)) &&
		(s.DisplayName == "" || !strings.Contains(before, strings.ToLower(s.DisplayName))) {
		return pipeline.Verdict{}, nil
	}
	return pipeline.Verdict{Hit: true,
		Reason: "the post replies to a digest and keeps its subject; please reply with a subject of your own"}, nil
}
