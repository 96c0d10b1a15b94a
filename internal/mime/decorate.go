package mime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	stdmime "mime"
	"strings"
)

// Decorate adds header text before and footer text after the body of m, in
// a MIME-aware way (the list "header" and "footer" settings). Empty header
// or footer means none.
//
//   - If m has a single leaf and it is an inline text/plain part (the whole
//     message, or the only leaf of a multipart that is not signed or
//     encrypted), the text goes into that part in its own charset and
//     transfer encoding; if the charset cannot represent the text, the part
//     is converted to UTF-8. format=flowed bodies get hard line breaks
//     around the added text (RFC 3676 §4.2) and space-stuffed lines.
//   - Else, if m is multipart/mixed, text/plain parts (UTF-8) are added as
//     the first and the last part.
//   - Anything else (multipart/alternative, text/html, multipart/signed,
//     multipart/encrypted, application/pkcs7-mime, unknown types) is wrapped:
//     m becomes a multipart/mixed of [header part], the original content
//     with its Content-* fields, [footer part]. The original content is kept
//     byte for byte, so signatures inside it still verify.
//
// MIME-Version: 1.0 is added if missing. Decorate does not fail on hostile
// content (it falls back to wrapping); it returns an error only for a nil
// message.
func Decorate(m *Message, header, footer string) error {
	if m == nil || m.Header == nil {
		return errors.New("mime: decorate: nil message")
	}
	if header == "" && footer == "" {
		return nil
	}
	header, footer = toUTF8(header), toUTF8(footer)
	if !decorateSingle(m, header, footer) && !decorateMixed(m, header, footer) {
		wrap(m, header, footer)
	}
	ensureMIMEVersion(m.Header)
	return nil
}

// decorateSingle decorates the only leaf of m in place if it is inline
// text/plain outside signed or encrypted content, and reports whether it did.
func decorateSingle(m *Message, header, footer string) bool {
	var leaf *entity
	leaves := 0
	t := &tree{}
	err := t.walk(rootEntity(m), func(e *entity) error {
		if leaves++; leaves > 1 {
			return errStop
		}
		leaf = e
		return nil
	})
	if err != nil || leaves != 1 || leaf.mediaType != "text/plain" {
		return false
	}
	if disp, _ := leaf.disposition(); disp == "attachment" {
		return false
	}
	for a := leaf.parent; a != nil; a = a.parent {
		if a.mediaType == "multipart/signed" || a.mediaType == "multipart/encrypted" {
			return false
		}
	}
	if leaf.parent == nil {
		body, ok := decorateText(leaf, header, footer)
		if ok {
			m.Body = body
		}
		return ok
	}
	// A part of a multipart: decorate a copy of its header, then splice.
	leaf.header = leaf.header.Clone()
	body, ok := decorateText(leaf, header, footer)
	if !ok {
		return false
	}
	for a := leaf.parent; a != nil; a = a.parent {
		if bytes.Contains(body, []byte("--"+a.params["boundary"])) {
			return false // the new text would end the part early
		}
	}
	part := (&Message{Header: leaf.header, Body: body}).Bytes()
	end := leaf.bodyStart + len(leaf.body)
	m.Body = concat(m.Body[:leaf.start], part, m.Body[end:])
	return true
}

// decorateText returns the new transfer-encoded body of text/plain leaf e
// with the texts added, and updates e's Content-Type and
// Content-Transfer-Encoding if they change. It fails (before changing
// anything) on an unknown transfer encoding or an unknown charset that
// would need converting.
func decorateText(e *entity, header, footer string) ([]byte, bool) {
	cte := transferEncoding(e.header)
	switch cte {
	case "", "7bit", "8bit", "binary", "quoted-printable", "base64":
	default:
		return nil, false
	}
	content := decodeTransfer(e.body, cte)
	cs := normCharset(e.params["charset"])
	flowed := strings.EqualFold(e.params["format"], "flowed")
	nl := e.header.lineEnd()

	eol := lineEnding(content, nl)
	hb, err1 := encodeCharset(cs, prepareText(header, eol, flowed))
	fb, err2 := encodeCharset(cs, prepareText(footer, eol, flowed))
	converted := err1 != nil || err2 != nil
	wasASCII := isASCII(content)
	if converted {
		u, err := decodeCharset(cs, content)
		if err != nil {
			return nil, false
		}
		content = []byte(u)
		eol = lineEnding(content, nl)
		hb, fb = []byte(prepareText(header, eol, flowed)), []byte(prepareText(footer, eol, flowed))
	}
	newContent := concat(hb, finishBody(content, eol, flowed), fb)
	if e.parent != nil && !bytes.HasSuffix(content, []byte("\n")) {
		// The line break before the next delimiter ends the last line.
		newContent = bytes.TrimSuffix(newContent, []byte(eol))
	}

	newCTE := cte
	if (cte == "" || cte == "7bit") && !isASCII(newContent) && (converted || wasASCII) {
		newCTE = "quoted-printable" // keep the part 7-bit clean
	}
	if converted {
		setCharsetUTF8(e)
	}
	if newCTE != cte {
		e.header.Set("Content-Transfer-Encoding", newCTE)
	}
	return encodeTransfer(newContent, newCTE, nl), true
}

