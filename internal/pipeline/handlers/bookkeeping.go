package handlers

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
)

// PostNumber does Mailman's after-delivery bookkeeping when the post gets
// its number, in one store transaction: the list's next post number
// (post_id), its last post time, and, when the poster is a member, the
// poster's post count (for moderate_first_posts). It runs after content
// filtering and the replybot, which may still end the post, so numbers and
// counts are not used up by posts that never go out.
type PostNumber struct{}

// Name is the handler's name.
func (PostNumber) Name() string { return "post-number" }

// Handle asks the ledger.
func (PostNumber) Handle(ctx context.Context, m *pipeline.Message) error {
	if m.Ledger == nil {
		return nil
	}
	counted := ""
	if m.Sender != "" {
		member, err := m.IsMember(ctx, m.Sender)
		if err != nil {
			return fmt.Errorf("roles of %s: %w", m.Sender, err)
		}
		if member {
			counted = m.Sender
		}
	}
	id, err := m.Ledger.NumberPost(ctx, m.List.ID, counted, m.Now)
	if err != nil {
		return fmt.Errorf("post number: %w", err)
	}
	m.PostID = id
	return nil
}
