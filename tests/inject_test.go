//go:build integration

package tests

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runInject runs a command line (argv[0] = herald, or "sh -c ...") with
// stdin and extra environment, returning stderr and the exit code.
func runInject(t *testing.T, h *H, stdin string, env []string, argv ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = h.Dir
	cmd.Env = append(append(os.Environ(), h.env...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return errb.String(), 0
}

// unixMsg is a post as a pipe delivers it: Unix line ends, an mbox From_ line.
func unixMsg(from, subject string) string {
	return "From " + from + "  Sun Nov 29 12:00:00 2026\nFrom: " + from + "\nTo: dev@lists.example.org\nSubject: " + subject +
		"\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@test.invalid>\n\nbody\n"
}

// With herald serve down, inject writes the spool itself (mail is never
// refused because the daemon restarts); the posts go out once it is up.
// The recipient comes from flags or from each MTA's environment.
func TestInjectWhileServeDownThenUp(t *testing.T) {
	h := newH(t)
	setupDev(h)
	herald := []string{heraldBin, "--config", h.Config, "inject"}
	ok := []struct {
		name    string
		env     []string
		args    []string
		subject string
	}{
		{"flag", nil, []string{"--rcpt", "dev@lists.example.org"}, "Inject flag"},
		{"postfix env", []string{"ORIGINAL_RECIPIENT=dev@lists.example.org", "SENDER=alice@example.com"}, nil, "Inject postfix"},
		{"exim env", []string{"LOCAL_PART=dev", "DOMAIN=lists.example.org", "SENDER=alice@example.com"}, nil, "Inject exim"},
		{"sendmail args", nil, []string{"-f", "alice@example.com", "dev@lists.example.org"}, "Inject sendmail"},
	}
	for _, c := range ok {
		stderr, code := runInject(t, h, unixMsg("alice@example.com", c.subject), c.env, append(herald, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
	}
	bad := []struct {
		name  string
		input string
		args  []string
		code  int
		says  string
	}{
		{"unknown list", unixMsg("alice@example.com", "x"), []string{"--rcpt", "nosuch@lists.example.org"}, 67, "no such list"},
		{"unknown sub-address", unixMsg("alice@example.com", "x"), []string{"--rcpt", "dev-frob@lists.example.org"}, 67, "no such list"},
		{"garbage", "this is not a mail message\nat all\n", []string{"--rcpt", "dev@lists.example.org"}, 65, "unparseable"},
		{"empty", "", []string{"--rcpt", "dev@lists.example.org"}, 65, "empty"},
		{"bad flag", unixMsg("alice@example.com", "x"), []string{"--frobnicate"}, 75, "unknown flag"},
		{"no recipient", unixMsg("alice@example.com", "x"), nil, 75, "no recipient"},
	}
	for _, c := range bad {
		stderr, code := runInject(t, h, c.input, nil, append(herald, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line saying %q", c.name, code, stderr, c.code, c.says)
		}
	}
	h.Start()
	for _, c := range ok {
		waitRcpts(t, h, c.subject, "alice@example.com", "bob@example.net", "carol@example.org")
	}
	// Serve is up: inject hands over through the LMTP socket (serve logs it).
	if _, code := runInject(t, h, unixMsg("bob@example.net", "Inject live"), nil, append(herald, "--rcpt", "dev@lists.example.org")...); code != 0 {
		t.Fatalf("inject while serving: exit %d", code)
	}
	waitRcpts(t, h, "Inject live", "alice@example.com", "bob@example.net", "carol@example.org")
	if !strings.Contains(string(readFile(h.logPath)), "from=bob@example.net") {
		t.Error("serve did not log the hand-over: inject did not use the LMTP socket")
	}
}

// qmail has no package here: run the .qmail-default line herald generates
// the way qmail-local does (/bin/sh -c, with DEFAULT, EXT, HOST, SENDER
// and qmail's prefixed RECIPIENT), and check qmail's exit convention.
func TestQmailDotQmailDefault(t *testing.T) {
	h := newH(t, "[mta]", "herald_path = \""+heraldBin+"\"")
	setupDev(h)
	h.MustRun("mta", "qmail")
	line := strings.TrimSpace(string(readFile(filepath.Join(h.Dir, "data", "mta", "qmail", "dot-qmail-default"))))
	if !strings.HasPrefix(line, "|") || !strings.Contains(line, "inject --exit-codes qmail") {
		t.Fatalf(".qmail-default = %q", line)
	}
	h.Start()
	qenv := func(local string) []string {
		return []string{"DEFAULT=" + local, "EXT=" + local, "HOST=lists.example.org", "SENDER=alice@example.com",
			"RECIPIENT=herald-" + local + "@lists.example.org", "LOCAL=herald-" + local, "USER=herald"}
	}
	if stderr, code := runInject(t, h, unixMsg("alice@example.com", "Via qmail"), qenv("dev"), "/bin/sh", "-c", line[1:]); code != 0 {
		t.Fatalf("qmail delivery: exit %d: %s", code, stderr)
	}
	waitRcpts(t, h, "Via qmail", "alice@example.com", "bob@example.net", "carol@example.org")
	// qmail-local bounces on 100 (and retries on 67, which would loop).
	if stderr, code := runInject(t, h, unixMsg("alice@example.com", "x"), qenv("nosuch"), "/bin/sh", "-c", line[1:]); code != 100 {
		t.Errorf("unknown list via qmail: exit %d (%s), want 100", code, stderr)
	}
	h.Stop()
	// Temporary trouble is 111 for qmail: make the data dir unwritable for
	// the direct path by pointing it at a file.
	stderr, code := runInject(t, h, unixMsg("alice@example.com", "x"), append(qenv("dev"), "HERALD_DATA_DIR="+h.Config), "/bin/sh", "-c", line[1:])
	if code != 111 {
		t.Errorf("temporary failure via qmail: exit %d (%s), want 111", code, stderr)
	}
}
