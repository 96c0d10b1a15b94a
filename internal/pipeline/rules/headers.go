package rules

import (
	"context"
	"fmt"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// HeaderMatch applies the list's header_matches: the first line whose
// regexp matches a (decoded) value of its header decides with its action;
// a line with action defer only stops the lines after it from deciding.
type HeaderMatch struct{}

// Name is the rule's name.
func (HeaderMatch) Name() string { return "header-match" }

// Check tries each line in order.
func (HeaderMatch) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	for _, line := range m.List.Settings.HeaderMatches {
		hm, err := store.ParseHeaderMatch(line, true)
		if err != nil {
			continue // Set validates; a line stored by other means is ignored
		}
		if v, ok := matchHeader(m.Msg.Header, hm); ok {
			return pipeline.Verdict{Hit: true, Action: pipeline.Action(hm.Action),
				Reason: fmt.Sprintf("header %s matched the list's rule %q (%q)", hm.Header, hm.Line, clip(v, 80))}, nil
		}
	}
	return pipeline.Verdict{}, nil
}

// SuspiciousHeader holds posts that match a line of the list's
// bounce_matching_headers (Mailman's suspicious-header rule).
type SuspiciousHeader struct{}

// Name is the rule's name.
func (SuspiciousHeader) Name() string { return "suspicious-header" }

// Check tries each line.
func (SuspiciousHeader) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	for _, line := range m.List.Settings.BounceMatchingHeaders {
		hm, err := store.ParseHeaderMatch(line, false)
		if err != nil {
			continue
		}
		if v, ok := matchHeader(m.Msg.Header, hm); ok {
			return pipeline.Verdict{Hit: true,
				Reason: fmt.Sprintf("suspicious header %s: %q", hm.Header, clip(v, 80))}, nil
		}
	}
	return pipeline.Verdict{}, nil
}

// matchHeader returns the first value of hm.Header that hm.Pattern matches,
// decoded from RFC 2047.
func matchHeader(h *mime.Header, hm store.HeaderMatch) (string, bool) {
	for _, v := range h.Values(hm.Header) {
		if d := mime.DecodeWords(v); hm.Pattern.MatchString(d) {
			return d, true
		}
	}
	return "", false
}

// clip shortens s to at most n bytes for a reason text.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
