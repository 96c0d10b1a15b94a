package mime

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits on the work done for one message. The caller bounds the total size.
const (
	// MaxFieldBytes bounds one header field, continuation lines included
	// (Postfix's header_size_limit has the same default).
	MaxFieldBytes = 100 << 10
	// MaxFields bounds the number of fields in one header.
	MaxFields = 10000
	// MaxDepth bounds MIME nesting (multipart and message/rfc822 levels).
	MaxDepth = 50
	// MaxParts bounds the number of MIME parts in one message.
	MaxParts = 10000
	// MaxTextBytes bounds what TextBody returns.
	MaxTextBytes = 1 << 20
)

var (
	// ErrMalformed is wrapped by every error about input that is not a
	// readable message.
	ErrMalformed = errors.New("mime: malformed message")
	// ErrLimit is wrapped by every error about input past one of the limits.
	ErrLimit = errors.New("mime: limit exceeded")
)

// Message is a parsed message: its header and its body, the body being
// every byte after the blank line that ends the header.
type Message struct {
	Header *Header
	Body   []byte
}

// Parse reads a message. It accepts CRLF and LF line ends and keeps NULs and
// 8-bit bytes untouched. Input without a blank line is all header if it reads
// as header fields. Parse copies raw; the Message does not refer to it.
func Parse(raw []byte) (*Message, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	raw = bytes.Clone(raw)
	h, body, err := parseHeader(raw, "")
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Body: body}, nil
}

// Bytes returns the message in wire form. Untouched fields and the body are
// written back byte for byte; if nothing was modified the result equals the
// input of Parse.
func (m *Message) Bytes() []byte {
	h := m.Header
	if h == nil {
		h = &Header{}
	}
	more := h.end != nil || len(m.Body) > 0
	b := make([]byte, 0, 1024+len(m.Body))
	b = h.appendTo(b, more)
	switch {
	case h.end != nil:
		b = append(b, h.end...)
	case len(m.Body) > 0:
		b = append(b, h.lineEnd()...)
	}
	return append(b, m.Body...)
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	c := &Message{Body: bytes.Clone(m.Body)}
	if m.Header != nil {
		c.Header = m.Header.Clone()
	}
	return c
}

// parseHeader splits raw into header fields and the rest, which follows the
// blank line (nil if there is none). Field raw bytes alias raw. Errors name
// the line, after where ("part 1.2: " or "").
func parseHeader(raw []byte, where string) (*Header, []byte, error) {
	h := &Header{}
	line, start := 0, 0 // start: offset of the current field
	for i := 0; i < len(raw); {
		line++
		next := len(raw)
		if j := bytes.IndexByte(raw[i:], '\n'); j >= 0 {
			next = i + j + 1
			if h.nl == "" {
				h.nl = "\n"
				if j > 0 && raw[i+j-1] == '\r' {
					h.nl = "\r\n"
				}
			}
		}
		l := raw[i:next:next]
		switch {
		case isBlankLine(l):
			h.end = l
			return h, raw[next:], nil
		case l[0] == ' ' || l[0] == '\t':
			if len(h.fields) == 0 {
				return nil, nil, fmt.Errorf("%w: %sheader line %d: continuation line before the first field", ErrMalformed, where, line)
			}
			h.fields[len(h.fields)-1].raw = raw[start:next:next]
		default:
			colon := bytes.IndexByte(l, ':')
			if colon < 0 {
				return nil, nil, fmt.Errorf("%w: %sheader line %d: no colon", ErrMalformed, where, line)
			}
			// RFC 5322 §4.5.8 (obsolete syntax): WSP before the colon.
			name := bytes.TrimRight(l[:colon], " \t")
			if !validName(name) {
				return nil, nil, fmt.Errorf("%w: %sheader line %d: invalid field name", ErrMalformed, where, line)
			}
			if len(h.fields) == MaxFields {
				return nil, nil, fmt.Errorf("%w: %sheader line %d: more than %d fields", ErrLimit, where, line, MaxFields)
			}
			start = i
			h.fields = append(h.fields, field{key: string(bytes.ToLower(name)), name: string(name), raw: l})
		}
		if f := &h.fields[len(h.fields)-1]; len(f.raw) > MaxFieldBytes {
			return nil, nil, fmt.Errorf("%w: %sheader line %d: field %.40q longer than %d bytes", ErrLimit, where, line, f.name, MaxFieldBytes)
		}
		i = next
	}
	return h, nil, nil
}

func isBlankLine(l []byte) bool {
	return len(l) == 1 && l[0] == '\n' || len(l) == 2 && l[0] == '\r' && l[1] == '\n'
}
