package handlers

import (
	"context"
	"os"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// Decorate adds the list's header and footer texts, MIME-aware.
type Decorate struct{}

// Name is the handler's name.
func (Decorate) Name() string { return "decorate" }

// Handle expands the templates and adds them.
func (Decorate) Handle(_ context.Context, m *pipeline.Message) error {
	s := m.List.Settings
	if s.Header == "" && s.Footer == "" {
		return nil
	}
	vars := ListVars(m)
	return mime.Decorate(m.Msg, Expand(s.Header, vars), Expand(s.Footer, vars))
}

// ListVars are the template variables every list template may use.
func ListVars(m *pipeline.Message) map[string]string {
	l := m.List
	return map[string]string{
		"list_name":     l.Name,
		"display_name":  l.Settings.DisplayName,
		"listname":      l.Address(),
		"list_id":       l.Name + "." + l.Domain,
		"domain":        l.Domain,
		"description":   l.Settings.Description,
		"info":          l.Settings.Info,
		"request_email": l.SubAddress("request"),
		"owner_email":   l.SubAddress("owner"),
	}
}

// Expand substitutes $name and ${name}; unknown names are left as they are
// so a typo shows instead of vanishing.
func Expand(tmpl string, vars map[string]string) string {
	if tmpl == "" {
		return ""
	}
	return os.Expand(tmpl, func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return "$" + k
	})
}
