package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parsePyAssignments reads the `name = literal` statements of a Python
// file as Mailman 2.1's `config_list -o` writes it: comments, strings
// (quoted, triple-quoted, with u/b/r prefixes and escapes), numbers,
// True/False/None, lists, tuples and dicts. Values come back as string,
// int64, float64, bool, nil, []any and map[string]any. Nothing is
// evaluated: anything else is an error naming its line.
func parsePyAssignments(src string) (map[string]any, []string, error) {
	p := &pyParser{src: src, line: 1}
	out := map[string]any{}
	var order []string
	for {
		p.skipSpaceAndComments(true)
		if p.eof() {
			return out, order, nil
		}
		name := p.ident()
		if name == "" {
			return nil, nil, p.errorf("expected a setting name")
		}
		p.skipSpaceAndComments(false)
		if !p.consume("=") {
			return nil, nil, p.errorf("expected = after %s", name)
		}
		v, err := p.value()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := out[name]; !dup {
			order = append(order, name)
		}
		out[name] = v
	}
}

type pyParser struct {
	src  string
	pos  int
	line int
}

func (p *pyParser) eof() bool { return p.pos >= len(p.src) }

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, args...))
}

// skipSpaceAndComments skips blanks and comments; newlines too if nl
// (between statements, or inside brackets).
func (p *pyParser) skipSpaceAndComments(nl bool) {
	for !p.eof() {
		switch c := p.src[p.pos]; {
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '\n' && nl:
			p.line++
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.line++
			p.pos += 2
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			p.pos++
		default:
			return
		}
	}
}

