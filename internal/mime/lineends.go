package mime

import "bytes"

// CRLF returns b with every bare LF turned into CRLF: wire form, the line
// ends LMTP delivers. So a message that came by pipe, from a Maildir file
// or an mbox (Unix line ends) is kept exactly as the same message over
// LMTP would be, and DKIM signs what goes out. b is returned unchanged
// when it has no bare LF.
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
