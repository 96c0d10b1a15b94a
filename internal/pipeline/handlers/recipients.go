package handlers

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
	"herald/internal/store"
)

// Recipients computes who receives the post: members with delivery
// enabled in regular mode, minus the poster when they opted out of their
// own posts.
type Recipients struct{}

// Name is the handler's name.
func (Recipients) Name() string { return "recipients" }

// Handle walks the roster.
func (Recipients) Handle(ctx context.Context, m *pipeline.Message) error {
	m.Recipients = m.Recipients[:0]
	err := m.Roster.EachMember(ctx, m.List.ID, store.RoleMember, func(mem *store.Member) error {
		if mem.DeliveryStatus != store.DeliveryEnabled || mem.DeliveryMode != store.ModeRegular {
			return nil
		}
		if mem.Email == m.Sender && !mem.ReceiveOwnPostings {
			return nil
		}
		m.Recipients = append(m.Recipients, mem.Email)
		return nil
	})
	if err != nil {
		return fmt.Errorf("members of %s: %w", m.List.Address(), err)
	}
	return nil
}
