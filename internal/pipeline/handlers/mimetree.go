package handlers

import (
	"bytes"
	"errors"
	"fmt"
	stdmime "mime"
	"regexp"
	"strings"

	"herald/internal/mime"
)

// node is one entity of a post's MIME tree, for the handlers that remove
// or replace parts (content filtering, password removal). Unlike package
// mime, which edits a message in place and never restructures it, a tree
// is rebuilt from its nodes; headers keep their raw fields.
type node struct {
	header    *mime.Header
	body      []byte // leaves: the transfer-encoded body
	mediaType string // lower case
	params    map[string]string
	nl        string

	// multiparts
	boundary  string
	preamble  []byte
	epilogue  []byte
	children  []*node
	multipart bool
}

// treeLimits bound the work of parsing one tree.
type treeLimits struct{ parts int }

var errNotTree = errors.New("not a MIME tree")

// parseTree parses m into a tree, within package mime's limits on depth
// and part count (the error then wraps mime.ErrLimit) and its rules for
// malformed parts (mime.ErrMalformed).
func parseTree(m *mime.Message) (*node, error) {
	lim := &treeLimits{}
	return lim.parse(m.Header, m.Body, lineEnd(m.Bytes()), 0, "1")
}

func (lim *treeLimits) parse(h *mime.Header, body []byte, nl string, depth int, path string) (*node, error) {
	if depth > mime.MaxDepth {
		return nil, fmt.Errorf("%w: part %s: nested deeper than %d", mime.ErrLimit, path, mime.MaxDepth)
	}
	if lim.parts++; lim.parts > mime.MaxParts {
		return nil, fmt.Errorf("%w: part %s: more than %d parts", mime.ErrLimit, path, mime.MaxParts)
	}
	n := &node{header: h, body: body, nl: nl}
	n.mediaType, n.params = mediaType(h.Get("Content-Type"))
	b := n.params["boundary"]
	if !strings.HasPrefix(n.mediaType, "multipart/") || b == "" {
		return n, nil
	}
	spans, pre, epi, ok := splitParts(body, b)
	if !ok {
		return n, nil // no delimiter: an opaque leaf, as package mime reads it
	}
	n.multipart, n.boundary, n.preamble, n.epilogue, n.body = true, b, pre, epi, nil
	for i, raw := range spans {
		ch, err := lim.child(raw, nl, depth+1, fmt.Sprintf("%s.%d", path, i+1))
		if err != nil {
			return nil, err
		}
		n.children = append(n.children, ch)
	}
	return n, nil
}

// child parses one body part; an empty part is an empty text/plain.
func (lim *treeLimits) child(raw []byte, nl string, depth int, path string) (*node, error) {
	if len(bytes.TrimSpace(raw)) == 0 || raw[0] == '\r' || raw[0] == '\n' {
		// No header: the part's body starts after the first line break.
		body := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			body = raw[i+1:]
		}
		return lim.parse(mime.NewHeader(nl), body, nl, depth, path)
	}
	pm, err := mime.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", path, err)
	}
	return lim.parse(pm.Header, pm.Body, nl, depth, path)
}

// splitParts splits a multipart body at its delimiter lines (RFC 2046
// §5.1.1): the parts (without the line break before the next delimiter),
// the preamble (up to the first delimiter) and the epilogue (after the
// close delimiter line). ok is false when there is no delimiter at all.
func splitParts(body []byte, boundary string) (parts [][]byte, preamble, epilogue []byte, ok bool) {
	delim := []byte("--" + boundary)
	start := -1 // start of the current part
	for pos := 0; pos <= len(body); {
		lineEnd := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if lineEnd >= 0 {
			next = pos + lineEnd + 1
		}
		line := bytes.TrimRight(body[pos:next], " \t\r\n")
		isDelim := bytes.HasPrefix(line, delim)
		rest := line[min(len(delim), len(line)):]
		isClose := isDelim && bytes.Equal(rest, []byte("--"))
		if isDelim && (len(rest) == 0 || isClose) {
			if start < 0 {
				preamble = body[:pos]
			} else {
				parts = append(parts, trimLineBreak(body[start:pos]))
			}
			if isClose {
				return parts, preamble, body[next:], true
			}
			start = next
		}
		if next == len(body) {
			break
		}
		pos = next
	}
	if start < 0 {
		return nil, nil, nil, false
	}
	if start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, preamble, nil, true
}

