package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testMbox = "From ann@example.com Tue Mar 10 09:00:00 2026\n" +
	"From: Ann <ann@example.com>\nSubject: hello\nMessage-ID: <1@example.com>\nDate: Tue, 10 Mar 2026 09:00:00 +0000\n\n" +
	"Hi all.\n>From the archive, quoted.\n\n" +
	"From bob@example.net Tue Mar 10 10:00:00 2026\n" +
	"From: bob@example.net\nSubject: Re: hello\nMessage-ID: <2@example.net>\nIn-Reply-To: <1@example.com>\n" +
	"Date: Tue, 10 Mar 2026 10:00:00 +0000\n\nHi Ann.\n\n" +
	"From ann@example.com Tue Mar 10 09:00:00 2026\n" +
	"From: Ann <ann@example.com>\nSubject: hello (the same message again)\nMessage-ID: <1@example.com>\n\nrepeat\n"

func TestArchiveImportExport(t *testing.T) {
	r := newCLIRig(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mbox")
	if err := os.WriteFile(in, []byte(testMbox), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := r.ok("archive", "import", "dev@example.org", in); !strings.Contains(out, "2 message(s) archived, 1 already there") {
		t.Errorf("import: %q", out)
	}
	if out := r.ok("archive", "import", "dev@example.org", in); !strings.Contains(out, "0 message(s) archived, 3 already there") {
		t.Errorf("import again: %q", out)
	}
	outPath := filepath.Join(dir, "out.mbox")
	if out := r.ok("archive", "export", "dev@example.org", outPath); !strings.Contains(out, "2 message(s) written") {
		t.Errorf("export: %q", out)
	}
	got, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(strings.Split(testMbox, "\n")[:17], "\n") + "\n\n"
	if string(got) != want {
		t.Errorf("export:\n%s\nwant:\n%s", got, want)
	}
	if stdout := r.ok("archive", "export", "dev@example.org", "-"); stdout != want {
		t.Errorf("export to stdout:\n%s", stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"archive", "export", "dev@example.org", outPath}, "never overwritten"},
		{[]string{"archive", "import", "dev@example.org", filepath.Join(dir, "missing")}, "mbox: open"},
		{[]string{"archive", "import", "nosuch@example.org", in}, "nosuch@example.org"},
	} {
		if _, errs, code := r.run(tc.args...); code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", tc.args, code, errs, tc.want)
		}
	}
	notMbox := filepath.Join(dir, "plain.eml")
	if err := os.WriteFile(notMbox, []byte("Subject: x\n\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := r.run("archive", "import", "dev@example.org", notMbox); code == 0 || !strings.Contains(errs, "not an mbox") {
		t.Errorf("a plain message: exit %d, %q", code, errs)
	}
}
