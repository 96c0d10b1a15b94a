package mime

import (
	"bytes"
	"strings"
	"testing"
)

// decorated parses in, decorates it and returns the output message and the
// UTF-8 texts of its leaves.
func decorated(t *testing.T, in, header, footer string) (*Message, []*Part) {
	t.Helper()
	m, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := Decorate(m, header, footer); err != nil {
		t.Fatal(err)
	}
	out, err := Parse(m.Bytes())
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, m.Bytes())
	}
	var parts []*Part
	if err := Walk(out, func(p *Part) error { parts = append(parts, p); return nil }); err != nil {
		t.Fatalf("Walk(output): %v\n%s", err, m.Bytes())
	}
	return out, parts
}

func TestDecorateCharsets(t *testing.T) {
	cases := []struct {
		name, in, footer     string
		wantCharset, wantCTE string
		wantText             string
	}{
		{"latin-1 footer stays latin-1",
			"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nna=EFve\n",
			"für\n", "iso-8859-1", "quoted-printable", "naïve\nfür\n"},
		{"en dash forces utf-8",
			"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nna=EFve\n",
			"a – b\n", "utf-8", "quoted-printable", "naïve\na – b\n"},
		{"7bit ascii becomes qp utf-8",
			"Content-Type: text/plain\n\nhello\n", "é\n", "utf-8", "quoted-printable", "hello\né\n"},
		{"8bit utf-8 stays 8bit",
			"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nhällo\n", "é\n", "utf-8", "8bit", "hällo\né\n"},
		{"utf-16 is converted",
			"Content-Type: text/plain; charset=utf-16le\nContent-Transfer-Encoding: base64\n\naABpAAoA\n",
			"ok\n", "utf-8", "base64", "hi\nok\n"},
		{"koi8-r keeps cyrillic",
			"Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n",
			"Пока\n", "koi8-r", "8bit", "Привет\nПока\n"},
		{"mislabelled us-ascii with 8-bit bytes",
			"Content-Type: text/plain; charset=us-ascii\n\ncaf\xe9\n", "ü\n", "utf-8", "quoted-printable", "café\nü\n"},
		{"no body", "Subject: x\n", "footer\n", "", "", "footer\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, parts := decorated(t, c.in, "", c.footer)
			if len(parts) != 1 {
				t.Fatalf("%d parts, want 1", len(parts))
			}
			p := parts[0]
			if p.Charset != c.wantCharset || p.Encoding != c.wantCTE || p.Text() != c.wantText {
				t.Errorf("got charset %q, encoding %q, text %q; want %q, %q, %q",
					p.Charset, p.Encoding, p.Text(), c.wantCharset, c.wantCTE, c.wantText)
			}
		})
	}
}

