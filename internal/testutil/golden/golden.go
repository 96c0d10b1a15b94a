// Package golden compares test output with files under testdata; run the
// tests with -update to rewrite the files from the current output.
package golden

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

// Update is the -update flag: rewrite golden files instead of comparing.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// Check compares got with the file at path, or rewrites the file under
// -update. Differences show CRLF line ends as ⏎ so they can be seen.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, strings.ReplaceAll(string(got), "\r\n", "⏎\n"))
	}
}
