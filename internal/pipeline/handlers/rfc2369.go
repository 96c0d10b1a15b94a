package handlers

import (
	"context"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// listFields are replaced on every post: a post relayed from another list
// must not keep that list's fields (RFC 2369 §3, RFC 2919 §3).
var listFields = []string{"List-Id", "List-Post", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Archive", "List-Owner"}

// RFC2369 adds List-Id (RFC 2919) and the RFC 2369 List-* fields.
type RFC2369 struct{}

// Name is the handler's name.
func (RFC2369) Name() string { return "rfc-2369" }

// Handle replaces the list fields.
func (RFC2369) Handle(_ context.Context, m *pipeline.Message) error {
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
	h.Add("List-Unsubscribe", "<mailto:"+l.SubAddress("leave")+">")
	if l.Settings.ArchiveURL != "" {
		h.Add("List-Archive", "<"+l.Settings.ArchiveURL+">")
	}
	return nil
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
