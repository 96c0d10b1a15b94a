package handlers

import (
	"context"
	"net/url"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// listFields are replaced on every post: a post relayed from another list
// must not keep that list's fields (RFC 2369 §3, RFC 2919 §3).
var listFields = []string{"List-Id", "List-Post", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Archive", "List-Owner"}

// RFC2369 adds List-Id (RFC 2919) and the RFC 2369 List-* fields.
//
// List-Unsubscribe carries the mailto of LIST-leave and, when BaseURL is
// set, the list's generic unsubscribe page BaseURL/lists/LIST@DOMAIN/unsubscribe
// (issue 6 serves it). A post that goes to every member alike cannot carry
// a one-click URL (RFC 8058 needs a per-member token), so List-Unsubscribe-Post
// is never added here: delivery adds it, with the member's own URL in
// List-Unsubscribe, when it personalizes each copy.
type RFC2369 struct {
	// BaseURL is herald's web address ([http] base_url), without a
	// trailing slash; "" leaves the URL out.
	BaseURL string
}

// Name is the handler's name.
func (RFC2369) Name() string { return "rfc-2369" }

// Handle replaces the list fields.
func (r RFC2369) Handle(_ context.Context, m *pipeline.Message) error {
	h := m.Msg.Header
	for _, f := range listFields {
		h.Del(f)
	}
	l := m.List
	h.Add("List-Id", ListID(l.Settings.DisplayName, l.Name, l.Domain))
	if !l.Settings.IncludeRFC2369Headers {
		return nil
	}
	if l.Settings.AllowListPosts {
		h.Add("List-Post", "<mailto:"+l.Address()+">")
	} else {
		h.Add("List-Post", "NO")
	}
	h.Add("List-Help", "<mailto:"+l.SubAddress("request")+"?subject=help>")
	h.Add("List-Subscribe", "<mailto:"+l.SubAddress("join")+">")
	unsub := "<mailto:" + l.SubAddress("leave") + ">"
	if u := UnsubscribeURL(r.BaseURL, l.Address()); u != "" {
		unsub += ", <" + u + ">"
	}
	h.Add("List-Unsubscribe", unsub)
	if l.Settings.ArchiveURL != "" {
		h.Add("List-Archive", "<"+l.Settings.ArchiveURL+">")
	}
	h.Add("List-Owner", "<mailto:"+l.SubAddress("owner")+">")
	return nil
}

// UnsubscribeURL returns the list's generic unsubscribe page, or "" when
// base is empty or not http(s).
func UnsubscribeURL(base, list string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") || strings.ContainsAny(base, "<>, \t\r\n") {
		return ""
	}
	return base + "/lists/" + url.PathEscape(list) + "/unsubscribe"
}

// ListID renders the RFC 2919 List-Id value: "Display Name <name.domain>".
// The phrase is encoded when it is not plain ASCII.
func ListID(display, name, domain string) string {
	id := "<" + name + "." + domain + ">"
	display = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '"' || r == '<' || r == '>' {
			return -1
		}
		return r
	}, display)
	if display == "" {
		return id
	}
	return mime.EncodeWords(display) + " " + id
}
