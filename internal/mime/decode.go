package mime

import (
	"encoding/base64"
	"strings"
)

// DecodeWords decodes the RFC 2047 encoded words in a header value to UTF-8,
// in any charset go-message's charset package knows. Whitespace between
// adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words in
// the same charset are decoded together, so a character split across two
// words survives. Words that do not decode (bad syntax, unknown charset) and
// all other text are returned as they are; DecodeWords never fails.
func DecodeWords(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	var out strings.Builder
	run := wordRun{v: v} // adjacent encoded words not yet written
	for i := 0; i < len(v); {
		j := strings.Index(v[i:], "=?")
		if j < 0 {
			run.flush(&out)
			out.WriteString(v[i:])
			break
		}
		between := v[i : i+j]
		w, n, ok := parseEncodedWord(v[i+j:])
		if !ok {
			run.flush(&out)
			out.WriteString(v[i : i+j+2])
			i += j + 2
			continue
		}
		wsOnly := strings.Trim(between, " \t\r\n") == ""
		switch {
		case run.empty() || !wsOnly:
			run.flush(&out)
			out.WriteString(between)
		case strings.EqualFold(run.charset, w.charset):
			// Decoded together; the space goes (RFC 2047 §6.2).
		default:
			// The space between two encoded words goes too, unless one of
			// them ends up written as it is.
			if run.flush(&out) {
				run.lead = between
			} else {
				out.WriteString(between)
			}
		}
		run.add(w, i+j, i+j+n)
		i += j + n
	}
	run.flush(&out)
	return out.String()
}

// encodedWord is one parsed encoded word: its charset and decoded bytes.
type encodedWord struct {
	charset string
	data    []byte
}

// wordRun collects adjacent encoded words of one charset in v. The words
// are contiguous in v (with only whitespace between them), so the run as
// written is v[start:end].
type wordRun struct {
	v          string
	charset    string
	data       []byte
	start, end int
	lead       string // whitespace before the run, written only if decoding fails
}

func (r *wordRun) empty() bool { return r.end == 0 }

func (r *wordRun) add(w encodedWord, start, end int) {
	if r.empty() {
		r.charset, r.start = w.charset, start
	}
	r.end = end
	r.data = append(r.data, w.data...)
}

// flush writes the run, decoded if possible, and reports whether it was.
func (r *wordRun) flush(out *strings.Builder) bool {
	if r.empty() {
		return true
	}
	s, err := decodeCharset(r.charset, r.data)
	if err == nil {
		out.WriteString(s)
	} else {
		out.WriteString(r.lead + r.v[r.start:r.end])
	}
	*r = wordRun{v: r.v}
	return err == nil
}

// parseEncodedWord reads "=?charset?enc?text?=" at the start of s
// (RFC 2047 §2) and returns the word, its length and whether it is one. An
// RFC 2231 language suffix ("charset*lang") is ignored.
func parseEncodedWord(s string) (encodedWord, int, bool) {
	var w encodedWord
	rest := s[2:]
	// Every scan below stops at the first byte that cannot be in the word,
	// so a value full of "=?" costs linear time.
	q := strings.IndexAny(rest[:min(len(rest), 66)], "? \t\r\n")
	if q <= 0 || rest[q] != '?' || strings.ContainsAny(rest[:q], "()<>@,;:\"/[]=") {
		return w, 0, false
	}
	w.charset, _, _ = strings.Cut(rest[:q], "*")
	rest = rest[q+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return w, 0, false
	}
	enc := rest[0] | 0x20
	rest = rest[2:]
	end := strings.IndexAny(rest, "? \t\r\n")
	if end < 0 || rest[end] != '?' || !strings.HasPrefix(rest[end:], "?=") {
		return w, 0, false
	}
	text := rest[:end]
	switch enc {
	case 'b':
		w.data = decodeBase64Lenient([]byte(text))
	case 'q':
		w.data = decodeQ(text)
	default:
		return w, 0, false
	}
	n := len(s) - len(rest) + end + 2
	return w, n, true
}

// decodeQ decodes RFC 2047 "Q" text: "_" is a space, "=XX" a byte; a stray
// "=" stands for itself.
func decodeQ(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

// decodeBase64Lenient decodes base64, skipping bytes outside the alphabet
// (line breaks, garbage) and stopping at padding. It never fails: a dangling
// final character is dropped.
func decodeBase64Lenient(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c == '=' {
			break
		}
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean) // cannot fail on clean input
	return out[:n]
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
