package mime

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// within fails the test if fn takes longer than d (generous, so that -race
// on a small machine passes; a quadratic path would take minutes).
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	if el := time.Since(start); el > d {
		t.Errorf("took %v, limit %v", el, d)
	}
}

// decorateAndCheck runs every entry point on m's bytes and checks that
// Decorate's output parses.
func exercise(t *testing.T, raw []byte) {
	t.Helper()
	m, err := Parse(raw)
	if err != nil {
		return
	}
	_ = Walk(m, func(p *Part) error { _ = p.Text(); return nil })
	_ = TextBody(m)
	_ = AddressList(m.Header, "From")
	_ = PrefixSubject(m.Header.Get("Subject"), "[dev %d] ", 1)
	if err := Decorate(m, "header é", "footer – ü"); err != nil {
		t.Fatalf("Decorate: %v", err)
	}
	if _, err := Parse(m.Bytes()); err != nil {
		t.Fatalf("Decorate output does not parse: %v", err)
	}
}

func TestHostileHeaderLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	cases := map[string]string{
		"1 MB line":              "Subject: " + long + "\n\nbody\n",
		"1 MB of continuations":  "Subject: a\n" + strings.Repeat(" b\n", 1<<18) + "\nbody\n",
		"1 MB line, no line end": "Subject: " + long,
		"1 MB name":              long + ": x\n\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			within(t, 2*time.Second, func() {
				_, err := Parse([]byte(in))
				if !errors.Is(err, ErrLimit) && !errors.Is(err, ErrMalformed) {
					t.Errorf("Parse: %v, want a limit error", err)
				}
			})
		})
	}
	t.Run("in a part header", func(t *testing.T) {
		in := "Content-Type: multipart/mixed; boundary=b\n\n--b\nX: " + long + "\n\nx\n--b--\n"
		within(t, 2*time.Second, func() {
			m, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if err := Walk(m, func(*Part) error { return nil }); !errors.Is(err, ErrLimit) {
				t.Errorf("Walk: %v, want ErrLimit", err)
			}
			exercise(t, []byte(in))
		})
	})
	t.Run("too many fields", func(t *testing.T) {
		in := strings.Repeat("X: y\n", MaxFields+1) + "\n"
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrLimit) {
			t.Errorf("Parse: %v, want ErrLimit", err)
		}
	})
	t.Run("long values in every function", func(t *testing.T) {
		v := strings.Repeat("=?utf-8?q?a?= é ", 6000) + strings.Repeat("=?", 10000) + strings.Repeat("=?x?q?", 5000)
		within(t, 5*time.Second, func() {
			_ = DecodeWords(v)
			enc := EncodeWords(v)
			_ = FoldHeader("Subject", enc)
			_ = PrefixSubject(v, "[dev] ", 1)
			h := NewHeader("\n")
			h.Set("Subject", v)
			h.Add("To", strings.Repeat("a@b, \"q\" <c@d>, (x) ", 5000))
			_ = AddressList(h, "To")
		})
	})
}

func TestHostileManyParts(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Subject: parts\nContent-Type: multipart/mixed; boundary=p\n\n")
	for i := 0; i < 100000; i++ {
		b.WriteString("--p\n\nx\n")
	}
	b.WriteString("--p--\n")
	raw := b.Bytes()
	within(t, 10*time.Second, func() {
		m, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = Walk(m, func(*Part) error { n++; return nil })
		if !errors.Is(err, ErrLimit) || n >= MaxParts {
			t.Errorf("Walk: %v after %d parts, want ErrLimit before %d", err, n, MaxParts)
		}
		exercise(t, raw)
	})
}

func TestHostileDeepNesting(t *testing.T) {
	for _, kind := range []string{"multipart", "message/rfc822"} {
		t.Run(kind, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("Subject: deep\n")
			for i := 0; i < 1000; i++ {
				if kind == "multipart" {
					fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i)
				} else {
					b.WriteString("Content-Type: message/rfc822\n\nSubject: inner\n")
				}
			}
			b.WriteString("\ninnermost\n")
			raw := []byte(b.String())
			within(t, 10*time.Second, func() {
				m, err := Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				err = Walk(m, func(*Part) error { return nil })
				if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "deeper than 50") {
					t.Errorf("Walk: %v, want ErrLimit for depth", err)
				}
				exercise(t, raw)
			})
		})
	}
}

func TestHostileCharsets(t *testing.T) {
	names := []string{
		"", "x-unknown", "utf-16", "utf-32", "UTF-7", "../../etc/passwd", "\x00\xff",
		strings.Repeat("a", 10000), "iso-2022-jp", "gb18030", "big5", "euc-kr", "cp1252",
		"csISOLatin1", "unicode-1-1-utf-7", "replacement", "x-user-defined", "hz-gb-2312",
	}
	junk := "\x1b$B\xff\xfe\x00\x1b(J\x80\x81"
	for _, cs := range names {
		t.Run(fmt.Sprintf("%.20q", cs), func(t *testing.T) {
			within(t, 2*time.Second, func() {
				_ = DecodeWords("=?" + cs + "?q?" + "=1B$B=FF=FE?= =?" + cs + "?b?/w==?=")
				p := &Part{Charset: cs, Body: []byte(junk)}
				_ = p.Text()
				raw := "Subject: =?" + cs + "?q?x?=\nContent-Type: text/plain; charset=\"" + cs + "\"\n" +
					"Content-Transfer-Encoding: quoted-printable\n\n=1B$B=FF\n"
				exercise(t, []byte(raw))
			})
		})
	}
}

func TestHostileHTML(t *testing.T) {
	in := "Content-Type: text/html\n\n" + strings.Repeat("<script>", 50000) + strings.Repeat("</", 50000) +
		strings.Repeat("<p", 50000) + strings.Repeat("&amp;", 50000)
	within(t, 5*time.Second, func() {
		m, err := Parse([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		_ = TextBody(m)
	})
}

func TestHostileBoundaries(t *testing.T) {
	cases := []string{
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
		"Content-Type: multipart/mixed; boundary=-\n\n---\n----\n--- \n",
		"Content-Type: multipart/mixed; boundary=a\n\n--a",
		"Content-Type: multipart/mixed; boundary=a\n\n--a--",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\n--a\n",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a--\r\n",
		"Content-Type: multipart/mixed; boundary=\"=_herald_\"\n\n--=_herald_\n\nx\n--=_herald_--\n",
		"Content-Type: multipart/signed; boundary=\n\nx",
		"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoKYm9keQo=\n",
		"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes; =bad; \"\n\nx \n",
		"Content-Type: multipart/digest; boundary=d\n\n--d\n\n\n--d--\n",
	}
	for i, in := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) { exercise(t, []byte(in)) })
	}
}
