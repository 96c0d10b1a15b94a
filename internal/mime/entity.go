package mime

import (
	"bytes"
	"errors"
	"fmt"
	stdmime "mime"
	"strconv"
	"strings"
)

// entity is one node of a message's MIME tree (RFC 2045 §2.4). Offsets are
// into the top-level body, so a node can be spliced back in place.
type entity struct {
	header    *Header
	body      []byte
	start     int // offset of the node's first header byte
	bodyStart int // offset of body
	parent    *entity
	depth     int
	path      string // "1.2.3"; "1" for a single-part message

	mediaType string            // lower case, defaulted per RFC 2045 §5.2
	params    map[string]string // lower-case keys
}

// tree parses a MIME tree within the limits.
type tree struct {
	parts      int
	intoRFC822 bool // descend into message/rfc822 parts (Walk) or not (Decorate)
}

// errStop ends a traversal early without an error.
var errStop = errors.New("stop")

// walk parses the subtree of e (whose header and body are set), calling
// leaf for each leaf in order as soon as it is parsed, so the leaves before
// a malformed part or a limit are still seen.
func (t *tree) walk(e *entity, leaf func(*entity) error) error {
	if e.depth > MaxDepth {
		return fmt.Errorf("%w: part %s: nested deeper than %d", ErrLimit, e.path, MaxDepth)
	}
	t.parts++
	if t.parts > MaxParts {
		return fmt.Errorf("%w: part %s: more than %d parts", ErrLimit, e.path, MaxParts)
	}
	defType := "text/plain"
	if e.parent != nil && e.parent.mediaType == "multipart/digest" {
		defType = "message/rfc822" // RFC 2046 §5.1.5
	}
	e.mediaType, e.params = contentType(e.header.Get("Content-Type"), defType)

	switch {
	case strings.HasPrefix(e.mediaType, "multipart/") && e.params["boundary"] != "":
		spans, _, _ := splitMultipart(e.body, e.params["boundary"])
		if len(spans) == 0 {
			break // no delimiter: read it as an opaque leaf
		}
		for i, sp := range spans {
			c, err := t.child(e, sp, strconv.Itoa(i+1))
			if err != nil {
				return err
			}
			if err := t.walk(c, leaf); err != nil {
				return err
			}
		}
		return nil
	case t.intoRFC822 && (e.mediaType == "message/rfc822" || e.mediaType == "message/global") && identityEncoding(e.header):
		c, err := t.child(e, [2]int{0, len(e.body)}, "1")
		if err != nil || c.header.Len() == 0 {
			break // not a message after all: a leaf
		}
		return t.walk(c, leaf)
	}
	return leaf(e)
}

// child parses the part at body[sp[0]:sp[1]] of parent.
func (t *tree) child(parent *entity, sp [2]int, n string) (*entity, error) {
	path := n
	if parent.path != "" {
		path = parent.path + "." + n
	}
	raw := parent.body[sp[0]:sp[1]]
	h, body, err := parseHeader(raw, "part "+path+": ")
	if err != nil {
		return nil, err
	}
	start := parent.bodyStart + sp[0]
	if h.nl == "" {
		h.nl = parent.header.lineEnd()
	}
	return &entity{
		header:    h,
		body:      body,
		start:     start,
		bodyStart: start + len(raw) - len(body),
		parent:    parent,
		depth:     parent.depth + 1,
		path:      path,
	}, nil
}

// rootEntity returns the tree root for m; path is "" so children are "1",
// "2", … and a single-part message is "1" (see Walk).
func rootEntity(m *Message) *entity {
	h := m.Header
	if h == nil {
		h = &Header{}
	}
	return &entity{header: h, body: m.Body}
}

