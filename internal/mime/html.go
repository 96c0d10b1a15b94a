package mime

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// blockTags end a line of text when they open or close.
var blockTags = map[string]bool{
	"br": true, "p": true, "div": true, "li": true, "tr": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "pre": true, "hr": true, "ul": true, "ol": true,
}

// htmlToText renders HTML as plain text for archives and command parsing:
// markup, comments, scripts and styles are dropped, block elements end
// lines, entities are decoded and blank runs collapsed. Linear time; it is
// no sanitizer.
func htmlToText(s string) string {
	var b strings.Builder
	text := func(t string) { // whitespace runs, NBSP included, become one space
		t = html.UnescapeString(t)
		if t == "" {
			return
		}
		r, _ := utf8.DecodeRuneInString(t)
		if unicode.IsSpace(r) {
			b.WriteByte(' ')
		}
		b.WriteString(strings.Join(strings.Fields(t), " "))
		if r, _ := utf8.DecodeLastRuneInString(t); unicode.IsSpace(r) && strings.TrimSpace(t) != "" {
			b.WriteByte(' ')
		}
	}
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			text(s)
			break
		}
		text(s[:lt])
		s = s[lt:]
		if strings.HasPrefix(s, "<!--") {
			_, s, _ = strings.Cut(s[4:], "-->")
			continue
		}
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			break
		}
		closing := strings.HasPrefix(s, "</")
		name := tagName(s[1:gt])
		s = s[gt+1:]
		switch {
		case !closing && (name == "script" || name == "style"):
			s = s[indexEndTag(s, name):]
		case blockTags[name]:
			b.WriteByte('\n')
		}
	}
	return collapseLines(b.String())
}

// indexEndTag returns the offset of the end tag "</name" in s
// (case-insensitive), or len(s).
func indexEndTag(s, name string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j
		if end := i + 2 + len(name); end <= len(s) && strings.EqualFold(s[i+2:end], name) {
			return i
		}
		i += 2
	}
}

// tagName returns the lower-cased element name of a tag's inside.
func tagName(t string) string {
	t = strings.TrimPrefix(t, "/")
	end := strings.IndexAny(t, " \t\r\n/>")
	if end >= 0 {
		t = t[:end]
	}
	return strings.ToLower(t)
}

// collapseLines trims each line and keeps at most one blank line in a row.
func collapseLines(s string) string {
	var out []string
	blank := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			if blank++; blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
