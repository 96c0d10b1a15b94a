package mime

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestWalkAttachment(t *testing.T) {
	raw, err := os.ReadFile("testdata/mixed-attachment.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*Part
	if err := Walk(m, func(p *Part) error { parts = append(parts, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	txt, pdf := parts[0], parts[1]
	if txt.Path != "1" || txt.ContentType != "text/plain" || txt.Charset != "utf-8" || txt.Text() != "Spec attached, comments welcome.\n" {
		t.Errorf("text part: %+v %q", txt, txt.Body)
	}
	if pdf.Path != "2" || pdf.Depth != 1 || pdf.ContentType != "application/pdf" || !pdf.IsAttachment() ||
		pdf.Filename != "spéc v2.pdf" || !strings.HasPrefix(string(pdf.Body), "%PDF-1.4") {
		t.Errorf("pdf part: %+v %q", pdf, pdf.Body)
	}
}

func TestWalkTree(t *testing.T) {
	in := "Content-Type: multipart/mixed; boundary=\"outer\"\n\n" +
		"preamble\n--outer\n" +
		"Content-Type: multipart/alternative; boundary=inner\n\n" +
		"--inner\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n" +
		"--inner\nContent-Type: text/html\n\n<b>caf&eacute;</b>\n--inner--\n" +
		"--outer\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: digested\n\ndigest body\n--d--\n" +
		"--outer\nContent-Type: message/rfc822\n\nSubject: attached\nContent-Type: text/plain; name=\"=?utf-8?q?n=C3=A4me?=\"\n\nattached body\n" +
		"--outerX\nnot a delimiter\n" +
		"--outer--  \nepilogue\n"
	m, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = Walk(m, func(p *Part) error {
		got = append(got, p.Path+" "+p.ContentType+" "+p.Filename+" "+strings.TrimSpace(p.Text()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1.1 text/plain  café",
		"1.2 text/html  <b>caf&eacute;</b>",
		"2.1.1 text/plain  digest body", // multipart/digest: parts default to message/rfc822
		"3.1 text/plain näme attached body\n--outerX\nnot a delimiter",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestWalkErrors(t *testing.T) {
	m, _ := Parse([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\nbad header line\n\ntwo\n--b--\n"))
	var seen int
	err := Walk(m, func(p *Part) error { seen++; return nil })
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "part 2: ") || seen != 1 {
		t.Errorf("err = %v after %d parts; want ErrMalformed at part 2 after 1", err, seen)
	}

	sentinel := errors.New("reject")
	m, _ = Parse([]byte("Subject: x\n\nbody\n"))
	err = Walk(m, func(p *Part) error { return sentinel })
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "part 1") {
		t.Errorf("err = %v, want the callback's error wrapped with the part", err)
	}
}

func TestTextBody(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Subject: x\n\nhello\n", "hello\n"},
		{"qp latin-1", "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nK=F6ln=\n!\n", "Köln!\n"},
		{"alternative prefers plain",
			"Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/html\n\n<p>html</p>\n--a\nContent-Type: text/plain\n\nplain\n--a--\n", "plain"},
		{"html only",
			"Content-Type: text/html; charset=utf-8\n\n<html><head><title>t</title><style>p{}</style></head><body><p>Hello&nbsp;<b>world</b></p><script>x()</script><!-- c --><p>2 &lt; 3</p></body></html>",
			"t\nHello world\n\n2 < 3"},
		{"attachment skipped",
			"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: text/plain\nContent-Disposition: attachment\n\nfile\n--a\nContent-Type: text/plain\n\nbody\n--a--\n", "body"},
		{"no text", "Content-Type: image/png\n\nPNG", ""},
		{"broken later part keeps earlier text",
			"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: text/html\n\n<i>early</i>\n--a\n bad\n--a--\n", "early"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := TextBody(m); got != c.want {
				t.Errorf("TextBody = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTextBodyBounded(t *testing.T) {
	m, _ := Parse([]byte("Content-Type: text/plain; charset=utf-8\n\n" + strings.Repeat("é", MaxTextBytes)))
	got := TextBody(m)
	if len(got) > MaxTextBytes || len(got) < MaxTextBytes-1 || !strings.HasSuffix(got, "é") {
		t.Errorf("TextBody length %d, want at most %d on a character boundary", len(got), MaxTextBytes)
	}
}
