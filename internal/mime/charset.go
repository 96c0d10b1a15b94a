package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

var errUnsupportedCharset = errors.New("unsupported charset")

// normCharset returns the lower-cased charset name, with the common spellings
// of UTF-8 and US-ASCII folded together.
func normCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(cs, " \t\""))
	switch cs {
	case "utf8", "utf-8":
		return "utf-8"
	case "", "ascii", "us-ascii", "ansi_x3.4-1968", "iso646-us", "us":
		return "us-ascii"
	}
	return cs
}

// decodeCharset converts b from charset cs to valid UTF-8. Invalid bytes
// become U+FFFD; US-ASCII text with 8-bit bytes is read as UTF-8 if valid,
// else as Windows-1252 (the usual mislabelling).
func decodeCharset(cs string, b []byte) (string, error) {
	switch normCharset(cs) {
	case "utf-8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "us-ascii":
		if utf8.Valid(b) {
			return string(b), nil
		}
		out, err := charmap.Windows1252.NewDecoder().Bytes(b)
		return string(out), err
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("%w: %w", errUnsupportedCharset, err)
	}
	// A decoder writes at most 3 bytes of UTF-8 per input byte (U+FFFD);
	// the limit only guards against a misbehaving one.
	out, err := io.ReadAll(io.LimitReader(r, 4*int64(len(b))+16))
	if err != nil {
		return "", fmt.Errorf("charset %q: %w", cs, err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// encodeCharset converts UTF-8 s to charset cs. It fails if s has a
// character cs cannot represent, if cs does not write ASCII (and so CR, LF
// and space) as ASCII, as UTF-16 does, or if cs is unknown and s is not
// ASCII. An unknown charset is taken to be a superset of ASCII, as nearly
// all charsets in mail are.
func encodeCharset(cs string, s string) ([]byte, error) {
	switch normCharset(cs) {
	case "utf-8":
		return []byte(s), nil
	case "us-ascii":
		if !isASCII(s) {
			return nil, fmt.Errorf("charset us-ascii: text is not ASCII")
		}
		return []byte(s), nil
	}
	enc := lookupEncoding(cs)
	if enc == nil {
		if isASCII(s) {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("%w %q", errUnsupportedCharset, cs)
	}
	const probe = "\r\n -=>"
	if p, err := enc.NewEncoder().String(probe); err != nil || p != probe {
		return nil, fmt.Errorf("%w %q: not ASCII-compatible", errUnsupportedCharset, cs)
	}
	out, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", cs, err)
	}
	return out, nil
}

// lookupEncoding finds cs in the IANA MIME names, then the WHATWG labels.
func lookupEncoding(cs string) encoding.Encoding {
	if e, err := ianaindex.MIME.Encoding(cs); err == nil && e != nil {
		return e
	}
	if e, err := htmlindex.Get(cs); err == nil && e != nil {
		return e
	}
	return nil
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toUTF8 returns s if it is valid UTF-8, else s with each invalid byte read
// as ISO-8859-1, the most common source of raw 8-bit header bytes.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = rune(s[i])
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}
