package rules

import (
	"context"

	"herald/internal/pipeline"
)

// Emergency hits every post while the list's emergency setting is on, so
// that only posts a moderator approves go out.
type Emergency struct{}

// Name is the rule's name.
func (Emergency) Name() string { return "emergency" }

// Check reads the setting.
func (Emergency) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	return pipeline.Verdict{Hit: m.List.Settings.Emergency,
		Reason: "the list is in emergency moderation: every post waits for a moderator"}, nil
}
