package smtpclient

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// pipeConn returns a Conn reading what the returned function writes.
func pipeConn(t *testing.T) (*Conn, func(string)) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	c := &Conn{nc: a, r: bufio.NewReaderSize(a, maxReplyLine+2), w: bufio.NewWriter(a),
		opts: Options{Timeout: 2 * time.Second}}
	return c, func(s string) {
		go func() { _, _ = b.Write([]byte(s)) }()
	}
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		brief bool
		want  Reply
		bad   bool
	}{
		{"brief positive", "250 2.1.5 Ok\r\n", true, Reply{Code: 250}, false},
		{"full positive", "250 2.0.0 Ok: queued as X\r\n", false, Reply{Code: 250, Enhanced: "2.0.0", Text: "Ok: queued as X"}, false},
		{"brief refusal keeps text", "550 5.1.1 no such user\r\n", true, Reply{Code: 550, Enhanced: "5.1.1", Text: "no such user"}, false},
		{"multi-line", "451-4.3.0 first\r\n451 4.3.0 second\r\n", true, Reply{Code: 451, Enhanced: "4.3.0", Text: "first; second"}, false},
		{"code only", "354\r\n", true, Reply{Code: 354}, false},
		{"bare LF", "250 ok\n", false, Reply{Code: 250, Text: "ok"}, false},
		{"code changes", "250-a\r\n251 b\r\n", false, Reply{}, true},
		{"not a code", "hello\r\n", false, Reply{}, true},
		{"no separator", "2500 x\r\n", false, Reply{}, true},
		{"out of range", "999 x\r\n", false, Reply{}, true},
		{"line too long", "250 " + strings.Repeat("x", maxReplyLine+10) + "\r\n", false, Reply{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, write := pipeConn(t)
			write(tc.in)
			got, err := c.readReply(tc.brief)
			if tc.bad {
				if err == nil || c.Broken() == nil {
					t.Fatalf("readReply = %+v, %v; want an error that breaks the connection", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("readReply = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestReplyLinesBounded(t *testing.T) {
	c, write := pipeConn(t)
	write(strings.Repeat("250-x\r\n", maxReplyLines+1) + "250 end\r\n")
	if _, err := c.readReply(false); err == nil {
		t.Fatal("a reply of too many lines was accepted")
	}
}

func TestEHLOKeywords(t *testing.T) {
	c, write := pipeConn(t)
	write("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 xverp\r\n")
	code, lines, err := c.readLines(false)
	if err != nil || code != 250 {
		t.Fatalf("readLines: %d %v", code, err)
	}
	c.parseExt(lines)
	if v, ok := c.Ext("SIZE"); !ok || v != "1000" {
		t.Errorf("SIZE = %q %v", v, ok)
	}
	for _, k := range []string{"PIPELINING", "XVERP"} {
		if _, ok := c.Ext(k); !ok {
			t.Errorf("%s missing from %v", k, c.ext)
		}
	}
}
