package mime

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
)

// decodeTransfer removes a Content-Transfer-Encoding (RFC 2045 §6),
// leniently: it never fails, and an unknown encoding leaves the bytes as
// they are.
func decodeTransfer(b []byte, cte string) []byte {
	switch cte {
	case "quoted-printable":
		return decodeQP(b)
	case "base64":
		return decodeBase64Lenient(b)
	}
	return b
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: trailing
// blanks before a line break are dropped, "=" before a line break is a soft
// break, and an "=" that starts no valid escape stands for itself.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		eol := []byte(nil)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
			eol = []byte("\n")
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
				eol = []byte("\r\n")
			}
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, " \t")
		if len(line) > 0 && line[len(line)-1] == '=' {
			line, eol = line[:len(line)-1], nil // soft line break
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c == '=' && i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				out = append(out, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
			} else {
				out = append(out, c)
			}
		}
		out = append(out, eol...)
	}
	return out
}

// encodeTransfer applies a Content-Transfer-Encoding, writing line ends nl.
// Identity encodings return b unchanged.
func encodeTransfer(b []byte, cte, nl string) []byte {
	switch cte {
	case "quoted-printable":
		var buf bytes.Buffer
		w := quotedprintable.NewWriter(&buf) // text mode: line breaks become CRLF
		w.Write(b)                           // writes to a bytes.Buffer cannot fail
		w.Close()
		out := buf.Bytes()
		if nl != "\r\n" {
			out = bytes.ReplaceAll(out, []byte("\r\n"), []byte(nl))
		}
		return out
	case "base64":
		enc := base64.StdEncoding.EncodeToString(b)
		out := make([]byte, 0, len(enc)+len(enc)/76*len(nl)+len(nl))
		for len(enc) > 76 {
			out = append(append(out, enc[:76]...), nl...)
			enc = enc[76:]
		}
		return append(append(out, enc...), nl...)
	}
	return b
}
