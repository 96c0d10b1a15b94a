package mime

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addEMLSeeds adds every testdata/*.eml to the fuzz corpus, through add;
// testdata/fuzz/<target>/ holds further, smaller seeds.
func addEMLSeeds(f *testing.F, add func(raw []byte)) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(raw)
	}
}

// FuzzParseRoundTrip: whatever Parse accepts, Bytes writes back unchanged,
// and reading it never panics.
func FuzzParseRoundTrip(f *testing.F) {
	addEMLSeeds(f, func(raw []byte) { f.Add(raw) })
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		if got := m.Bytes(); !bytes.Equal(got, raw) {
			t.Fatalf("round trip:\n got %q\nwant %q", got, raw)
		}
		for _, fl := range m.Header.Fields() {
			_ = DecodeWords(fl.Value)
		}
		_ = Walk(m, func(p *Part) error { _ = p.Text(); return nil })
		_ = TextBody(m)
	})
}

// FuzzDecorate: Decorate and PrefixSubject never panic, and the decorated
// message parses and walks.
func FuzzDecorate(f *testing.F) {
	addEMLSeeds(f, func(raw []byte) { f.Add(raw, "[dev] header", "footer ü\n") })
	f.Fuzz(func(t *testing.T, raw []byte, header, footer string) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		subject := PrefixSubject(m.Header.Get("Subject"), "[dev %d] ", 7)
		m.Header.Set("Subject", subject)
		if err := Decorate(m, header, footer); err != nil {
			t.Fatalf("Decorate: %v", err)
		}
		out, err := Parse(m.Bytes())
		if err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, m.Bytes())
		}
		if got := out.Header.Get("Subject"); got != subject {
			t.Fatalf("Subject %q came back as %q", subject, got)
		}
		_ = Walk(out, func(p *Part) error { return nil })
	})
}
