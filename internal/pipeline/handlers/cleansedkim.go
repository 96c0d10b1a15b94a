package handlers

import (
	"context"

	"herald/internal/pipeline"
)

// dkimFields are the signature and verification results of the poster's
// domain, which the list's rewriting invalidates.
var dkimFields = []string{"DKIM-Signature", "DomainKey-Signature", "Authentication-Results"}

// CleanseDKIM removes the poster's DKIM signatures and authentication
// results when the list's remove_dkim_headers is on (Mailman's
// cleanse-dkim; off by default, so ARC and forensic uses keep them).
type CleanseDKIM struct{}

// Name is the handler's name.
func (CleanseDKIM) Name() string { return "cleanse-dkim" }

// Handle removes the fields.
func (CleanseDKIM) Handle(_ context.Context, m *pipeline.Message) error {
	if !m.List.Settings.RemoveDKIMHeaders {
		return nil
	}
	for _, f := range dkimFields {
		m.Msg.Header.Del(f)
	}
	return nil
}
