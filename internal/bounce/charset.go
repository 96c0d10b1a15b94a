package bounce

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The charsets that non-delivery notices are written in are, in practice,
// UTF-8, US-ASCII, ISO-8859-1/15 and Windows-1252 (Exchange in Western
// European languages) and now and then UTF-16. These are decoded here with
// the standard library only. Any other charset is read as if it were
// UTF-8: the addresses, status codes and English phrases a detector needs
// are ASCII in every ASCII-compatible charset.

// cp1252 maps the bytes 0x80-0x9f of Windows-1252; the rest equals Latin-1.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

// decodeCharset converts b from charset cs to valid UTF-8.
func decodeCharset(cs string, b []byte) string {
	switch normCharset(cs) {
	case "latin1":
		var sb strings.Builder
		sb.Grow(len(b) + len(b)/8)
		for _, c := range b {
			if c >= 0x80 && c < 0xa0 {
				sb.WriteRune(cp1252[c-0x80])
			} else {
				sb.WriteRune(rune(c))
			}
		}
		return sb.String()
	case "utf16be":
		return decodeUTF16(b, true)
	case "utf16le":
		return decodeUTF16(b, false)
	case "utf16":
		if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe {
			return decodeUTF16(b[2:], false)
		}
		if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
			b = b[2:]
		}
		return decodeUTF16(b, true)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// normCharset names the decoder for a charset label.
func normCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	switch cs {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819",
		"iso-8859-15", "iso8859-15", "latin-9", "latin9",
		"windows-1252", "cp1252", "x-cp1252", "ms-ansi":
		return "latin1"
	case "utf-16be", "utf16be", "unicodefffe":
		return "utf16be"
	case "utf-16le", "utf16le":
		return "utf16le"
	case "utf-16", "utf16", "unicode", "ucs-2":
		return "utf16"
	}
	return "utf8"
}

// decodeUTF16 decodes UTF-16 in the given byte order.
func decodeUTF16(b []byte, bigEndian bool) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if bigEndian {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		} else {
			u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
		}
	}
	return string(utf16.Decode(u))
}

// wordDecoder decodes RFC 2047 encoded words with the charsets above.
var wordDecoder = &mime.WordDecoder{
	CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(io.LimitReader(r, maxFieldLen))
		if err != nil {
			return nil, fmt.Errorf("charset %s: %w", cs, err)
		}
		return strings.NewReader(decodeCharset(cs, b)), nil
	},
}

// decodeHeader decodes the encoded words of a header value; a value that
// does not decode is returned as valid UTF-8, unchanged otherwise.
func decodeHeader(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}
