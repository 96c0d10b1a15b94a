package mime

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	cases := []struct{ name, in, body string }{
		{"crlf", "A: 1\r\nB: 2\r\n\r\nbody\r\n", "body\r\n"},
		{"lf", "A: 1\nB: 2\n\nbody\n", "body\n"},
		{"mixed line ends", "A: 1\r\nB: 2\n\r\nbody\n", "body\n"},
		{"folded", "Subject: a\r\n\tb\r\n  c\r\n\r\n", ""},
		{"no blank line", "A: 1\nB: 2\n", ""},
		{"no final newline", "A: 1\nB: 2", ""},
		{"empty header", "\nbody only\n", "body only\n"},
		{"blank body", "A: 1\n\n", ""},
		{"obsolete space before colon", "Subject : x\n\n", ""},
		{"8-bit and NUL", "X: \xff\x00\xfe\n\n\x00\x80\n", "\x00\x80\n"},
		{"body with header-like lines", "A: 1\n\nB: 2\n\nC: 3\n", "B: 2\n\nC: 3\n"},
		{"cr inside value", "A: 1\r2\n\n", ""},
		{"empty value", "A:\nB:   \n\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := string(m.Bytes()); got != c.in {
				t.Errorf("Bytes = %q, want %q", got, c.in)
			}
			if string(m.Body) != c.body {
				t.Errorf("Body = %q, want %q", m.Body, c.body)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"not a header", "hello world\n", "header line 1: no colon"},
		{"garbage in header", "A: 1\ngarbage\n\nbody\n", "header line 2: no colon"},
		{"continuation first", " A: 1\n\n", "header line 1: continuation line"},
		{"space in name", "Bad Name: 1\n\n", "header line 1: invalid field name"},
		{"empty name", ": 1\n\n", "header line 1: invalid field name"},
		{"8-bit name", "N\xe4me: 1\n\n", "header line 1: invalid field name"},
		{"mbox From_ line", "From alice@example.com Tue May 14 10:00:00 2024\nA: 1\n\n", "header line 1: invalid field name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want ErrMalformed with %q", err, c.want)
			}
		})
	}
}

