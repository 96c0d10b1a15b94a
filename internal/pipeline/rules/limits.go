package rules

import (
	"context"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// MaxRecipients holds posts with at least max_num_recipients distinct
// addresses in To and Cc (Mailman counts the same way), a sign of spam.
type MaxRecipients struct{}

// Name is the rule's name.
func (MaxRecipients) Name() string { return "max-recipients" }

// Check counts the addresses.
func (MaxRecipients) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	limit := m.List.Settings.MaxNumRecipients
	if limit <= 0 {
		return pipeline.Verdict{}, nil
	}
	seen := map[string]bool{}
	for _, f := range []string{"To", "Cc"} {
		for _, a := range mime.AddressList(m.Msg.Header, f) {
			seen[strings.ToLower(a)] = true
		}
	}
	if len(seen) < limit {
		return pipeline.Verdict{}, nil
	}
	return pipeline.Verdict{Hit: true, Reason: fmt.Sprintf(
		"the post has %d recipients in To and Cc; the list holds posts with %d or more", len(seen), limit)}, nil
}

// MaxSize holds posts larger than max_message_size KiB.
type MaxSize struct{}

// Name is the rule's name.
func (MaxSize) Name() string { return "max-size" }

// Check compares the size as received.
func (MaxSize) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	limit := m.List.Settings.MaxMessageSize
	if limit <= 0 || m.Size <= limit*1024 {
		return pipeline.Verdict{}, nil
	}
	return pipeline.Verdict{Hit: true, Reason: fmt.Sprintf(
		"the post is %d KiB, larger than the list's limit of %d KiB", (m.Size+1023)/1024, limit)}, nil
}

// NoSenders holds posts without any sender identity (no From address and
// an empty envelope sender): nobody could be told anything about them.
type NoSenders struct{}

// Name is the rule's name.
func (NoSenders) Name() string { return "no-senders" }

// Check looks at the identities.
func (NoSenders) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	return pipeline.Verdict{Hit: len(m.Senders) == 0, Reason: "the post has no sender address"}, nil
}
