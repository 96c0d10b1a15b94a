package post_test

import (
	"fmt"
	"strings"
	"testing"

	"herald/internal/spool"
)

// TestHostilePostsNeverCrash sends posts built to hurt the pipeline from a
// member with every rewriting handler on: each ends delivered, or in the
// shunt queue with its reason; the runner never panics.
func TestHostilePostsNeverCrash(t *testing.T) {
	const head = "From: alice@example.com\r\nTo: dev@lists.example.org\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n"
	var many strings.Builder
	many.WriteString(head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := range 100000 {
		fmt.Fprintf(&many, "--b\r\n\r\n%d\r\n", i)
	}
	many.WriteString("--b--\r\n")
	var deep strings.Builder
	deep.WriteString(head)
	for i := range 3000 {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=d%d\r\n\r\n--d%d\r\n", i, i)
	}
	deep.WriteString("\r\nbottom\r\n")
	posts := map[string]struct {
		raw   string
		shunt string // reason substring when it must be shunted
	}{
		"1 MB header line": {head + "X-Big: " + strings.Repeat("x", 1<<20) + "\r\n\r\nx\r\n", "longer than"},
		"100k parts":       {many.String(), "more than 10000 parts"},
		"deep nesting":     {deep.String(), "nested deeper than"},
		"not a message":    {"\x00\xff garbage without a header\r\n", "parse post"},
		"broken part":      {head + "Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nno colon here\r\n\r\nx\r\n--p--\r\n", "no colon"},
		"invalid charset":  {head + "Content-Type: text/plain; charset=x-bogus\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xff\xfe\xfd\r\n", ""},
		"empty":            {head + "\r\n", ""},
	}
	e := newEnv(t, nil)
	e.set("max_message_size", "0", "filter_content", "true", "filter_extensions", "exe",
		"footer", "-- \nfooter", "dmarc_mitigate_action", "wrap_message", "dmarc_mitigate_unconditionally", "true")
	for name, p := range posts {
		e.enqueue("alice@example.com", p.raw, map[string]string{"case": name})
	}
	if _, err := e.run.RunUntilEmpty(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.run.Stats.Panics.Load(); n != 0 {
		t.Fatalf("%d panics", n)
	}
	shunted, err := e.sp.List(spool.Shunt)
	must(t, err)
	reasons := map[string]string{}
	for _, s := range shunted {
		reasons[s.Envelope.Meta["case"]] = s.Envelope.LastError
	}
	if got := len(e.drain().posts); got == 0 {
		t.Errorf("none of the readable hostile posts was delivered")
	}
	for name, p := range posts {
		switch {
		case p.shunt != "" && !strings.Contains(reasons[name], p.shunt):
			t.Errorf("%s: shunt reason %q, want %q", name, reasons[name], p.shunt)
		case p.shunt == "" && reasons[name] != "":
			t.Errorf("%s: shunted: %s", name, reasons[name])
		}
		t.Logf("%s: shunt %q", name, reasons[name])
	}
	if left, _ := e.sp.List(spool.In); len(left) != 0 {
		t.Errorf("%d posts left in the in queue", len(left))
	}
}