func TestHeaderGet(t *testing.T) {
	m, err := Parse([]byte("Subject: first\r\n  folded  \r\nTO: a@example.com\r\nto: b@example.com\r\nX-Enc: =?utf-8?q?caf=C3=A9?=\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	if got := h.Get("subject"); got != "first  folded" {
		t.Errorf("Get(subject) = %q", got)
	}
	if got := h.Get("x-enc"); got != "=?utf-8?q?caf=C3=A9?=" {
		t.Errorf("Get must not decode RFC 2047: %q", got)
	}
	if got := h.Values("To"); len(got) != 2 || got[0] != "a@example.com" || got[1] != "b@example.com" {
		t.Errorf("Values(To) = %q", got)
	}
	if !h.Has("X-ENC") || h.Has("Cc") || h.Get("Cc") != "" {
		t.Error("Has/Get of absent field wrong")
	}
	want := []Field{{"Subject", "first  folded"}, {"TO", "a@example.com"}, {"to", "b@example.com"}, {"X-Enc", "=?utf-8?q?caf=C3=A9?="}}
	got := h.Fields()
	if len(got) != len(want) {
		t.Fatalf("Fields = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Fields[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestHeaderEdit checks each edit against the full expected header, so it
// also proves that untouched fields keep their exact bytes (folding, name
// case, trailing blanks, 8-bit bytes).
func TestHeaderEdit(t *testing.T) {
	const in = "Received: from a\r\n\tby b; Tue, 14 May 2024\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256;\r\n b=abc \r\n" +
		"subject: old one\r\n" +
		"X-Raw: \xe9t\xe9\r\n" +
		"Subject: old two\r\n" +
		"To: dev@example.org\r\n\r\nbody\r\n"
	const keep = "Received: from a\r\n\tby b; Tue, 14 May 2024\r\nDKIM-Signature: v=1; a=rsa-sha256;\r\n b=abc \r\n"
	cases := []struct {
		name string
		edit func(h *Header)
		want string
	}{
		{"nothing", func(h *Header) {}, in},
		{"set replaces first in place, drops others", func(h *Header) { h.Set("Subject", "[dev] new") },
			keep + "Subject: [dev] new\r\nX-Raw: \xe9t\xe9\r\nTo: dev@example.org\r\n\r\nbody\r\n"},
		{"set same value keeps raw bytes", func(h *Header) { h.Set("DKIM-Signature", "v=1; a=rsa-sha256; b=abc") }, in},
		{"set same value drops duplicates", func(h *Header) { h.Set("Subject", "old one") },
			keep + "subject: old one\r\nX-Raw: \xe9t\xe9\r\nTo: dev@example.org\r\n\r\nbody\r\n"},
		{"set absent appends", func(h *Header) { h.Set("List-Id", "<dev.example.org>") },
			strings.Replace(in, "\r\n\r\n", "\r\nList-Id: <dev.example.org>\r\n\r\n", 1)},
		{"del all", func(h *Header) { h.Del("SUBJECT") },
			keep + "X-Raw: \xe9t\xe9\r\nTo: dev@example.org\r\n\r\nbody\r\n"},
		{"del absent", func(h *Header) { h.Del("Cc") }, in},
		{"prepend", func(h *Header) { h.Prepend("Received", "by herald; Wed, 15 May 2024") },
			"Received: by herald; Wed, 15 May 2024\r\n" + in},
		{"add", func(h *Header) { h.Add("X-Loop", "dev@example.org") },
			strings.Replace(in, "\r\n\r\n", "\r\nX-Loop: dev@example.org\r\n\r\n", 1)},
		{"set folds long value", func(h *Header) {
			h.Set("To", strings.Repeat("someone@example.org, ", 5)+"last@example.org")
		}, strings.Replace(in, "To: dev@example.org\r\n",
			"To: someone@example.org, someone@example.org, someone@example.org,\r\n"+
				" someone@example.org, someone@example.org, last@example.org\r\n", 1)},
		{"injection is unfolded", func(h *Header) { h.Set("X-Raw", "a\r\nBcc: evil@example.com\n\tmore") },
			strings.Replace(in, "X-Raw: \xe9t\xe9\r\n", "X-Raw: a Bcc: evil@example.com\tmore\r\n", 1)},
		{"invalid name bytes dropped", func(h *Header) { h.Add("X Bad:Name\n", "v") },
			strings.Replace(in, "\r\n\r\n", "\r\nXBadName: v\r\n\r\n", 1)},
		{"unusable name ignored", func(h *Header) { h.Set(" :\r\n", "v") }, in},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			c.edit(m.Header)
			if got := string(m.Bytes()); got != c.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, c.want)
			}
		})
	}
}

func TestHeaderEditKeepsLineEnds(t *testing.T) {
	m, err := Parse([]byte("A: 1\nB: 2\n\nbody\n"))
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Set("A", strings.Repeat("word ", 30))
	m.Header.Prepend("P", "x")
	if got := string(m.Bytes()); strings.Contains(got, "\r") {
		t.Errorf("LF message got CR: %q", got)
	}

	// The last field lacks a line end: edits after it must add one.
	m, _ = Parse([]byte("A: 1"))
	m.Header.Add("B", "2")
	m.Body = []byte("body\r\n")
	if got, want := string(m.Bytes()), "A: 1\r\nB: 2\r\n\r\nbody\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHeaderZeroValueAndClone(t *testing.T) {
	var h Header
	h.Add("A", "1")
	m := &Message{Header: &h, Body: []byte("x")}
	if got := string(m.Bytes()); got != "A: 1\r\n\r\nx" {
		t.Errorf("zero Header: %q", got)
	}
	c := m.Clone()
	c.Header.Set("A", "2")
	c.Body[0] = 'y'
	if m.Header.Get("A") != "1" || m.Body[0] != 'x' {
		t.Error("Clone shares state")
	}
	if got := string((&Message{}).Bytes()); got != "" {
		t.Errorf("empty Message: %q", got)
	}
}

func TestNilHeaderReadsEmpty(t *testing.T) {
	var h *Header
	if h.Get("A") != "" || h.Has("A") || h.Values("A") != nil || h.Fields() != nil || h.Len() != 0 {
		t.Error("nil Header does not read as empty")
	}
	m := &Message{Body: []byte("text\n")}
	if got := TextBody(m); got != "text\n" {
		t.Errorf("TextBody = %q", got)
	}
	if AddressList(nil, "To") != nil || Walk(nil, nil) == nil || TextBody(nil) != "" {
		t.Error("nil message handling")
	}
}
