package smtpclient

import "bytes"

// Wire returns the DATA form of the message made of parts (for example a
// DKIM-Signature field and the message): lines end in CRLF (bare LF is
// converted), lines starting with "." are dot-stuffed (RFC 5321 §4.5.2),
// the last line is terminated, and ".\r\n" ends it. The result is what
// Tx.Body expects; it is built once and shared by every transaction that
// sends the same message.
func Wire(parts ...[]byte) []byte {
	n := 5
	for _, p := range parts {
		n += len(p) + len(p)/32
	}
	out := make([]byte, 0, n)
	bol := true // at the beginning of a line
	var prev byte
	// A line at a time: IndexByte finds line ends many bytes per step, and
	// the line is copied whole. This is the per-byte cost of every post.
	for _, p := range parts {
		for len(p) > 0 {
			if bol && p[0] == '.' {
				out = append(out, '.')
			}
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				out = append(out, p...)
				prev, bol = p[len(p)-1], false
				break
			}
			if i > 0 {
				prev = p[i-1]
			}
			out = append(out, p[:i]...)
			if prev != '\r' {
				out = append(out, '\r')
			}
			out = append(out, '\n')
			prev, bol = '\n', true
			p = p[i+1:]
		}
	}
	if !bol {
		out = append(out, '\r', '\n')
	}
	return append(out, '.', '\r', '\n')
}

// Has8Bit reports whether b has a byte over 127, so the transaction needs
// BODY=8BITMIME.
func Has8Bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
