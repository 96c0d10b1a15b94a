package mime

import (
	"bytes"
	"slices"
	"strings"
)

// Field is one header field as rules and filters see it.
type Field struct {
	Name  string // as spelled in the message
	Value string // unfolded, surrounding whitespace removed, not RFC 2047 decoded
}

// field is one header field with its raw bytes, including its line ends.
type field struct {
	key  string // lower-cased name, for lookups
	name string
	raw  []byte
}

// value returns the field body unfolded (RFC 5322 §2.2.3) and trimmed.
func (f *field) value() string {
	v := f.raw[bytes.IndexByte(f.raw, ':')+1:]
	if bytes.IndexByte(v, '\n') < 0 {
		return string(bytes.Trim(v, " \t\r"))
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\n':
			continue
		case v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n':
			continue
		}
		out = append(out, v[i])
	}
	return string(bytes.Trim(out, " \t\r"))
}

// Header is the ordered list of a message's (or a MIME part's) header
// fields. Each field keeps its raw bytes until it is modified. The zero value
// is an empty header that writes CRLF line ends; a nil *Header reads as
// empty.
type Header struct {
	fields []field
	nl     string // line end for fields this package writes
	end    []byte // the blank line that ended the header; nil if none
}

// NewHeader returns an empty header whose new fields end in nl, which must
// be "\n" or "\r\n" (anything else means "\r\n").
func NewHeader(nl string) *Header {
	if nl != "\n" {
		nl = "\r\n"
	}
	return &Header{nl: nl}
}

// lineEnd returns the line end new fields use.
func (h *Header) lineEnd() string {
	if h.nl == "" {
		return "\r\n"
	}
	return h.nl
}

// Len returns the number of fields.
func (h *Header) Len() int {
	if h == nil {
		return 0
	}
	return len(h.fields)
}

// Get returns the unfolded raw value of the first field called name
// (case-insensitive), or "" if there is none.
func (h *Header) Get(name string) string {
	if i := h.index(name); i >= 0 {
		return h.fields[i].value()
	}
	return ""
}

// Values returns the unfolded raw values of all fields called name, in order.
func (h *Header) Values(name string) []string {
	if h == nil {
		return nil
	}
	key := strings.ToLower(name)
	var out []string
	for i := range h.fields {
		if h.fields[i].key == key {
			out = append(out, h.fields[i].value())
		}
	}
	return out
}

// Has reports whether a field called name exists.
func (h *Header) Has(name string) bool { return h.index(name) >= 0 }

// Fields returns all fields in order.
func (h *Header) Fields() []Field {
	if h == nil {
		return nil
	}
	out := make([]Field, len(h.fields))
	for i := range h.fields {
		out[i] = Field{Name: h.fields[i].name, Value: h.fields[i].value()}
	}
	return out
}

// Set replaces the first field called name, in place, with a new field
// folded at 78 columns, and removes the other fields of that name. If there
// is none, the field is added at the end. If the first field already has
// this value (unfolded), its raw bytes are kept, so a no-op Set does not
// disturb a DKIM signature. The value is written as given (no RFC 2047
// encoding; see EncodeWords).
func (h *Header) Set(name, value string) {
	f, ok := h.newField(name, value)
	if !ok {
		return
	}
	i := h.index(f.name)
	if i < 0 {
		h.fields = append(h.fields, f)
		return
	}
	if h.fields[i].value() != unfoldValue(value) {
		h.fields[i] = f
	}
	rest := deleteKey(h.fields[i+1:], f.key) // compacts in place
	h.fields = h.fields[:i+1+len(rest)]
}

// Add appends a field at the end of the header.
func (h *Header) Add(name, value string) {
	h.insert(len(h.fields), name, value)
}

// Prepend inserts a field at the top of the header, as trace fields such as
// Received are (RFC 5322 §3.6.7).
func (h *Header) Prepend(name, value string) {
	h.insert(0, name, value)
}

// Del removes all fields called name.
func (h *Header) Del(name string) {
	h.fields = deleteKey(h.fields, strings.ToLower(name))
}

// Clone returns a deep copy of h.
func (h *Header) Clone() *Header {
	c := &Header{nl: h.nl, end: bytes.Clone(h.end), fields: make([]field, len(h.fields))}
	for i, f := range h.fields {
		f.raw = bytes.Clone(f.raw)
		c.fields[i] = f
	}
	return c
}

// insert adds a new field at position i.
func (h *Header) insert(i int, name, value string) {
	if f, ok := h.newField(name, value); ok {
		h.fields = slices.Insert(h.fields, i, f)
	}
}

func (h *Header) index(name string) int {
	if h == nil {
		return -1
	}
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].key, name) {
			return i
		}
	}
	return -1
}

// newField renders a field in this header's line-end style. It fails only if
// name has no valid byte at all.
func (h *Header) newField(name, value string) (field, bool) {
	name = cleanName(name)
	if name == "" {
		return field{}, false
	}
	s := FoldHeader(name, value)
	if nl := h.lineEnd(); nl != "\r\n" {
		s = strings.ReplaceAll(s, "\r\n", nl)
	}
	return field{key: strings.ToLower(name), name: name, raw: []byte(s + h.lineEnd())}, true
}

// appendTo appends the fields (not the blank line) to b, adding a line end
// after a field that lacks one when more output follows it.
func (h *Header) appendTo(b []byte, more bool) []byte {
	for i := range h.fields {
		b = append(b, h.fields[i].raw...)
		if (more || i < len(h.fields)-1) && !bytes.HasSuffix(b, []byte("\n")) {
			b = append(b, h.lineEnd()...)
		}
	}
	return b
}

func deleteKey(fs []field, key string) []field {
	return slices.DeleteFunc(fs, func(f field) bool { return f.key == key })
}

// validName reports whether s is a field name: printable US-ASCII except
// colon (RFC 5322 §2.2).
func validName(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// cleanName drops the bytes that may not appear in a field name.
func cleanName(name string) string {
	if validName([]byte(name)) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 33 && c <= 126 && c != ':' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