func (p *pyParser) consume(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

func (p *pyParser) ident() string {
	start := p.pos
	for !p.eof() && isIdentByte(p.src[p.pos], p.pos == start) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// value parses one literal; inside brackets newlines are blanks.
func (p *pyParser) value() (any, error) { return p.valueIn(false) }

func (p *pyParser) valueIn(bracketed bool) (any, error) {
	p.skipSpaceAndComments(bracketed)
	if p.eof() {
		return nil, p.errorf("expected a value")
	}
	switch c := p.src[p.pos]; {
	case c == '[':
		p.pos++
		return p.sequence(']')
	case c == '(':
		p.pos++
		return p.sequence(')')
	case c == '{':
		p.pos++
		return p.dict()
	case c == '\'' || c == '"':
		return p.strings(bracketed)
	case c == '-' || c == '+' || c == '.' || '0' <= c && c <= '9':
		return p.number()
	}
	start, startLine := p.pos, p.line
	word := p.ident()
	if p.pos < len(p.src) && (p.src[p.pos] == '\'' || p.src[p.pos] == '"') && len(word) <= 2 &&
		strings.Trim(strings.ToLower(word), "ubr") == "" {
		p.pos = start
		return p.strings(bracketed)
	}
	switch word {
	case "True":
		return true, nil
	case "False":
		return false, nil
	case "None":
		return nil, nil
	}
	p.line = startLine
	return nil, p.errorf("%q is not a literal", word)
}

// sequence parses list or tuple items up to end.
func (p *pyParser) sequence(end byte) (any, error) {
	items := []any{}
	for {
		p.skipSpaceAndComments(true)
		if p.consume(string(end)) {
			return items, nil
		}
		v, err := p.valueIn(true)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.skipSpaceAndComments(true)
		if !p.consume(",") && !strings.HasPrefix(p.src[p.pos:], string(end)) {
			return nil, p.errorf("expected , or %c", end)
		}
	}
}

// dict parses a dict with literal keys (rendered as strings).
func (p *pyParser) dict() (any, error) {
	out := map[string]any{}
	for {
		p.skipSpaceAndComments(true)
		if p.consume("}") {
			return out, nil
		}
		k, err := p.valueIn(true)
		if err != nil {
			return nil, err
		}
		p.skipSpaceAndComments(true)
		if !p.consume(":") {
			return nil, p.errorf("expected : in a dict")
		}
		v, err := p.valueIn(true)
		if err != nil {
			return nil, err
		}
		out[fmt.Sprint(k)] = v
		p.skipSpaceAndComments(true)
		if !p.consume(",") && !strings.HasPrefix(p.src[p.pos:], "}") {
			return nil, p.errorf("expected , or }")
		}
	}
}

func (p *pyParser) number() (any, error) {
	start := p.pos
	for !p.eof() && strings.IndexByte("+-.0123456789eEjJxXabcdefABCDEFlL_", p.src[p.pos]) >= 0 {
		p.pos++
	}
	text := strings.TrimRight(strings.ReplaceAll(p.src[start:p.pos], "_", ""), "lL") // Python 2 longs: 5L
	if n, err := strconv.ParseInt(text, 0, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return f, nil
	}
	return nil, p.errorf("%q is not a number", text)
}

// strings parses one or more adjacent string literals (Python joins them).
func (p *pyParser) strings(bracketed bool) (any, error) {
	var b []byte
	for {
		s, err := p.stringLiteral()
		if err != nil {
			return nil, err
		}
		b = append(b, s...)
		save, saveLine := p.pos, p.line
		p.skipSpaceAndComments(bracketed)
		if p.eof() {
			break
		}
		c := p.src[p.pos]
		if c != '\'' && c != '"' && !(strings.IndexByte("uUbBrR", c) >= 0 && p.pos+1 < len(p.src) &&
			strings.IndexByte("'\"", p.src[p.pos+1]) >= 0) {
			p.pos, p.line = save, saveLine
			break
		}
	}
	return latin1IfNotUTF8(b), nil
}

// latin1IfNotUTF8 reads bytes written as \xNN escapes: Mailman 2.1 kept
// a list's texts in its language's charset, most often ISO-8859-1.
func latin1IfNotUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// stringLiteral parses one string literal and returns its bytes.
func (p *pyParser) stringLiteral() ([]byte, error) {
	raw := false
	for !p.eof() && strings.IndexByte("uUbBrR", p.src[p.pos]) >= 0 {
		raw = raw || p.src[p.pos] == 'r' || p.src[p.pos] == 'R'
		p.pos++
	}
	q := p.src[p.pos : p.pos+1]
	if strings.HasPrefix(p.src[p.pos:], q+q+q) {
		q = q + q + q
	}
	p.pos += len(q)
	startLine := p.line
	var out []byte
	for {
		if p.eof() {
			p.line = startLine
			return nil, p.errorf("string not closed")
		}
		if p.consume(q) {
			return out, nil
		}
		c := p.src[p.pos]
		switch {
		case c == '\n' && len(q) == 1:
			return nil, p.errorf("string not closed at the end of the line")
		case c == '\\' && raw && p.pos+1 < len(p.src):
			out = append(out, c, p.src[p.pos+1])
			p.pos += 2
		case c == '\\':
			b, err := p.escape()
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		default:
			if c == '\n' {
				p.line++
			}
			out = append(out, c)
			p.pos++
		}
	}
}

// escape decodes the backslash escape at pos.
func (p *pyParser) escape() ([]byte, error) {
	if p.pos+1 >= len(p.src) {
		return nil, p.errorf("string not closed")
	}
	c := p.src[p.pos+1]
	p.pos += 2
	simple := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '\'': '\'', '"': '"',
		'a': 7, 'b': 8, 'f': 12, 'v': 11}
	if v, ok := simple[c]; ok {
		return []byte{v}, nil
	}
	hex := func(n int) (uint64, error) {
		if p.pos+n > len(p.src) {
			return 0, p.errorf("short \\%c escape", c)
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
		if err != nil {
			return 0, p.errorf("bad \\%c escape", c)
		}
		p.pos += n
		return v, nil
	}
	switch {
	case c == '\n':
		p.line++
		return nil, nil
	case c == 'x':
		v, err := hex(2)
		return []byte{byte(v)}, err
	case c == 'u' || c == 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		v, err := hex(n)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return nil, p.errorf("bad \\%c escape", c)
		}
		return utf8.AppendRune(nil, rune(v)), nil
	case '0' <= c && c <= '7':
		v := uint64(c - '0')
		for i := 0; i < 2 && !p.eof() && '0' <= p.src[p.pos] && p.src[p.pos] <= '7'; i++ {
			v = v*8 + uint64(p.src[p.pos]-'0')
			p.pos++
		}
		return []byte{byte(v)}, nil
	}
	return []byte{'\\', c}, nil // Python keeps unknown escapes as written
}
