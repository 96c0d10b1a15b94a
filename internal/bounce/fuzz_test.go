package bounce

import (
	"os"
	"path/filepath"
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
