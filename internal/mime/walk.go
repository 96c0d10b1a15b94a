package mime

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Part is one leaf of a message's MIME tree, as Walk reports it.
type Part struct {
	Header      *Header           // the part's own header (the message header for a single-part message)
	Path        string            // position, IMAP style: "1" for a single-part message, else "1", "2.1", …
	Depth       int               // nesting level: 0 for a single-part message
	ContentType string            // lower case, "text/plain" when absent or invalid (RFC 2045 §5.2)
	Params      map[string]string // Content-Type parameters, lower-case names
	Charset     string            // lower-cased charset parameter, "" if none
	Disposition string            // lower-cased Content-Disposition type, "" if none
	Filename    string            // Content-Disposition filename or Content-Type name, decoded
	Encoding    string            // lower-cased Content-Transfer-Encoding, "" if none
	Body        []byte            // the content with its transfer encoding removed
}

// IsAttachment reports whether the part is marked as an attachment.
func (p *Part) IsAttachment() bool { return p.Disposition == "attachment" }

// Text returns the body converted from its charset to UTF-8, best effort:
// an unknown charset yields the bytes as UTF-8 with invalid bytes replaced.
func (p *Part) Text() string {
	s, err := decodeCharset(p.Charset, p.Body)
	if err != nil {
		return strings.ToValidUTF8(string(p.Body), "\uFFFD")
	}
	return s
}

// Walk calls fn for every leaf part of m in order, descending into
// multiparts and into attached messages (message/rfc822 that is not
// transfer-encoded). It stops at the first error from fn and returns it
// wrapped with the part path. A part whose header does not parse, nesting
// deeper than MaxDepth or more than MaxParts parts stop the walk with an
// error wrapping ErrMalformed or ErrLimit; the parts before it have been
// visited. A multipart without a boundary or delimiter is one leaf.
func Walk(m *Message, fn func(p *Part) error) error {
	if m == nil {
		return errors.New("mime: walk: nil message")
	}
	t := &tree{intoRFC822: true}
	root := rootEntity(m)
	return t.walk(root, func(e *entity) error {
		p := e.part()
		if err := fn(p); err != nil {
			return fmt.Errorf("mime: part %s: %w", p.Path, err)
		}
		return nil
	})
}

// part builds the Part for leaf e, decoding its body.
func (e *entity) part() *Part {
	p := &Part{
		Header:      e.header,
		Path:        e.path,
		Depth:       e.depth,
		ContentType: e.mediaType,
		Params:      e.params,
		Charset:     strings.ToLower(e.params["charset"]),
		Encoding:    transferEncoding(e.header),
	}
	if p.Path == "" {
		p.Path = "1"
	}
	p.Disposition, p.Filename = e.disposition()
	p.Body = decodeTransfer(e.body, p.Encoding)
	return p
}

// TextBody returns a best-effort UTF-8 plain-text rendering of m: the first
// inline text/plain part, else the first inline text/html part stripped of
// markup, at most MaxTextBytes long. Parts past a parse error or a limit are
// not seen; it returns "" if there is no text at all.
func TextBody(m *Message) string {
	if m == nil {
		return ""
	}
	var html *Part
	var text string
	_ = Walk(m, func(p *Part) error {
		if p.IsAttachment() {
			return nil
		}
		switch p.ContentType {
		case "text/plain":
			text = p.Text()
			return errStop
		case "text/html":
			if html == nil {
				html = p
			}
		}
		return nil
	}) // best effort: an error only ends the search
	if text == "" && html != nil {
		text = htmlToText(html.Text())
	}
	return truncateUTF8(text, MaxTextBytes)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