// setCharsetUTF8 rewrites e's Content-Type with charset=utf-8, keeping the
// other parameters.
func setCharsetUTF8(e *entity) {
	params := map[string]string{}
	for k, v := range e.params {
		params[k] = v
	}
	params["charset"] = "utf-8"
	v := stdmime.FormatMediaType(e.mediaType, params)
	if v == "" { // a parameter FormatMediaType cannot write
		v = "text/plain; charset=utf-8"
		if f := e.params["format"]; f != "" && isToken(f) {
			v += "; format=" + f
		}
		if d := e.params["delsp"]; d != "" && isToken(d) {
			v += "; delsp=" + d
		}
	}
	e.header.Set("Content-Type", v)
}

func isToken(s string) bool {
	return !strings.ContainsAny(s, " \t\r\n()<>@,;:\\\"/[]?=") && isASCII(s)
}

// lineEnding returns the line end of b's first line, or def.
func lineEnding(b []byte, def string) string {
	i := bytes.IndexByte(b, '\n')
	switch {
	case i < 0:
		return def
	case i > 0 && b[i-1] == '\r':
		return "\r\n"
	}
	return "\n"
}

// prepareText turns decoration text into whole lines ending in eol. For
// format=flowed every line is made fixed (no trailing space, except the
// signature separator "-- ") and space-stuffed (RFC 3676 §4.2, §4.4).
func prepareText(s, eol string, flowed bool) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSuffix(lfLines(s), "\n"), "\n")
	if flowed {
		for i, l := range lines {
			if l != "-- " {
				l = strings.TrimRight(l, " ")
			}
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, ">") || strings.HasPrefix(l, "From ") {
				l = " " + l
			}
			lines[i] = l
		}
	}
	return strings.Join(lines, eol) + eol
}

// finishBody makes a non-empty body end with a line break; for
// format=flowed its last line becomes fixed so the footer does not flow
// into it.
func finishBody(b []byte, eol string, flowed bool) []byte {
	if len(b) == 0 {
		return b
	}
	last := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if flowed {
		i := bytes.LastIndexByte(last, '\n') + 1
		if string(last[i:]) != "-- " {
			last = bytes.TrimRight(last, " ")
		}
	}
	if len(last) == len(b) || flowed {
		return concat(last, []byte(eol))
	}
	return b
}

// decorateMixed adds text/plain parts at the start and end of a
// multipart/mixed m and reports whether it did.
func decorateMixed(m *Message, header, footer string) bool {
	mt, params := contentType(m.Header.Get("Content-Type"), "text/plain")
	boundary := params["boundary"]
	if mt != "multipart/mixed" || boundary == "" {
		return false
	}
	_, first, closeAt := splitMultipart(m.Body, boundary)
	if first < 0 {
		return false
	}
	nl := m.Header.lineEnd()
	delim := "--" + boundary
	hp, fp := textPart(header, nl), textPart(footer, nl)
	if bytes.Contains(hp, []byte(delim)) || bytes.Contains(fp, []byte(delim)) {
		return false
	}
	out := make([]byte, 0, len(m.Body)+len(hp)+len(fp)+4*len(delim))
	out = append(out, m.Body[:first]...)
	if hp != nil {
		out = concat(out, []byte(delim+nl), hp, []byte(nl))
	}
	switch {
	case fp == nil:
		out = append(out, m.Body[first:]...)
	case closeAt >= 0:
		out = concat(out, m.Body[first:closeAt], []byte(delim+nl), fp, []byte(nl), m.Body[closeAt:])
	default: // no close delimiter: end the multipart properly
		out = append(out, m.Body[first:]...)
		if !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, nl...)
		}
		out = concat(out, []byte(delim+nl), fp, []byte(nl+delim+"--"+nl))
	}
	m.Body = out
	return true
}

