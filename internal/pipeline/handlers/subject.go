package handlers

import (
	"context"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// SubjectPrefix adds the list's subject_prefix once (mime.PrefixSubject
// knows not to repeat it after Re:).
type SubjectPrefix struct{}

// Name is the handler's name.
func (SubjectPrefix) Name() string { return "subject-prefix" }

// Handle rewrites the Subject.
func (SubjectPrefix) Handle(_ context.Context, m *pipeline.Message) error {
	prefix := m.List.Settings.SubjectPrefix
	if prefix == "" {
		return nil
	}
	m.Msg.Header.Set("Subject", mime.PrefixSubject(m.Msg.Header.Get("Subject"), prefix, int(m.PostID)))
	return nil
}
