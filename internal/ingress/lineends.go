package ingress

import "bytes"

// CRLF returns b with every bare LF turned into CRLF, the line ends LMTP
// delivers, so a message that came by pipe or from a Maildir file (Unix
// line ends) is stored exactly as the same message over LMTP would be.
// b is returned unchanged when it has no bare LF.
func CRLF(b []byte) []byte {
	bare := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		if i == 0 || b[i-1] != '\r' {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		b = b[i+1:]
	}
}