func trimLineBreak(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// boundaryParam finds a boundary parameter in any case. A regexp and not
// an index into strings.ToLower(v), which would be off: lower-casing turns
// each byte that is not UTF-8 into the three bytes of U+FFFD.
var boundaryParam = regexp.MustCompile(`(?i)boundary=`)

// mediaType parses a Content-Type leniently (RFC 2045 §5.2: text/plain
// when absent or unreadable); a boundary is found even in a value
// ParseMediaType refuses.
func mediaType(v string) (string, map[string]string) {
	if mt, params, err := stdmime.ParseMediaType(v); err == nil && strings.Contains(mt, "/") {
		return mt, params
	}
	params := map[string]string{}
	if loc := boundaryParam.FindStringIndex(v); loc != nil {
		b, _, _ := strings.Cut(strings.TrimSpace(v[loc[1]:]), ";")
		params["boundary"] = strings.Trim(strings.TrimSpace(b), `"`)
	}
	mt, _, _ := strings.Cut(v, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if i := strings.IndexByte(mt, '/'); i <= 0 || i == len(mt)-1 || strings.ContainsAny(mt, " \t\"") {
		mt = "text/plain"
	}
	return mt, params
}

// lineEnd returns the line end of raw's first line.
func lineEnd(raw []byte) string {
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' || i < 0 {
		return "\r\n"
	}
	return "\n"
}

// bytes renders the node's body (for the root: the message body).
func (n *node) bodyBytes() []byte {
	if !n.multipart {
		return n.body
	}
	var b bytes.Buffer
	b.Write(n.preamble)
	for _, c := range n.children {
		b.WriteString("--" + n.boundary + n.nl)
		b.Write((&mime.Message{Header: c.header, Body: c.bodyBytes()}).Bytes())
		b.WriteString(n.nl)
	}
	b.WriteString("--" + n.boundary + "--" + n.nl)
	b.Write(n.epilogue)
	return b.Bytes()
}

// leaves calls fn for every leaf, depth first.
func (n *node) leaves(fn func(*node)) {
	if !n.multipart {
		fn(n)
		return
	}
	for _, c := range n.children {
		c.leaves(fn)
	}
}

// filename returns the leaf's file name (Content-Disposition filename, else
// Content-Type name), decoded.
func (n *node) filename() string {
	if v := n.header.Get("Content-Disposition"); v != "" {
		if _, p, err := stdmime.ParseMediaType(v); err == nil && p["filename"] != "" {
			return mime.DecodeWords(p["filename"])
		}
	}
	return mime.DecodeWords(n.params["name"])
}

// isAttachment reports whether the leaf is marked as an attachment.
func (n *node) isAttachment() bool {
	d, _, _ := strings.Cut(n.header.Get("Content-Disposition"), ";")
	return strings.EqualFold(strings.TrimSpace(d), "attachment")
}

// text returns the leaf's content decoded to UTF-8 (best effort).
func (n *node) text() string {
	s := ""
	_ = mime.Walk(&mime.Message{Header: n.header, Body: n.body}, func(p *mime.Part) error {
		s = p.Text()
		return errDone
	}) // a leaf: one part; the error only stops the walk
	return s
}

// errDone stops a walk early.
var errDone = errors.New("done")

// setText replaces the leaf's content with UTF-8 text as text/plain (or
// subtype), keeping its other fields; the transfer encoding is 7bit or
// quoted-printable.
func (n *node) setText(subtype, text string) {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", n.nl)
	n.header.Set("Content-Type", "text/"+subtype+"; charset=utf-8")
	n.mediaType, n.params = "text/"+subtype, map[string]string{"charset": "utf-8"}
	if isASCII(text) && !hasLongLine(text, 998) {
		n.header.Set("Content-Transfer-Encoding", "7bit")
		n.body = []byte(text)
		return
	}
	n.header.Set("Content-Transfer-Encoding", "quoted-printable")
	n.body = encodeQP(text, n.nl)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func hasLongLine(s string, n int) bool {
	for line := range strings.Lines(s) {
		if len(line) > n {
			return true
		}
	}
	return false
}
