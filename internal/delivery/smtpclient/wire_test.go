package smtpclient

import "testing"

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
