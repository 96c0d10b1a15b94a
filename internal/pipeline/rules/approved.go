package rules

import (
	"context"

	"herald/internal/pipeline"
)

// Approved hits when a moderator released the post (herald held approve).
type Approved struct{}

// Name is the rule's name.
func (Approved) Name() string { return "approved" }

// Check hits for pre-approved posts.
func (Approved) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	return pipeline.Verdict{Hit: m.Approved, Reason: "approved by a moderator"}, nil
}
