package mime

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixSubject(t *testing.T) {
	cases := []struct {
		name, raw, prefix string
		id                int
		want              string
	}{
		{"plain", "Hello", "[dev] ", 1, "[dev] Hello"},
		{"already prefixed: raw kept", "[dev] Hello", "[dev] ", 1, "[dev] Hello"},
		{"prefix without trailing space", "Hello", "[dev]", 1, "[dev] Hello"},
		{"reply", "Re: Hello", "[dev] ", 1, "[dev] Re: Hello"},
		{"reply to prefixed", "Re: [dev] Hello", "[dev] ", 1, "[dev] Re: Hello"},
		{"double prefix chain", "Re: [dev] Re: [dev] x", "[dev] ", 1, "[dev] Re: x"},
		{"prefixed reply kept raw", "[dev] Re: x", "[dev] ", 1, "[dev] Re: x"},
		{"AW chain", "AW: [dev] AW: Termin", "[dev] ", 1, "[dev] Re: Termin"},
		{"SV", "SV: [dev] Möte", "[dev] ", 1, "[dev] Re: =?UTF-8?B?TcO2dGU=?="},
		{"RE space colon", "RE : [dev] x", "[dev] ", 1, "[dev] Re: x"},
		{"Re[2]", "Re[2]: [dev] x", "[dev] ", 1, "[dev] Re: x"},
		{"Re(3) and VS", "Re(3): VS: x", "[dev] ", 1, "[dev] Re: x"},
		{"full-width colon", "回复：[dev] 你好", "[dev] ", 1, "[dev] Re: =?UTF-8?B?5L2g5aW9?="},
		{"forward keeps Fwd", "Fwd: [dev] x", "[dev] ", 1, "[dev] Fwd: x"},
		{"reply then forward", "Re: Fwd: [dev] x", "[dev] ", 1, "[dev] Re: Fwd: x"},
		{"prefix case differs", "Re: [DEV] x", "[dev] ", 1, "[dev] Re: x"},
		{"prefix in the middle", "Re: x [dev] y", "[dev] ", 1, "[dev] Re: x y"},
		{"numbered", "Hello", "[dev %d] ", 42, "[dev 42] Hello"},
		{"numbered, other number", "Re: [dev 41] Hello", "[dev %d] ", 42, "[dev 42] Re: Hello"},
		{"numbered, padded", "Re: [dev  7] [dev 0041] x", "[dev %04d] ", 42, "[dev 0042] Re: x"},
		{"numbered, width", "x", "(%3d) ", 7, "(  7) x"},
		{"percent literal", "x", "[100%%] ", 1, "[100%] x"},
		{"empty", "", "[dev] ", 1, "[dev] (no subject)"},
		{"blank", "  \t ", "[dev] ", 1, "[dev] (no subject)"},
		{"only prefix and Re", "Re: [dev]", "[dev] ", 1, "[dev] Re: (no subject)"},
		{"empty prefix", "Re: x", "", 1, "Re: x"},
		{"encoded, utf-8 B", "=?UTF-8?B?W2Rldl0gUmU6IFtkZXZdIMOcYmVy?=", "[dev] ", 1, "[dev] Re: =?UTF-8?B?w5xiZXI=?="},
		{"encoded prefix already there: raw kept", "=?utf-8?q?=5Bdev=5D_Caf=C3=A9?=", "[dev] ", 1, "=?utf-8?q?=5Bdev=5D_Caf=C3=A9?="},
		{"encoded windows-1252", "=?windows-1252?Q?Re:_[dev]_5_=80?=", "[dev] ", 1, "[dev] Re: 5 =?UTF-8?B?4oKs?="},
		{"encoded iso-2022-jp", "=?ISO-2022-JP?B?UmU6IFtkZXZdIBskQjJxNUQbKEI=?=", "[dev] ", 1, "[dev] Re: =?UTF-8?B?5Lya6K2w?="},
		{"encoded ascii becomes plain", "=?us-ascii?q?Re=3A_hello?=", "[dev] ", 1, "[dev] Re: hello"},
		{"folded raw", "Re: [dev] a\r\n b", "[dev] ", 1, "[dev] Re: a b"},
		{"non-ascii prefix", "Re: [разработка] x", "[разработка] ", 1, "=?UTF-8?B?W9GA0LDQt9GA0LDQsdC+0YLQutCwXQ==?= Re: x"},
		{"raw latin-1 bytes", "caf\xe9", "[dev] ", 1, "[dev] =?UTF-8?B?Y2Fmw6k=?="},
		{"unknown charset escaped", "=?x-nope?q?abc?=", "[dev] ", 1, "[dev] =?UTF-8?B?PT94LW5vcGU/cT9hYmM/PQ==?="},
		{"regexp metacharacters", "Re: (a+b).* x", "(a+b).* ", 1, "(a+b).* Re: x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := PrefixSubject(c.raw, c.prefix, c.id)
			if got != c.want {
				t.Errorf("PrefixSubject(%q, %q, %d) = %q, want %q", c.raw, c.prefix, c.id, got, c.want)
			}
			// Applying it again changes nothing (with the same number).
			if again := PrefixSubject(got, c.prefix, c.id); c.prefix != "" && again != got {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestEncodeWords(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"  keeps  spacing ", "  keeps  spacing "},
		{"café", "=?UTF-8?B?Y2Fmw6k=?="}, // B: 8 characters against Q's 9
		{"mostly ascii é", "mostly ascii =?UTF-8?B?w6k=?="},
		{"Grüße aus Köln", "=?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?="},
		{"naïve café", "=?UTF-8?B?bmHDr3ZlIGNhZsOp?="},                                      // adjacent: one run, space inside
		{"Résumé de la réunion", "=?UTF-8?B?UsOpc3Vtw6k=?= de la =?UTF-8?Q?r=C3=A9union?="}, // per word: B 12 < Q 16; Q 14 < B 16
		{"日本語", "=?UTF-8?B?5pel5pys6Kqe?="},
		{"literal =?x?q?y?= text", "literal =?UTF-8?B?PT94P3E/eT89?= text"},
		{"tab\there", "tab\there"},
		{"ctl\x01", "=?UTF-8?Q?ctl=01?="},
		{"bad \xff utf8", "bad =?UTF-8?B?w78=?= utf8"},
	}
	for _, c := range cases {
		if got := EncodeWords(c.in); got != c.want {
			t.Errorf("EncodeWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDecodeWords(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?utf-8?q?caf=C3=A9?=", "café"},
		{"=?UTF-8?B?Y2Fmw6k=?=", "café"},
		{"=?utf-8?b?Y2Fmw6k?=", "café"}, // missing padding
		{"a =?utf-8?q?b?= c", "a b c"},
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},            // §6.2: space between words goes
		{"=?utf-8?q?a?=\r\n =?iso-8859-1?q?=E9?=", "aé"}, // across charsets too
		{"=?utf-8?q?a_?= b", "a  b"},
		{"=?utf-8?b?w6k=?==?utf-8?b?w6k=?=", "éé"},
		{"=?utf-8?b?4oI=?= =?utf-8?b?rA==?=", "€"}, // character split across words
		{"=?iso-8859-1?q?J=FCrgen?=", "Jürgen"},
		{"=?windows-1252?q?=80?=", "€"},
		{"=?koi8-r?b?8NLJ18XU?=", "Привет"},
		{"=?ISO-2022-JP?B?GyRCJEskWyRzGyhC?=", "にほん"},
		{"=?utf-8*en?q?hi?=", "hi"}, // RFC 2231 language
		{"=?x-unknown?q?abc?= =?utf-8?q?d?=", "=?x-unknown?q?abc?= d"},
		{"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
		{"=?utf-8?q?no end", "=?utf-8?q?no end"},
		{"=??q?a?=", "=??q?a?="},
		{"=?utf-8?q?a b?=", "=?utf-8?q?a b?="},
		{"=?utf-8?q?=ZZ?=", "=ZZ"},
		{"=?utf-8?q?=FF?=", "\uFFFD"},
		{"x=?=?utf-8?q?a?=", "x=?a"},
	}
	for _, c := range cases {
		if got := DecodeWords(c.in); got != c.want {
			t.Errorf("DecodeWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFoldHeader(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"Subject", "short", "Subject: short"},
		{"Subject", "", "Subject:"},
		{"Subject", "  trimmed  ", "Subject: trimmed"},
		{"X", "a\r\nB: injected", "X: a B: injected"},
		{"Subject", strings.Repeat("x", 100), "Subject:\r\n " + strings.Repeat("x", 100)},
		{"Subject", "[dev] " + strings.Repeat("y", 80), "Subject: [dev]\r\n " + strings.Repeat("y", 80)},
	}
	for _, c := range cases {
		if got := FoldHeader(c.name, c.value); got != c.want {
			t.Errorf("FoldHeader(%q, %q) = %q, want %q", c.name, c.value, got, c.want)
		}
	}
}

// TestFoldHeaderShortcut: the shortcut for fields that fit on one line
// gives what the general case gives, at every length around the limit
// and with what the shortcut must leave to it (line breaks, encoded
// words, runs of whitespace, tabs).
func TestFoldHeaderShortcut(t *testing.T) {
	var values []string
	for n := 60; n <= 90; n++ {
		w := strings.Repeat("w", n/3)
		values = append(values, (w + " " + w + "\t " + w + strings.Repeat("z", n))[:n])
	}
	for n := 55; n <= 70; n++ { // an encoded word's lines stop at 76
		values = append(values, "x =?utf-8?q?"+strings.Repeat("a", n)+"?=")
	}
	values = append(values, "", "  ", " \t", "a  b", "\tlead", "trail\t ", "a\r\n b", "a\nb",
		"=?utf-8?q?caf=C3=A9?= x", "x =? y ?= z", strings.Repeat("é", 30))
	for _, name := range []string{"Subject", "List-Unsubscribe-Post", "X"} {
		for _, v := range values {
			if got, want := FoldHeader(name, v), foldHeader(name, v); got != want {
				t.Errorf("FoldHeader(%q, %q) = %q, general case %q", name, v, got, want)
			}
		}
	}
}

// TestEncodeFoldRoundTrip: for many subjects, encoded words stay within 75
// characters, lines within 76 when they hold one (78 otherwise), and
// unfolding plus decoding gives the text back.
func TestEncodeFoldRoundTrip(t *testing.T) {
	subjects := []string{
		"Vorschlag: Neugestaltung der Benutzeroberfläche für die Mitgliederverwaltung, einschließlich Übersetzungen",
		strings.Repeat("日本語のとても長い件名", 12),
		strings.TrimSpace(strings.Repeat("Ελληνικά ", 30)),
		"[dev] Re: " + strings.Repeat("ü", 200),
		strings.Repeat("a", 60) + " " + strings.Repeat("é", 60) + " " + strings.Repeat("b", 60),
		"emoji 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 done",
		"mixed ascii and ünïcödé words, interleaved with plain ones, long enough to fold twice or more",
	}
	for _, s := range subjects {
		enc := EncodeWords(s)
		folded := FoldHeader("Subject", enc)
		for _, line := range strings.Split(folded, "\r\n") {
			limit := 78
			if strings.Contains(line, "=?") {
				limit = 76
			}
			if len(line) > limit && strings.Count(strings.TrimSpace(line), " ") > 0 {
				t.Errorf("line of %d > %d characters: %q", len(line), limit, line)
			}
		}
		for _, w := range strings.Fields(enc) {
			if strings.HasPrefix(w, "=?") && len(w) > maxEncodedWord {
				t.Errorf("encoded word of %d characters: %q", len(w), w)
			}
			if strings.HasPrefix(w, "=?") && !utf8.ValidString(DecodeWords(w)) {
				t.Errorf("encoded word splits a character: %q", w)
			}
		}
		value := strings.TrimPrefix(unfoldValue(folded), "Subject:")
		if got := DecodeWords(strings.TrimSpace(value)); got != s {
			t.Errorf("round trip:\n got %q\nwant %q\nfolded %q", got, s, folded)
		}
	}
}
