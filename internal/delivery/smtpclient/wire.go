package smtpclient

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
	for _, p := range parts {
		for _, c := range p {
			if bol && c == '.' {
				out = append(out, '.')
			}
			if c == '\n' && prev != '\r' {
				out = append(out, '\r')
			}
			out = append(out, c)
			bol = c == '\n'
			prev = c
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
