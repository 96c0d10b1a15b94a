package bounce

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// expectation is the hand-written (or, for gen-*, scenario-derived) truth
// for one corpus message, testdata/NAME.json next to testdata/NAME.eml.
type expectation struct {
	Permanent []string          `json:"permanent"`
	Temporary []string          `json:"temporary"`
	Format    string            `json:"format,omitempty"`  // checked when set
	Reasons   map[string]Reason `json:"reasons,omitempty"` // checked for the addresses listed
	AutoReply bool              `json:"autoreply,omitempty"`
	Note      string            `json:"note,omitempty"` // why the case is there
	// KnownMiss says why the package gets this case wrong; the table test
	// then skips it (and fails once it passes), the recall test counts it.
	KnownMiss string `json:"known_miss,omitempty"`
}

type corpusCase struct {
	name string
	msg  []byte
	want expectation
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, f := range files {
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		j, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil {
			t.Fatalf("%s: no expectation: %v", f, err)
		}
		var want expectation
		if err := json.Unmarshal(j, &want); err != nil {
			t.Fatalf("%s.json: %v", f, err)
		}
		cases = append(cases, corpusCase{name: strings.TrimSuffix(filepath.Base(f), ".eml"), msg: msg, want: want})
	}
	return cases
}

func TestCorpus(t *testing.T) {
	dontRecover = true
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := Scan(c.msg)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if c.want.KnownMiss != "" {
				if sameSet(got.Permanent, c.want.Permanent) && sameSet(got.Temporary, c.want.Temporary) {
					t.Fatalf("known miss (%s) now passes: drop known_miss", c.want.KnownMiss)
				}
				t.Skipf("known miss: %s", c.want.KnownMiss)
			}
			if !sameSet(got.Permanent, c.want.Permanent) || !sameSet(got.Temporary, c.want.Temporary) {
				t.Errorf("got permanent %q temporary %q (format %q), want permanent %q temporary %q",
					got.Permanent, got.Temporary, got.Format, c.want.Permanent, c.want.Temporary)
			}
			if c.want.Format != "" && got.Format != c.want.Format {
				t.Errorf("format %q, want %q", got.Format, c.want.Format)
			}
			for a, why := range c.want.Reasons {
				if got.Reasons[a] != why {
					t.Errorf("reason of %s: %q, want %q", a, got.Reasons[a], why)
				}
			}
			if ar := IsAutoReply(c.msg); ar != c.want.AutoReply {
				t.Errorf("IsAutoReply = %v, want %v", ar, c.want.AutoReply)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return slices.Equal(a, b)
}

// TestCorpusPrecisionRecall measures permanent-failure detection over the
// whole corpus: precision must be 1 (never report a member who did not
// fail), recall above 0.95.
func TestCorpusPrecisionRecall(t *testing.T) {
	var tp, fp, fn, ttp, tfp, tfn int
	for _, c := range loadCorpus(t) {
		got, _ := Scan(c.msg)
		p, f, n := overlap(got.Permanent, c.want.Permanent)
		tp, fp, fn = tp+p, fp+f, fn+n
		p, f, n = overlap(got.Temporary, c.want.Temporary)
		ttp, tfp, tfn = ttp+p, tfp+f, tfn+n
		if f > 0 || n > 0 {
			t.Logf("%s: temporary off by +%d/-%d", c.name, f, n)
		}
	}
	prec, rec := ratio(tp, tp+fp), ratio(tp, tp+fn)
	t.Logf("permanent: %d true, %d false positives, %d missed: precision %.3f, recall %.3f", tp, fp, fn, prec, rec)
	t.Logf("temporary: %d true, %d false positives, %d missed: precision %.3f, recall %.3f",
		ttp, tfp, tfn, ratio(ttp, ttp+tfp), ratio(ttp, ttp+tfn))
	if prec < 1 {
		t.Errorf("precision %.3f, want 1", prec)
	}
	if rec <= 0.95 {
		t.Errorf("recall %.3f, want > 0.95", rec)
	}
}

// overlap counts the addresses in both, only in got, only in want.
func overlap(got, want []string) (both, onlyGot, onlyWant int) {
	for _, a := range got {
		if slices.Contains(want, a) {
			both++
		} else {
			onlyGot++
		}
	}
	return both, onlyGot, len(want) - both
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
