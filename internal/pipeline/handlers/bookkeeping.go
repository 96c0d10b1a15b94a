package handlers

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
)

// PostNumber gives the post the list's next post number (Mailman's
// post_id) and records the list's last post time. It runs after content
// filtering and the replybot, which may still end the post, so numbers
// are not used up by posts that never go out.
type PostNumber struct{}

// Name is the handler's name.
func (PostNumber) Name() string { return "post-number" }

// Handle asks the ledger.
func (PostNumber) Handle(ctx context.Context, m *pipeline.Message) error {
	if m.Ledger == nil {
		return nil
	}
	id, err := m.Ledger.NextPostID(ctx, m.List.ID, m.Now)
	if err != nil {
		return fmt.Errorf("post number: %w", err)
	}
	m.PostID = id
	return nil
}

// AfterDelivery counts the post for its poster (per list and address, for
// moderate_first_posts); Mailman's after-delivery bookkeeping.
type AfterDelivery struct{}

// Name is the handler's name.
func (AfterDelivery) Name() string { return "after-delivery" }

// Handle records the post.
func (AfterDelivery) Handle(ctx context.Context, m *pipeline.Message) error {
	if m.Ledger == nil || m.Sender == "" {
		return nil
	}
	if _, err := m.Ledger.RecordPost(ctx, m.List.ID, m.Sender, m.Now); err != nil {
		return fmt.Errorf("count post of %s: %w", m.Sender, err)
	}
	return nil
}