// wrap makes m a multipart/mixed of [header part], the original content
// with its Content-* fields, [footer part].
func wrap(m *Message, header, footer string) {
	nl := m.Header.lineEnd()
	inner := NewHeader(nl)
	inner.end = []byte(nl)
	kept := m.Header.fields[:0:0]
	pos := -1
	for _, f := range m.Header.fields {
		if strings.HasPrefix(f.key, "content-") {
			if pos < 0 {
				pos = len(kept)
			}
			inner.fields = append(inner.fields, f)
		} else {
			kept = append(kept, f)
		}
	}
	if pos < 0 {
		pos = len(kept)
	}
	m.Header.fields = kept
	orig := (&Message{Header: inner, Body: m.Body}).Bytes()

	boundary := chooseBoundary(m.Body, header, footer)
	delim := []byte("--" + boundary + nl)
	var body []byte
	for _, p := range [][]byte{textPart(header, nl), orig, textPart(footer, nl)} {
		if p != nil {
			body = concat(body, delim, p, []byte(nl))
		}
	}
	m.Body = concat(body, []byte("--"+boundary+"--"+nl))

	// RFC 2045 §6.4: a multipart's encoding is 7bit unless a part is 8bit.
	if cte := transferEncoding(inner); cte == "8bit" || cte == "binary" {
		m.Header.insert(pos, "Content-Transfer-Encoding", cte)
	}
	m.Header.insert(pos, "Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
}

// chooseBoundary derives a boundary from the content, so output is
// reproducible, and makes sure it occurs nowhere in it. "=_" cannot occur
// in quoted-printable or base64 text (RFC 2045 §6.7 and §6.8).
func chooseBoundary(body []byte, texts ...string) string {
	sum := sha256.Sum256(body)
	base := "=_herald_" + hex.EncodeToString(sum[:12])
	b := base
	for i := 1; ; i++ {
		used := bytes.Contains(body, []byte(b))
		for _, t := range texts {
			used = used || strings.Contains(t, b)
		}
		if !used {
			return b
		}
		b = base + "_" + hex.EncodeToString([]byte{byte(i >> 8), byte(i)})
	}
}

// textPart returns a text/plain UTF-8 MIME part (header and body) holding
// s, or nil if s is empty. Its body does not end in a line break: the one
// before the next delimiter ends its last line.
func textPart(s, nl string) []byte {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(lfLines(s), "\n")
	h := NewHeader(nl)
	h.end = []byte(nl)
	h.Add("Content-Type", "text/plain; charset=utf-8")
	body := []byte(strings.ReplaceAll(s, "\n", nl))
	if !isASCII(s) || hasLongLine(s, 998) { // RFC 5322 §2.1.1
		body = encodeTransfer([]byte(s), "quoted-printable", nl)
		h.Add("Content-Transfer-Encoding", "quoted-printable")
	} else {
		h.Add("Content-Transfer-Encoding", "7bit")
	}
	h.Add("Content-Disposition", "inline")
	return (&Message{Header: h, Body: body}).Bytes()
}

// lfLines turns CRLF and bare CR line ends into LF.
func lfLines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func hasLongLine(s string, n int) bool {
	for _, l := range strings.Split(s, "\n") {
		if len(l) > n {
			return true
		}
	}
	return false
}

// ensureMIMEVersion adds "MIME-Version: 1.0" (RFC 2045 §4) before the
// first Content-* field, or at the end, if it is missing.
func ensureMIMEVersion(h *Header) {
	if h.Has("MIME-Version") {
		return
	}
	pos := len(h.fields)
	for i := range h.fields {
		if strings.HasPrefix(h.fields[i].key, "content-") {
			pos = i
			break
		}
	}
	h.insert(pos, "MIME-Version", "1.0")
}

// concat joins byte slices into a new slice.
func concat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
