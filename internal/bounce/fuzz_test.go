package bounce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzScan checks that Scan never panics and that its results keep their
// invariants. Seeds: testdata/fuzz/FuzzScan (hostile snippets) and the
// corpus messages.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		dontRecover = true
		r, err := Scan(msg)
		if err != nil {
			return
		}
		checkResult(t, r)
		r, err = ScanWithVERP(msg, "dev-bounces+a=example.org@lists.example.org", nil)
		if err == nil {
			checkResult(t, r)
		}
		IsAutoReply(msg)
	})
}

// FuzzDecodeVERP checks that DecodeVERP never panics and that what it
// decodes is an address whose domain it validated.
func FuzzDecodeVERP(f *testing.F) {
	for _, s := range []string{"dev-bounces+alice=example.org", "<Dev-Bounces+a=b=example.org@lists.example.org>",
		"\x80\x80\x80\x80x-bounces+", "x-bounces+=", "dev-bounces+jörg=exämple.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, local string) {
		member, ok := DecodeVERP(local)
		if !ok {
			return
		}
		at := strings.LastIndexByte(member, '@')
		if at <= 0 || !validDomain(member[at+1:]) {
			t.Fatalf("DecodeVERP(%q) = %q", local, member)
		}
	})
}
