package mime

import "testing"

func TestCRLF(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"lf", "a\nb\n", "a\r\nb\r\n"},
		{"crlf kept", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"mixed", "a\r\nb\nc", "a\r\nb\r\nc"},
		{"leading lf", "\nx", "\r\nx"},
		{"blank lines", "a\n\n\nb", "a\r\n\r\n\r\nb"},
		{"empty", "", ""},
		{"lone cr untouched", "a\rb\n", "a\rb\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(CRLF([]byte(c.in))); got != c.want {
				t.Fatalf("CRLF(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