// splitMultipart finds the body parts of a multipart body (RFC 2046 §5.1.1):
// it returns each part's span (without the line break that belongs to the
// next delimiter) and the line offsets of the first and close delimiters.
// A missing close delimiter ends the last part at the end of the body.
func splitMultipart(body []byte, boundary string) (spans [][2]int, first, closeAt int) {
	first, closeAt = -1, -1
	delim := []byte("--" + boundary)
	partStart := -1
	for from := 0; from < len(body); {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			break
		}
		i += from
		from = i + len(delim)
		if i > 0 && body[i-1] != '\n' {
			continue
		}
		rest := body[i+len(delim):]
		isClose := bytes.HasPrefix(rest, []byte("--"))
		if isClose {
			rest = rest[2:]
		}
		eol := bytes.IndexByte(rest, '\n')
		line := rest
		if eol >= 0 {
			line = rest[:eol]
		}
		if len(bytes.Trim(line, " \t\r")) > 0 {
			continue // "--boundaryX": a longer boundary, not ours
		}
		if partStart >= 0 {
			spans = append(spans, [2]int{partStart, lineBreakStart(body, partStart, i)})
		} else {
			first = i
		}
		if isClose {
			closeAt = i
			return spans, first, closeAt
		}
		partStart = len(body)
		if eol >= 0 {
			partStart = len(body) - len(rest) + eol + 1
		}
		from = partStart
	}
	if partStart >= 0 && partStart < len(body) {
		spans = append(spans, [2]int{partStart, len(body)})
	}
	return spans, first, closeAt
}

// lineBreakStart returns where the line break before offset i begins,
// but not before start.
func lineBreakStart(body []byte, start, i int) int {
	end := i
	if end > start && body[end-1] == '\n' {
		end--
		if end > start && body[end-1] == '\r' {
			end--
		}
	}
	return end
}

// contentType parses a Content-Type value leniently: an unparsable value
// yields defType (RFC 2045 §5.2), bad parameters are read one by one.
func contentType(v, defType string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return defType, map[string]string{}
	}
	mt, params, err := stdmime.ParseMediaType(v)
	if err != nil || params == nil {
		mt, _, _ = strings.Cut(v, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		params = lenientParams(v)
	}
	if i := strings.IndexByte(mt, '/'); i <= 0 || i == len(mt)-1 || strings.ContainsAny(mt, " \t\"") {
		return defType, params
	}
	return mt, params
}

// lenientParams reads "; key=value" pairs, first occurrence winning, with
// quoted values unquoted.
func lenientParams(v string) map[string]string {
	params := map[string]string{}
	_, rest, _ := strings.Cut(v, ";")
	for rest != "" {
		var p string
		p, rest = cutParam(rest)
		k, val, ok := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.ReplaceAll(val[1:len(val)-1], `\`, "")
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	return params
}

// cutParam cuts s at the first semicolon outside quotes.
func cutParam(s string) (string, string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			i++
		case ';':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// transferEncoding returns the lower-cased Content-Transfer-Encoding.
func transferEncoding(h *Header) string {
	return strings.ToLower(strings.Trim(h.Get("Content-Transfer-Encoding"), " \t\""))
}

// identityEncoding reports whether the body is not transfer-encoded.
func identityEncoding(h *Header) bool {
	switch transferEncoding(h) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

// disposition returns the lower-cased disposition type and the filename
// from Content-Disposition, else from the Content-Type name parameter, with
// RFC 2231 and (non-standard but common) RFC 2047 decoded.
func (e *entity) disposition() (disp, filename string) {
	v := e.header.Get("Content-Disposition")
	var params map[string]string
	if v != "" {
		var err error
		disp, params, err = stdmime.ParseMediaType(v)
		if err != nil || params == nil {
			disp, _, _ = strings.Cut(v, ";")
			disp = strings.ToLower(strings.TrimSpace(disp))
			params = lenientParams(v)
		}
	}
	filename = params["filename"]
	if filename == "" {
		filename = e.params["name"]
	}
	return disp, toUTF8(DecodeWords(filename))
}
