package handlers

import (
	"context"

	"herald/internal/pipeline"
)

// CookHeaders adds Precedence: list and X-BeenThere (our loop mark).
type CookHeaders struct{}

// Name is the handler's name.
func (CookHeaders) Name() string { return "cook-headers" }

// Handle sets the fields.
func (CookHeaders) Handle(_ context.Context, m *pipeline.Message) error {
	if !m.Msg.Header.Has("Precedence") {
		m.Msg.Header.Add("Precedence", "list")
	}
	m.Msg.Header.Add("X-BeenThere", m.List.Address())
	return nil
}
