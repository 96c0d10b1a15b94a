package smtpclient

import (
	"bytes"
	"testing"
)

func TestWire(t *testing.T) {
	cases := []struct {
		name  string
		parts []string
		want  string
	}{
		{"crlf kept", []string{"A: b\r\n\r\nbody\r\n"}, "A: b\r\n\r\nbody\r\n.\r\n"},
		{"bare lf", []string{"A: b\n\nbody\n"}, "A: b\r\n\r\nbody\r\n.\r\n"},
		{"no final newline", []string{"A: b\r\n\r\nbody"}, "A: b\r\n\r\nbody\r\n.\r\n"},
		{"dot stuffing", []string{"A: b\r\n\r\n.\r\n..x\r\nmid.dle\r\n."}, "A: b\r\n\r\n..\r\n...x\r\nmid.dle\r\n..\r\n.\r\n"},
		{"prefix part", []string{"DKIM-Signature: x\r\n", "A: b\n\n.hidden\n"}, "DKIM-Signature: x\r\nA: b\r\n\r\n..hidden\r\n.\r\n"},
		{"dot after part boundary mid-line", []string{"A: b", ".c\r\n\r\n"}, "A: b.c\r\n\r\n.\r\n"},
		{"empty", []string{""}, ".\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var parts [][]byte
			for _, p := range c.parts {
				parts = append(parts, []byte(p))
			}
			if got := string(Wire(parts...)); got != c.want {
				t.Errorf("Wire(%q) = %q, want %q", c.parts, got, c.want)
			}
		})
	}
}

// wireByBytes is Wire's plain per-byte definition, the reference for
// FuzzWire.
func wireByBytes(parts ...[]byte) []byte {
	var out []byte
	bol := true
	var prev byte
	for _, p := range parts {
		for _, c := range p {
			if bol && c == '.' {
				out = append(out, '.')
			}
			if c == '\n' && prev != '\r' {
				out = append(out, '\r')
			}
			out = append(out, c)
			bol, prev = c == '\n', c
		}
	}
	if !bol {
		out = append(out, '\r', '\n')
	}
	return append(out, '.', '\r', '\n')
}

func FuzzWire(f *testing.F) {
	f.Add([]byte("A: b\r\n\r\nbody\r\n"), []byte(".x\n"), 3)
	f.Add([]byte("A: b\r"), []byte("\n.\n"), 0)
	f.Add([]byte(""), []byte("\n\n.."), 1)
	f.Fuzz(func(t *testing.T, a, b []byte, cut int) {
		// Three parts, split anywhere, as Wire gets a signature and a message.
		cut = int(uint(cut) % uint(len(b)+1))
		parts := [][]byte{a, b[:cut], b[cut:]}
		if got, want := Wire(parts...), wireByBytes(parts...); !bytes.Equal(got, want) {
			t.Fatalf("Wire(%q) = %q, want %q", parts, got, want)
		}
	})
}

func BenchmarkWire64KiB(b *testing.B) {
	line := []byte("A line of a list post, about seventy characters long, with a dot.\r\n")
	msg := bytes.Repeat(line, 65536/len(line))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		Wire(msg)
	}
}

func TestReplyParse(t *testing.T) {
	cases := []struct {
		code      int
		msg       string
		enh, text string
		temp      bool
	}{
		{250, "2.0.0 Ok: queued", "2.0.0", "Ok: queued", false},
		{550, "5.1.1 <x@y>: Recipient address rejected\n5.1.1 more", "5.1.1", "<x@y>: Recipient address rejected; more", false},
		{451, "try later", "", "try later", true},
		{552, "5.5.3 too many recipients", "5.5.3", "too many recipients", true},
		{550, "4.1.1 mismatched class", "", "4.1.1 mismatched class", false},
	}
	for _, c := range cases {
		r := parseReply(c.code, c.msg)
		if r.Enhanced != c.enh || r.Text != c.text || r.Temporary() != c.temp {
			t.Errorf("parseReply(%d, %q) = %+v (temporary %v), want %q %q %v", c.code, c.msg, r, r.Temporary(), c.enh, c.text, c.temp)
		}
	}
}
