package mime

import (
	"herald/internal/testutil/golden"

	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	goldenPrefix = "[dev] "
	goldenHeader = "[Sent to the dev list]"
	goldenFooter = "_______________________________________________\n" +
		"dev mailing list -- dev@lists.example.org\n" +
		"To unsubscribe send an email to dev-leave@lists.example.org\n"
	goldenFooterUTF8 = "-- \nListe für Entwickler: dev@lists.example.org\n"
)

// TestGolden runs each testdata/NAME.eml through the list pipeline's two
// rewrites and compares with the goldens:
//   - NAME.golden: PrefixSubject("[dev] ", 42), then Decorate with an ASCII
//     header and footer;
//   - NAME.utf8.golden: Decorate with a non-ASCII footer only.
//
// Run `go test ./internal/mime -run TestGolden -update` to rewrite them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.eml: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := m.Bytes(); !bytes.Equal(got, raw) {
				t.Fatalf("round trip differs:\n%q\nwant\n%q", got, raw)
			}
			// As the subject-prefix handler does: Set keeps an unchanged field.
			m.Header.Set("Subject", PrefixSubject(m.Header.Get("Subject"), goldenPrefix, 42))
			if err := Decorate(m, goldenHeader, goldenFooter); err != nil {
				t.Fatalf("Decorate: %v", err)
			}
			checkDecorated(t, raw, m.Bytes(), "Subject")
			golden.Check(t, strings.TrimSuffix(file, ".eml")+".golden", m.Bytes())

			m, _ = Parse(raw)
			if err := Decorate(m, "", goldenFooterUTF8); err != nil {
				t.Fatalf("Decorate: %v", err)
			}
			checkDecorated(t, raw, m.Bytes(), "")
			golden.Check(t, strings.TrimSuffix(file, ".eml")+".utf8.golden", m.Bytes())
		})
	}
}

// checkDecorated checks what must hold for any decorated message: it
// parses, every field of the input other than changed and Content-* ones
// is still there byte for byte, signed or encrypted content is intact, and
// the text is readable.
func checkDecorated(t *testing.T, in, out []byte, changed string) {
	t.Helper()
	orig, _ := Parse(in)
	m, err := Parse(out)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	for _, f := range orig.Header.fields {
		if f.key == strings.ToLower(changed) || strings.HasPrefix(f.key, "content-") {
			continue
		}
		if !bytes.Contains(out, f.raw) {
			t.Errorf("field %s not kept byte for byte", f.name)
		}
	}
	mt, _ := contentType(orig.Header.Get("Content-Type"), "text/plain")
	if mt == "multipart/signed" || mt == "application/pkcs7-mime" {
		if !bytes.Contains(out, orig.Body) {
			t.Errorf("%s content changed", mt)
		}
	}
	if err := Walk(m, func(*Part) error { return nil }); err != nil {
		t.Errorf("Walk(output): %v", err)
	}
}
