package handlers

import (
	"context"
	"fmt"
	"path"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// ContentFilter is Mailman's mime-delete: with filter_content on, it
// removes the parts whose type is in filter_types (or, when pass_types is
// set, not in it) and the attachments whose extension is in
// filter_extensions (or not in pass_extensions), replaces each
// multipart/alternative by its plain text part (collapse_alternatives),
// converts text/html to text/plain (convert_html_to_plaintext) and folds
// multiparts left with one part. Types match whole ("image/png") or by
// major type ("image"). Multiparts themselves are kept unless listed in
// filter_types; multipart/signed and multipart/encrypted are kept or
// removed whole, never changed inside.
//
// A post with nothing left ends with the list's filter_action (a Stop).
// A post whose MIME structure cannot be read (past package mime's limits,
// or a malformed part) is an error wrapping mime.ErrLimit or
// mime.ErrMalformed: the post runner shunts it with that reason.
type ContentFilter struct{}

// Name is the handler's name.
func (ContentFilter) Name() string { return "mime-delete" }

// Handle filters the post.
func (ContentFilter) Handle(_ context.Context, m *pipeline.Message) error {
	s := &m.List.Settings
	if !s.FilterContent {
		return nil
	}
	root, err := parseTree(m.Msg)
	if err != nil {
		return fmt.Errorf("content filter: %w", err)
	}
	f := filter{s: s}
	out := f.node(root)
	if out == nil {
		return &pipeline.Stop{Action: pipeline.Action(s.FilterAction),
			Reason: "the post has no content left after the list's content filtering"}
	}
	if !f.changed {
		return nil
	}
	if out != root {
		replaceContentFields(m.Msg.Header, out.header)
	}
	m.Msg.Body = out.bodyBytes()
	return nil
}

// filter carries one run's settings and whether anything changed.
type filter struct {
	s       *store.Settings
	changed bool
}

// node returns what replaces n: n itself (possibly changed), another
// node, or nil to remove it.
func (f *filter) node(n *node) *node {
	if f.matches(f.s.FilterTypes, n.mediaType) || len(f.s.PassTypes) > 0 && !n.multipart &&
		!f.matches(f.s.PassTypes, n.mediaType) || !n.multipart && f.extensionFiltered(n) {
		f.changed = true
		return nil
	}
	if n.mediaType == "multipart/signed" || n.mediaType == "multipart/encrypted" {
		return n
	}
	if !n.multipart {
		if n.mediaType == "text/html" && f.s.ConvertHTMLToPlaintext {
			n.setText("plain", mime.TextBody(&mime.Message{Header: n.header, Body: n.body}))
			f.changed = true
		}
		return n
	}
	kept := n.children[:0:0]
	for _, c := range n.children {
		if r := f.node(c); r != nil {
			kept = append(kept, r)
		}
	}
	if len(kept) != len(n.children) {
		f.changed = true
	}
	n.children = kept
	if n.mediaType == "multipart/alternative" && f.s.CollapseAlternatives && len(kept) > 0 {
		f.changed = true
		return preferPlain(kept)
	}
	switch len(kept) {
	case 0:
		f.changed = true
		return nil
	case 1:
		f.changed = true
		return kept[0]
	}
	return n
}

// preferPlain returns the first text/plain part of an alternative, else
// its first part.
func preferPlain(parts []*node) *node {
	for _, p := range parts {
		if p.mediaType == "text/plain" {
			return p
		}
	}
	return parts[0]
}

// matches reports whether type t is in list (entries "type/subtype" or a
// major "type").
func (f *filter) matches(list []string, t string) bool {
	major, _, _ := strings.Cut(t, "/")
	for _, e := range list {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == t || !strings.Contains(e, "/") && e == major {
			return true
		}
	}
	return false
}

// extensionFiltered reports whether a leaf's file name extension is
// filtered (or not passed).
func (f *filter) extensionFiltered(n *node) bool {
	name := n.filename()
	if name == "" {
		return false
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(strings.TrimSpace(name)), "."))
	has := func(list []string) bool {
		for _, e := range list {
			if strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), ".")) == ext {
				return true
			}
		}
		return false
	}
	return has(f.s.FilterExtensions) || len(f.s.PassExtensions) > 0 && !has(f.s.PassExtensions)
}

// replaceContentFields gives the message header the Content-* fields of
// the part that replaces the message's content.
func replaceContentFields(dst, src *mime.Header) {
	for _, f := range dst.Fields() {
		if strings.HasPrefix(strings.ToLower(f.Name), "content-") {
			dst.Del(f.Name)
		}
	}
	for _, f := range src.Fields() {
		if strings.HasPrefix(strings.ToLower(f.Name), "content-") {
			dst.Add(f.Name, f.Value)
		}
	}
	if !dst.Has("MIME-Version") {
		dst.Add("MIME-Version", "1.0")
	}
}
