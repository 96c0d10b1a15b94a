package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLines is how many command lines of a body are read (Mailman's
// email_commands_max_lines); later lines are reported as unprocessed.
const MaxLines = 10

// MaxLineBytes bounds a command line as echoed in the reply.
const MaxLineBytes = 80

// Command names, canonical.
const (
	Join    = "join"
	Leave   = "leave"
	Confirm = "confirm"
	Help    = "help"
	Who     = "who"
	Echo    = "echo"
	End     = "end"
)

// aliases maps every accepted spelling to its canonical name.
var aliases = map[string]string{
	"join": Join, "subscribe": Join,
	"leave": Leave, "unsubscribe": Leave,
	"confirm": Confirm, "help": Help, "who": Who, "echo": Echo,
	"end": End, "stop": End,
}

// Command is one command line.
type Command struct {
	// Name is canonical (Join, Leave, …), or "" for an unknown command.
	Name string
	Args []string
	// Line is the line as written, cleaned for echoing: control
	// characters removed, at most MaxLineBytes.
	Line string
}

// Parsed is what a command message asks.
type Parsed struct {
	Commands []Command
	// Unprocessed counts command lines after MaxLines.
	Unprocessed int
}

// Parse reads the commands of a message: the subject counts when it
// starts with a known command (after any Re:/Fwd: prefixes); the body is
// read line by line, skipping blank lines, until an end or stop command,
// a signature separator ("--"), quoted text (a line starting with ">", or
// an attribution ending in "wrote:"), or MaxLines command lines.
func Parse(subject, body string) Parsed {
	var p Parsed
	if c, ok := parseLine(stripPrefixes(subject)); ok && c.Name != "" {
		p.Commands = append(p.Commands, c)
		if c.Name == End {
			return p
		}
	}
	n := 0
	for _, raw := range strings.Split(body, "\n") {
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		if stopsBody(line, trimmed) {
			break
		}
		c, ok := parseLine(trimmed)
		if !ok {
			continue
		}
		if n == MaxLines {
			p.Unprocessed++
			continue
		}
		n++
		p.Commands = append(p.Commands, c)
		if c.Name == End {
			break
		}
	}
	return p
}

// stopsBody reports whether line ends the command part of a body.
func stopsBody(line, trimmed string) bool {
	switch {
	case line == "--" || line == "-- " || strings.HasPrefix(line, "-- \t"):
		return true // RFC 3676 §4.3 signature separator, and the common "--"
	case strings.HasPrefix(trimmed, ">"):
		return true
	case strings.HasSuffix(strings.ToLower(trimmed), "wrote:"):
		return true
	case strings.HasPrefix(trimmed, "-----Original Message-----"), strings.HasPrefix(trimmed, "________________"):
		return true
	}
	return false
}

// parseLine splits a line into a command; ok is false for a blank line.
func parseLine(line string) (Command, bool) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Command{}, false
	}
	c := Command{Name: aliases[strings.ToLower(fields[0])], Args: fields[1:], Line: clean(line)}
	return c, true
}

// stripPrefixes removes reply and forward markers from a subject.
func stripPrefixes(s string) string {
	for {
		t := strings.TrimSpace(s)
		lower := strings.ToLower(t)
		cut := false
		for _, p := range []string{"re:", "aw:", "fwd:", "fw:", "sv:", "antw:"} {
			if strings.HasPrefix(lower, p) {
				t, cut = t[len(p):], true
				break
			}
		}
		if !cut {
			return t
		}
		s = t
	}
}

// clean makes text safe to echo: printable characters only, one line, at
// most MaxLineBytes.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r == utf8.RuneError, !unicode.IsPrint(r) && r != ' ':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > MaxLineBytes {
		n := MaxLineBytes
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}
