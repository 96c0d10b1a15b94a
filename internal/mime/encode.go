package mime

import (
	"encoding/base64"
	"strings"
)

// RFC 2047 §2: an encoded word is at most 75 characters. With the
// "=?UTF-8?X?" and "?=" wrapping that leaves 63 characters of encoded text.
const (
	maxEncodedWord = 75
	maxQText       = maxEncodedWord - len("=?UTF-8?Q?") - len("?=")
	maxBBytes      = maxQText / 4 * 3 // 45 bytes → 60 base64 characters
	foldColumn     = 78               // RFC 5322 §2.1.1
	encodedColumn  = 76               // RFC 2047 §2, lines with encoded words
)

// EncodeWords returns s as an RFC 2047 header value: words that are not
// plain printable ASCII (or that look like encoded words) become UTF-8
// encoded words, Q or B, whichever is shorter, at most 75 characters each;
// everything else is kept as it is. Adjacent such words are encoded together
// so the space between them survives decoding (RFC 2047 §6.2). Invalid UTF-8
// bytes are read as ISO-8859-1. The result is unfolded; see FoldHeader.
func EncodeWords(s string) string {
	toks := splitWords(s)
	need := false
	for _, t := range toks {
		need = need || needsEncoding(t.word)
	}
	if !need {
		return s
	}
	var b strings.Builder
	pos := 0 // offset of toks[i] in s
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		b.WriteString(t.ws)
		start := pos + len(t.ws)
		pos = start + len(t.word)
		if !needsEncoding(t.word) {
			b.WriteString(t.word)
			continue
		}
		// Extend the run over the following words that need encoding.
		for i+1 < len(toks) && needsEncoding(toks[i+1].word) {
			i++
			pos += len(toks[i].ws) + len(toks[i].word)
		}
		b.WriteString(encodeRun(toUTF8(s[start:pos])))
	}
	return b.String()
}

// needsEncoding reports whether a word cannot go into a header as it is.
func needsEncoding(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return strings.Contains(w, "=?") && strings.Contains(w, "?=")
}

// qSafe reports whether c may stand for itself in a Q-encoded word in any
// header context (RFC 2047 §5 rule 3).
func qSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/'
}

func qLen(c byte) int {
	if qSafe(c) || c == ' ' {
		return 1
	}
	return 3
}

// encodeRun encodes valid UTF-8 s as one or more encoded words separated by
// single spaces, splitting only between characters.
func encodeRun(s string) string {
	ql := 0
	for i := 0; i < len(s); i++ {
		ql += qLen(s[i])
	}
	useQ := ql <= (len(s)+2)/3*4
	var words []string
	start, size := 0, 0 // current chunk: s[start:i], size in encoded chars or bytes
	for i, r := range s {
		n := len(string(r))
		w := n
		if useQ {
			w = 0
			for j := i; j < i+n; j++ {
				w += qLen(s[j])
			}
		}
		if size > 0 && (useQ && size+w > maxQText || !useQ && size+w > maxBBytes) {
			words = append(words, encodeWord(s[start:i], useQ))
			start, size = i, 0
		}
		size += w
	}
	words = append(words, encodeWord(s[start:], useQ))
	return strings.Join(words, " ")
}

func encodeWord(s string, useQ bool) string {
	if !useQ {
		return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString("=?UTF-8?Q?")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case qSafe(c):
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('_')
		default:
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	b.WriteString("?=")
	return b.String()
}

// FoldHeader returns the field "name: value" folded for the wire: CRLF
// followed by a space is inserted before whitespace so that lines stay
// within 78 characters (76 for lines with encoded words, RFC 2047 §2). It
// never splits a word, so an encoded word is never broken; a word too long
// for any line stays whole on its own line. CR and LF in value are unfolded
// first, so the result is always a single field. The result has no
// trailing line end.
func FoldHeader(name, value string) string {
	// Most fields a list adds fit on one line: they need none of the
	// work below, and folding is ~2% of a post's CPU. The general case
	// gives the same result for these (TestFoldHeaderShortcut).
	if v := strings.Trim(value, " \t"); len(name)+2+len(v) <= foldColumn &&
		!strings.ContainsAny(value, "\r\n") && !strings.Contains(v, "=?") {
		if v == "" {
			return name + ":"
		}
		return name + ": " + v
	}
	return foldHeader(name, value)
}

// foldHeader is FoldHeader's general case.
func foldHeader(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(':')
	n := len(name) + 1 // length of the current line
	encoded := false   // the current line has an encoded word
	for i, t := range splitWords(unfoldValue(value)) {
		ws := t.ws
		if i == 0 {
			ws = " "
		}
		enc := isEncodedWord(t.word)
		limit := foldColumn
		if enc || encoded {
			limit = encodedColumn
		}
		// Every fold is followed by a word, so a line never holds only
		// whitespace (RFC 5322 §3.2.2).
		if n+len(ws)+len(t.word) > limit {
			b.WriteString("\r\n")
			n, encoded = 0, false
		}
		b.WriteString(ws)
		b.WriteString(t.word)
		n += len(ws) + len(t.word)
		encoded = encoded || enc
	}
	return b.String()
}

func isEncodedWord(w string) bool {
	i := strings.Index(w, "=?")
	return i >= 0 && strings.Contains(w[i+2:], "?=")
}

// unfoldValue turns a value that may contain line breaks into one line:
// a line break before whitespace is removed (RFC 5322 §2.2.3), any other
// becomes a space. Surrounding whitespace is trimmed.
func unfoldValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return strings.Trim(v, " \t")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
			continue
		}
		j := i
		for j < len(v) && (v[j] == '\r' || v[j] == '\n') {
			j++
		}
		if j == len(v) || v[j] != ' ' && v[j] != '\t' {
			b.WriteByte(' ')
		}
		i = j - 1
	}
	return strings.Trim(b.String(), " \t")
}

// token is a word with the whitespace before it.
type token struct{ ws, word string }

// splitWords splits s into words (runs of non-blank bytes), each with the
// blanks (space, tab) before it. Trailing blanks form a token with an empty
// word, so joining the tokens gives s back.
func splitWords(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		k := j
		for k < len(s) && s[k] != ' ' && s[k] != '\t' {
			k++
		}
		toks = append(toks, token{ws: s[i:j], word: s[j:k]})
		i = k
	}
	return toks
}