func TestDecorateFlowed(t *testing.T) {
	in := "Content-Type: text/plain; format=flowed\n\nA flowed \nparagraph \n"
	_, parts := decorated(t, in, "Header line   \n", "-- \nFrom the list\n> quoted\n trailing   \n")
	want := "Header line\nA flowed \nparagraph\n-- \n From the list\n > quoted\n  trailing\n"
	if got := parts[0].Text(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestDecorateStructure(t *testing.T) {
	const signed = "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\n" +
		"--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n"
	cases := []struct {
		name, in    string
		wantTypes   []string // leaf content types after decoration
		wantText    string   // text of the leaf holding the original text
		keep        string   // bytes that must survive unchanged
		wantWrapped bool
	}{
		{"single leaf inside alternative is decorated in place",
			"Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\nbody\n--a--\n",
			[]string{"text/plain"}, "H\nbody\nF", "--a\nContent-Type: text/plain\n\nH\nbody\nF\n--a--\n", false},
		{"mixed without close delimiter",
			"Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nbody\n--m\nContent-Type: image/png\n\nPNG",
			[]string{"text/plain", "text/plain", "image/png", "text/plain"}, "body", "PNG", false},
		{"mixed holding signed: parts added outside the signature",
			"Content-Type: multipart/mixed; boundary=m\n\n--m\n" + signed + "--m--\n",
			[]string{"text/plain", "text/plain", "application/pgp-signature", "text/plain"}, "signed text",
			"--s\nContent-Type: text/plain\n\nsigned text\n--s\n", false},
		{"signed is wrapped", signed,
			[]string{"text/plain", "text/plain", "application/pgp-signature", "text/plain"}, "signed text",
			"--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n", true},
		{"encrypted is wrapped",
			"Content-Type: multipart/encrypted; boundary=e\n\n--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: text/plain\n\nx\n--e--\n",
			[]string{"text/plain", "application/pgp-encrypted", "text/plain", "text/plain"}, "x", "", true},
		{"text/plain attachment is wrapped",
			"Content-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\ndata\n",
			[]string{"text/plain", "text/plain", "text/plain"}, "data\n", "data\n", true},
		{"html is wrapped",
			"Content-Type: text/html\n\n<p>x</p>\n", []string{"text/plain", "text/html", "text/plain"}, "<p>x</p>\n", "<p>x</p>\n", true},
		{"unknown transfer encoding is wrapped",
			"Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n",
			[]string{"text/plain", "text/plain", "text/plain"}, "begin 644 a\n", "begin 644 a\n", true},
		{"unknown charset with non-ascii footer is wrapped",
			"Content-Type: text/plain; charset=x-mystery\n\n\xff\xfe\n",
			[]string{"text/plain", "text/plain", "text/plain"}, "", "\xff\xfe\n", true},
		{"multipart without delimiters is wrapped",
			"Content-Type: multipart/mixed; boundary=zz\n\njust text\n",
			[]string{"text/plain", "multipart/mixed", "text/plain"}, "", "just text\n", true},
		{"new text containing the boundary is wrapped",
			"Content-Type: multipart/alternative; boundary=F\n\n--F\nContent-Type: text/plain\n\nbody\n--F--\n",
			[]string{"text/plain", "text/plain", "text/plain"}, "body", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			footer := "F\n"
			if strings.Contains(c.name, "non-ascii") {
				footer = "Fü\n"
			}
			if strings.Contains(c.name, "containing the boundary") {
				footer = "--F\n"
			}
			out, parts := decorated(t, c.in, "H\n", footer)
			var types []string
			found := c.wantText == ""
			for _, p := range parts {
				types = append(types, p.ContentType)
				found = found || strings.Contains(p.Text(), c.wantText)
			}
			if strings.Join(types, " ") != strings.Join(c.wantTypes, " ") {
				t.Errorf("leaf types %q, want %q\n%s", types, c.wantTypes, out.Bytes())
			}
			if !found {
				t.Errorf("no leaf has text %q\n%s", c.wantText, out.Bytes())
			}
			if !bytes.Contains(out.Body, []byte(c.keep)) {
				t.Errorf("output lost %q\n%s", c.keep, out.Bytes())
			}
			wrapped := strings.HasPrefix(out.Header.Get("Content-Type"), `multipart/mixed; boundary="=_herald_`)
			if wrapped != c.wantWrapped {
				t.Errorf("wrapped = %v, want %v\n%s", wrapped, c.wantWrapped, out.Bytes())
			}
		})
	}
}

func TestDecorateHeaders(t *testing.T) {
	in := "From: a@example.org\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\nSubject: s\n\n<p>é</p>\n"
	out, _ := decorated(t, in, "", "F")
	want := "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" +
		out.Header.fields[2].value()[len(`multipart/mixed; boundary="`):len(out.Header.fields[2].value())-1] +
		"\"\nContent-Transfer-Encoding: 8bit\nSubject: s\n"
	if got := string(out.Header.appendTo(nil, true)); got != want {
		t.Errorf("header:\n%s\nwant:\n%s", got, want)
	}
	if n := len(out.Header.Values("MIME-Version")); n != 1 {
		t.Errorf("%d MIME-Version fields", n)
	}
}

func TestDecorateNoop(t *testing.T) {
	in := []byte("Subject: x\n\nbody\n")
	m, _ := Parse(in)
	if err := Decorate(m, "", ""); err != nil || !bytes.Equal(m.Bytes(), in) {
		t.Errorf("empty decoration changed the message: %v %q", err, m.Bytes())
	}
	if err := Decorate(nil, "h", "f"); err == nil {
		t.Error("Decorate(nil) did not fail")
	}
	if err := Decorate(&Message{}, "h", "f"); err == nil {
		t.Error("Decorate without header did not fail")
	}
}

func TestDecorateHeaderOnly(t *testing.T) {
	_, parts := decorated(t, "Content-Type: text/plain\n\nbody", "Top\r\n", "")
	if got := parts[0].Text(); got != "Top\nbody\n" {
		t.Errorf("got %q", got)
	}
}
