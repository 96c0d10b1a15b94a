package rules

import (
	"context"
	"strings"

	"herald/internal/pipeline"
)

// Loop hits when the post already went through this list: it carries our
// List-Id (RFC 2919) or an X-BeenThere naming the list.
type Loop struct{}

// Name is the rule's name.
func (Loop) Name() string { return "loop" }

// Check looks for our own marks in the header.
func (Loop) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	addr := m.List.Address()
	id := "<" + m.List.Name + "." + m.List.Domain + ">"
	for _, v := range m.Msg.Header.Values("X-BeenThere") {
		if strings.EqualFold(strings.Trim(strings.TrimSpace(v), "<>"), addr) {
			return pipeline.Verdict{Hit: true, Reason: "the post already went through this list"}, nil
		}
	}
	for _, v := range m.Msg.Header.Values("List-Id") {
		if strings.Contains(strings.ToLower(v), id) {
			return pipeline.Verdict{Hit: true, Reason: "the post already went through this list"}, nil
		}
	}
	return pipeline.Verdict{}, nil
}
