package handlers

import (
	"context"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// SubjectPrefix adds the list's subject_prefix once, with the post number
// for "%d" (mime.PrefixSubject: RFC 2047 aware in any charset, never
// duplicated, reply and forward markers folded into one "Re:"/"Fwd:" after
// the prefix). An unchanged Subject keeps its bytes.
type SubjectPrefix struct{}

// Name is the handler's name.
func (SubjectPrefix) Name() string { return "subject-prefix" }

// Handle rewrites the Subject.
func (SubjectPrefix) Handle(_ context.Context, m *pipeline.Message) error {
	prefix := m.List.Settings.SubjectPrefix
	if prefix == "" {
		return nil
	}
	raw := m.Msg.Header.Get("Subject")
	if s := mime.PrefixSubject(raw, prefix, int(m.PostID)); s != raw || !m.Msg.Header.Has("Subject") {
		m.Msg.Header.Set("Subject", s)
	}
	return nil
}
