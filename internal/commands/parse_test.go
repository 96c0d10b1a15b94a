package commands

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func names(p Parsed) string {
	var out []string
	for _, c := range p.Commands {
		n := c.Name
		if n == "" {
			n = "?"
		}
		out = append(out, strings.Join(append([]string{n}, c.Args...), " "))
	}
	return strings.Join(out, "|")
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, subject, body string
		want                string
		unprocessed         int
	}{
		{"subject only", "help", "", "help", 0},
		{"subject with reply prefixes", "Re: AW: Fwd: subscribe digest=mime", "", "join digest=mime", 0},
		{"subject not a command is ignored", "Re: Your confirmation is needed", "", "", 0},
		{"body lines", "", "join\nwho\n\n  echo hello  world\n", "join|who|echo hello world", 0},
		{"aliases", "", "SUBSCRIBE\nUnsubscribe\nstop\nhelp", "join|leave|end", 0},
		{"unknown commands reported", "", "frobnicate now\nhelp", "? now|help", 0},
		{"stops at end", "", "help\nend\nwho", "help|end", 0},
		{"end in subject stops all", "end", "help", "end", 0},
		{"stops at signature", "", "help\n-- \nJoe Example\nwho", "help", 0},
		{"stops at bare --", "", "help\n--\nwho", "help", 0},
		{"stops at quoted text", "", "confirm abc\n\n> who\n> leave", "confirm abc", 0},
		{"stops at attribution", "", "help\nOn Mon, 1 Mar 2026, Herald wrote:\nleave", "help", 0},
		{"stops at outlook separator", "", "help\n-----Original Message-----\nleave", "help", 0},
		{"crlf", "", "join\r\nleave\r\n", "join|leave", 0},
		{"subject and body", "help", "who", "help|who", 0},
		{"max lines", "", strings.Repeat("echo x\n", MaxLines+3), strings.TrimSuffix(strings.Repeat("echo x|", MaxLines), "|"), 3},
		{"empty", "", "", "", 0},
		{"blank lines only", "  ", "\n\n \t\n", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Parse(c.subject, c.body)
			if got := names(p); got != c.want {
				t.Errorf("commands = %q, want %q", got, c.want)
			}
			if p.Unprocessed != c.unprocessed {
				t.Errorf("unprocessed = %d, want %d", p.Unprocessed, c.unprocessed)
			}
		})
	}
}

func TestCleanLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"  echo hi  ", "echo hi"},
		{"echo \x1b[31mred\x00", "echo [31mred"},
		{"echo\ttab", "echo tab"},
		{strings.Repeat("é", 60), strings.Repeat("é", 40) + "…"},
	}
	for _, c := range cases {
		if got := clean(c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDigestOption(t *testing.T) {
	cases := []struct {
		args []string
		mode string
		ok   bool
	}{
		{nil, "regular", true},
		{[]string{"digest=no"}, "regular", true},
		{[]string{"DIGEST=MIME"}, "mime_digests", true},
		{[]string{"digest=plain"}, "plaintext_digests", true},
		{[]string{"digest=weekly"}, "", false},
		{[]string{"address=victim@example.net"}, "", false},
		{[]string{"digest=no", "x"}, "", false},
	}
	for _, c := range cases {
		mode, ok := digestOption(c.args)
		if mode != c.mode || ok != c.ok {
			t.Errorf("digestOption(%q) = %q %v, want %q %v", c.args, mode, ok, c.mode, c.ok)
		}
	}
}

// FuzzCommandParse checks the parser's invariants on any input: it never
// panics, reads at most MaxLines body commands, ends at the first end
// command, and every echoed line is clean, short, valid UTF-8.
func FuzzCommandParse(f *testing.F) {
	f.Add("help", "join digest=mime\nleave\n-- \nsig")
	f.Add("Re: confirm abcdefghijklmnopqrstuvwxyz234567", "> quoted\n")
	f.Add("", strings.Repeat("echo \x00\xff\n", 20))
	f.Add("end", "who")
	f.Fuzz(func(t *testing.T, subject, body string) {
		p := Parse(subject, body)
		if len(p.Commands) > MaxLines+1 {
			t.Fatalf("%d commands, more than MaxLines+subject", len(p.Commands))
		}
		for i, c := range p.Commands {
			if c.Name == End && i != len(p.Commands)-1 {
				t.Fatalf("commands after end: %+v", p.Commands)
			}
			if len(c.Line) > MaxLineBytes+len("…") || !utf8.ValidString(c.Line) || strings.ContainsAny(c.Line, "\r\n\x00") {
				t.Fatalf("unclean line %q", c.Line)
			}
			if c.Name != "" && aliases[c.Name] != c.Name {
				t.Fatalf("non-canonical name %q", c.Name)
			}
		}
	})
}
