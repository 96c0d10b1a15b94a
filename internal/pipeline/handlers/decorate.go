package handlers

import (
	"context"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// The contract with delivery (issue 5) for per-member decoration.
//
// Templates (the header and footer settings) may use list variables
// (ListVars) and per-member variables (MemberVars: $user_address,
// $user_delivered_to, $user_email, $user_name, $user_language,
// $user_optionsurl, $user_unsubscribe_url). The post pipeline knows no
// member, so:
//
//   - personalize = none: Decorate decorates the post here, once for all
//     members; per-member variables expand to "".
//   - personalize = individual or full: Decorate does not touch the body.
//     It expands the list variables, keeps the per-member ones as written,
//     and leaves the texts in the out entries' envelope Meta:
//     OutMetaDecorate = "per-member", OutMetaHeader and OutMetaFooter.
//     Delivery expands $user_* for each member (os.Expand semantics, as
//     Expand here) and calls mime.Decorate on that member's copy.
const (
	OutMetaDecorate = "decorate"
	OutMetaHeader   = "decorate_header"
	OutMetaFooter   = "decorate_footer"
)

// MemberVars are the per-member template variables delivery expands.
var MemberVars = []string{"user_address", "user_delivered_to", "user_email", "user_name", "user_language", "user_optionsurl", "user_unsubscribe_url"}

// Decorate adds the list's header and footer texts, MIME-aware (see
// mime.Decorate: appended to a lone text/plain part in its own charset,
// else added as parts of a multipart/mixed; signed and encrypted content
// is wrapped, never changed), or hands them to delivery for personalized
// lists (see the contract above).
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
	if s.Personalize != "" && s.Personalize != "none" {
		for _, k := range MemberVars {
			vars[k] = "${" + k + "}" // kept for delivery
		}
		if m.OutMeta == nil {
			m.OutMeta = map[string]string{}
		}
		m.OutMeta[OutMetaDecorate] = "per-member"
		m.OutMeta[OutMetaHeader] = Expand(s.Header, vars)
		m.OutMeta[OutMetaFooter] = Expand(s.Footer, vars)
		return nil
	}
	for _, k := range MemberVars {
		vars[k] = ""
	}
	if err := mime.Decorate(m.Msg, Expand(s.Header, vars), Expand(s.Footer, vars)); err != nil {
		return fmt.Errorf("decorate: %w", err)
	}
	return nil
}

// ListVars are the template variables every list template may use.
func ListVars(m *pipeline.Message) map[string]string {
	vars := ListTemplateVars(m.List)
	vars["post_id"] = fmt.Sprint(m.PostID)
	return vars
}

// ListTemplateVars are ListVars without the post's own ($post_id): what
// a list's texts that belong to no one post (digests) may use.
func ListTemplateVars(l *store.List) map[string]string {
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

// Expand substitutes $name and ${name} (name: a letter or underscore,
// then letters, digits, underscores), like Mailman's safe_substitute:
// unknown names and a "$" that starts no name are left as written, so a
// typo shows instead of vanishing; "$$" is a literal "$".
func Expand(tmpl string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '$' || i+1 == len(tmpl) {
			b.WriteByte(c)
			continue
		}
		if tmpl[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		name, n := templateName(tmpl[i+1:])
		v, ok := vars[name]
		if name == "" || !ok {
			b.WriteByte(c)
			continue
		}
		b.WriteString(v)
		i += n
	}
	return b.String()
}

// templateName reads "name" or "{name}" at the start of s and returns the
// name and the bytes it took ("" and 0 if there is none).
func templateName(s string) (string, int) {
	braced := strings.HasPrefix(s, "{")
	start := 0
	if braced {
		start = 1
	}
	end := start
	for end < len(s) {
		c := s[end]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || end > start && c >= '0' && c <= '9' {
			end++
			continue
		}
		break
	}
	if end == start {
		return "", 0
	}
	if braced {
		if end == len(s) || s[end] != '}' {
			return "", 0
		}
		return s[start:end], end + 1
	}
	return s[:end], end
}
