package rules

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
)

// Banned hits when any identity of the post is banned on the list or
// globally (exact address or ^regexp; store.Bans).
type Banned struct{}

// Name is the rule's name.
func (Banned) Name() string { return "banned-address" }

// Check asks the store for every sender identity.
func (Banned) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	for _, s := range m.Senders {
		ok, err := m.Roster.IsBanned(ctx, m.List.ID, s)
		if err != nil {
			return pipeline.Verdict{}, fmt.Errorf("ban check of %s: %w", s, err)
		}
		if ok {
			return pipeline.Verdict{Hit: true, Reason: fmt.Sprintf("%s is banned from this list", s)}, nil
		}
	}
	return pipeline.Verdict{}, nil
}
