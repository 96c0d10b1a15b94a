package handlers

import (
	"context"

	"herald/internal/pipeline"
)

// cleansed are fields removed from every post: approval passwords must
// never reach members, and receipt requests would make every member's
// client answer the poster.
var cleansed = []string{
	"Approved", "Approve", "X-Approved", "X-Approve", "Urgent",
	"Return-Receipt-To", "Disposition-Notification-To", "X-Confirm-Reading-To", "X-PMRQC",
	"Archived-At",
}

// Cleanse removes fields that must not go out to members.
type Cleanse struct{}

// Name is the handler's name.
func (Cleanse) Name() string { return "cleanse" }

// Handle removes the fields.
func (Cleanse) Handle(_ context.Context, m *pipeline.Message) error {
	for _, f := range cleansed {
		m.Msg.Header.Del(f)
	}
	return nil
}
