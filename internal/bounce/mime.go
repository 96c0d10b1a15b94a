package bounce

import (
	"bytes"
	"encoding/base64"
	"mime"
	"regexp"
	"strings"
)

// Limits that keep hostile input cheap. A bounce is small; what is past
// these limits is not looked at.
const (
	maxInput        = 16 << 20  // bytes of a message that are parsed
	maxDepth        = 12        // MIME nesting (multipart and message/rfc822)
	maxParts        = 1000      // entities in one message, all levels together
	maxHeaderFields = 1000      // header fields kept per entity
	maxFieldLen     = 64 << 10  // bytes kept of one unfolded field value
	maxTextBytes    = 512 << 10 // decoded bytes of one text part that are read
	maxNoticeText   = 1 << 20   // bytes of human-readable text per message
	maxLine         = 4 << 10   // bytes of one text line that are read
)

// field is one header field; name is lower-cased, value unfolded.
type field struct {
	name, value string
}

// header is the fields of one entity in order.
type header []field

// get returns the first value of the field name (lower-case).
func (h header) get(name string) string {
	for _, f := range h {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// has reports whether field name (lower-case) is present.
func (h header) has(name string) bool {
	for _, f := range h {
		if f.name == name {
			return true
		}
	}
	return false
}

// all returns every value of the field name (lower-case).
func (h header) all(name string) []string {
	var out []string
	for _, f := range h {
		if f.name == name {
			out = append(out, f.value)
		}
	}
	return out
}

// entity is one node of the MIME tree. Leaves keep their raw body; it is
// decoded only when a detector asks for it.
type entity struct {
	hdr       header
	mediaType string // lower-case type/subtype; text/plain when absent or broken
	params    map[string]string
	body      []byte // raw (still transfer-encoded) body
	children  []*entity
	// returned marks the returned-content part of a multipart/report and
	// everything below it (RFC 6522 §3: the third part): it describes the
	// original message, not this notice.
	returned bool
	// inMessage marks entities inside a message/rfc822 (an attached message).
	inMessage bool
}

// parser carries the budget shared by all entities of one message.
type parser struct {
	parts int
}

// parseMessage parses raw into a tree of entities. ok is false when raw has
// no header field at all, i.e. it is not a message.
func parseMessage(raw []byte) (*entity, bool) {
	if len(raw) > maxInput {
		raw = raw[:maxInput]
	}
	// An mbox "From " separator line in front is not part of the message.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	p := &parser{}
	e := p.parse(raw, 0, false)
	return e, len(e.hdr) > 0
}

// parse builds the entity for raw at the given depth.
func (p *parser) parse(raw []byte, depth int, inMessage bool) *entity {
	p.parts++
	hdr, body := splitHeader(raw)
	e := &entity{hdr: hdr, body: body, inMessage: inMessage}
	e.mediaType, e.params = contentType(hdr.get("content-type"))
	if depth >= maxDepth || p.parts >= maxParts {
		return e
	}
	switch {
	case strings.HasPrefix(e.mediaType, "multipart/"):
		b := e.params["boundary"]
		if b == "" {
			e.mediaType = "text/plain"
			return e
		}
		chunks := splitMultipart(body, b, maxParts-p.parts)
		if chunks == nil {
			// Garbled MIME: the boundary never occurs. Read it as text.
			e.mediaType = "text/plain"
			return e
		}
		for _, c := range chunks {
			if p.parts >= maxParts {
				break
			}
			e.children = append(e.children, p.parse(c, depth+1, inMessage))
		}
		if e.mediaType == "multipart/report" {
			for i, c := range e.children {
				if i >= 2 {
					markReturned(c)
				}
			}
		}
	case e.mediaType == "message/rfc822" || e.mediaType == "message/global":
		inner := body
		if cte := strings.ToLower(strings.TrimSpace(hdr.get("content-transfer-encoding"))); cte == "base64" || cte == "quoted-printable" {
			inner = decodeTransfer(cte, body, maxInput)
		}
		e.children = append(e.children, p.parse(inner, depth+1, true))
	}
	return e
}

// markReturned flags e and all its descendants as returned content.
func markReturned(e *entity) {
	e.returned = true
	for _, c := range e.children {
		markReturned(c)
	}
}

// walk calls fn for e and every descendant, depth first, in order.
func (e *entity) walk(fn func(*entity)) {
	fn(e)
	for _, c := range e.children {
		c.walk(fn)
	}
}

// splitHeader separates the header block from the body. It tolerates LF or
// CRLF line ends, a missing blank line (the header then ends at the first line
// that is not a field) and input without any header.
func splitHeader(raw []byte) (header, []byte) {
	var h header
	pos := 0
	for pos < len(raw) {
		end := bytes.IndexByte(raw[pos:], '\n')
		var line []byte
		next := len(raw)
		if end >= 0 {
			line = raw[pos : pos+end]
			next = pos + end + 1
		} else {
			line = raw[pos:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return h, raw[next:]
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) == 0 {
				// Indented first line: not a header.
				return h, raw[pos:]
			}
			last := &h[len(h)-1]
			if len(last.value) < maxFieldLen {
				last.value += " " + strings.TrimSpace(string(line))
			}
			pos = next
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isFieldName(line[:colon]) {
			// Not a field: the header ended without a blank line.
			return h, raw[pos:]
		}
		if len(h) < maxHeaderFields {
			v := line[colon+1:]
			if len(v) > maxFieldLen {
				v = v[:maxFieldLen]
			}
			h = append(h, field{
				name:  strings.ToLower(string(bytes.TrimSpace(line[:colon]))),
				value: strings.TrimSpace(string(v)),
			})
		}
		pos = next
	}
	return h, nil
}

// isFieldName reports whether b is a plausible header field name (RFC 5322
// §3.6.8: printable ASCII except colon; we also refuse spaces inside).
func isFieldName(b []byte) bool {
	b = bytes.TrimRight(b, " \t")
	if len(b) == 0 || len(b) > 76 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

var boundaryRE = regexp.MustCompile(`(?i)boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))`)

// contentType parses a Content-Type value leniently. A value that
// mime.ParseMediaType refuses still yields its type and boundary.
func contentType(v string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") {
		params = map[string]string{}
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		if m := boundaryRE.FindStringSubmatch(v); m != nil {
			params["boundary"] = m[1] + m[2]
		}
		for _, kv := range strings.Split(v, ";")[1:] {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if ok && k != "boundary" {
				params[k] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
		if !strings.Contains(mt, "/") {
			mt = "text/plain"
		}
	}
	return mt, params
}

// splitMultipart returns the bodies between the delimiter lines of
// boundary b (RFC 2046 §5.1.1), or nil when there is no delimiter at all. A
// missing close delimiter ends the last part at the end of the body. At most
// limit parts are returned.
func splitMultipart(body []byte, b string, limit int) [][]byte {
	delim := []byte("--" + b)
	var parts [][]byte
	start := -1 // start of the current part's content
	pos := 0
	found := false
	for pos <= len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body) + 1
		lineEnd := len(body)
		if end >= 0 {
			lineEnd = pos + end
			next = lineEnd + 1
		}
		line := bytes.TrimRight(body[pos:lineEnd], " \t\r")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				found = true
				if start >= 0 {
					parts = append(parts, trimPartEnd(body[start:pos]))
					if len(parts) >= limit {
						return parts
					}
				}
				if closing {
					return parts
				}
				start = min(next, len(body))
			}
		}
		pos = next
	}
	if !found {
		return nil
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// trimPartEnd drops the line break that belongs to the next delimiter.
func trimPartEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// decoded returns e's body with its transfer encoding removed, at most
// limit bytes.
func (e *entity) decoded(limit int) []byte {
	cte := strings.ToLower(strings.TrimSpace(e.hdr.get("content-transfer-encoding")))
	return decodeTransfer(cte, e.body, limit)
}

// text returns e's body decoded to UTF-8 text (transfer encoding and
// charset), at most about maxTextBytes.
func (e *entity) text() string {
	return decodeCharset(e.params["charset"], e.decoded(maxTextBytes))
}

// decodeTransfer undoes a Content-Transfer-Encoding leniently: bad input
// yields what could be decoded, never an error.
func decodeTransfer(cte string, b []byte, limit int) []byte {
	switch cte {
	case "base64":
		if len(b) > limit*4/3+1024 {
			b = b[:limit*4/3+1024]
		}
		return decodeBase64(b)
	case "quoted-printable":
		if len(b) > limit*3 {
			b = b[:limit*3]
		}
		out := decodeQP(b)
		if len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	if len(b) > limit {
		b = b[:limit]
	}
	return b
}

// decodeBase64 decodes b, skipping characters outside the alphabet and
// stopping at the first undecodable group.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone trailing character carries no byte
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: an invalid
// escape is kept as it is.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		// soft line break: "=" followed by optional whitespace and a line end
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && (b[j] == '\n' || b[j] == '\r') {
			if b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
				j++
			}
			i = j
			continue
		}
		if j >= len(b) {
			i = j
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
