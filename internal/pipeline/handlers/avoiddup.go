package handlers

import (
	"context"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// maxExplicit bounds the To/Cc addresses avoid-duplicates looks up.
const maxExplicit = 100

// AvoidDuplicates removes from the recipients the members who are named
// in To or Cc (so they get the poster's own copy) and do not want a list
// copy as well (their receive_list_copy preference is off).
type AvoidDuplicates struct{}

// Name is the handler's name.
func (AvoidDuplicates) Name() string { return "avoid-duplicates" }

// Handle looks the explicit recipients up.
func (AvoidDuplicates) Handle(ctx context.Context, m *pipeline.Message) error {
	drop := map[string]bool{}
	n := 0
	for _, f := range []string{"To", "Cc"} {
		for _, a := range mime.AddressList(m.Msg.Header, f) {
			if n++; n > maxExplicit {
				break
			}
			a = strings.ToLower(a)
			if isListAddress(m, a) {
				continue // no member: spare the lookup
			}
			ms, err := m.Roles(ctx, a)
			if err != nil {
				return fmt.Errorf("roles of %s: %w", a, err)
			}
			for _, mem := range ms {
				if mem.Role == store.RoleMember && !mem.ReceiveListCopy {
					drop[mem.Email] = true
				}
			}
		}
	}
	if len(drop) == 0 {
		return nil
	}
	kept := m.Recipients[:0]
	for _, r := range m.Recipients {
		if !drop[r] {
			kept = append(kept, r)
		}
	}
	m.Recipients = kept
	return nil
}

// isListAddress reports whether a is the list's address or one of its
// sub-addresses (LIST-request, LIST-bounces+…).
func isListAddress(m *pipeline.Message, a string) bool {
	local, ok := strings.CutSuffix(a, "@"+m.List.Domain)
	if !ok {
		return false
	}
	rest, ok := strings.CutPrefix(local, m.List.Name)
	return ok && (rest == "" || rest[0] == '-' || rest[0] == '+')
}
