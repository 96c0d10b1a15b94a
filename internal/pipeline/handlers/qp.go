package handlers

import (
	"bytes"
	"mime/quotedprintable"
	"strings"
)

// encodeQP quoted-printable encodes text (whose line ends are nl),
// keeping its line structure and writing nl line ends.
func encodeQP(text, nl string) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	// The writer turns "\n" and "\r\n" alike into CRLF; lines stay lines.
	_, _ = w.Write([]byte(text)) // a bytes.Buffer does not fail
	_ = w.Close()
	out := b.Bytes()
	if nl == "\n" {
		out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	}
	return out
}

// toLF normalizes line ends to "\n".
func toLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
