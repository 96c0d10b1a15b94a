//go:build integration

package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debRoot downloads Debian packages and unpacks them (nothing is
// installed: these MTAs conflict with postfix) under a cache directory,
// returning its root. The test is skipped when apt cannot fetch them.
func debRoot(t *testing.T, name string, pkgs ...string) string {
	t.Helper()
	requireRoot(t)
	root := filepath.Join(os.TempDir(), "herald-debs", name)
	marker := filepath.Join(root, ".unpacked")
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	dl, err := os.MkdirTemp("", "herald-debs-dl-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dl)
	if err := os.Chmod(dl, 0o755); err != nil { // apt's _apt user writes there
		t.Fatal(err)
	}
	cmd := exec.Command("apt-get", append([]string{"download"}, pkgs...)...)
	cmd.Dir = dl
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("SKIP: apt-get download %s failed (run apt-get update?): %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	for _, d := range debs {
		if out, err := exec.Command("dpkg-deb", "-x", d, root).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", d, err, out)
		}
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// The smtpd.conf lines herald prints (and the tables they name) pass
// OpenSMTPD's own parser, smtpd -n, for the TCP and the socket transport.
func TestOpenSMTPDConfigCheck(t *testing.T) {
	root := debRoot(t, "opensmtpd", "opensmtpd")
	smtpd := filepath.Join(root, "usr", "sbin", "smtpd")
	h := newH(t)
	setupTwoDomains(h)
	for _, transport := range []string{"tcp", "socket"} {
		h.env = []string{"HERALD_MTA_TRANSPORT=" + transport}
		conf := h.MustRun("mta", "opensmtpd")
		if !strings.Contains(conf, `action "herald" lmtp`) || !strings.Contains(conf, "rcpt-to <herald_recipients>") {
			t.Fatalf("herald mta opensmtpd printed:\n%s", conf)
		}
		path := filepath.Join(h.Dir, "smtpd-"+transport+".conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(smtpd, "-n", "-f", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "configuration OK") {
			t.Errorf("%s: smtpd -n: %v\n%s\n%s", transport, err, out, conf)
		}
	}
	// The checker is real: a broken line fails it.
	bad := filepath.Join(h.Dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("action \"herald\" lmtp\nmatch nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(smtpd, "-n", "-f", bad).CombinedOutput(); err == nil {
		t.Errorf("smtpd -n accepted a broken config: %s", out)
	}
}

// The sendmail.mc lines herald prints build a sendmail.cf with Debian's
// sendmail-cf (m4), and Sendmail's address test mode (-bt) on it routes a
// list address to the LMTP mailer, relays every list address and refuses
// an unknown one at RCPT with 550 5.1.1.
func TestSendmailConfigCheck(t *testing.T) {
	m4, err := exec.LookPath("m4")
	if err != nil {
		t.Skip("SKIP: m4 is not installed (apt-get install m4)")
	}
	root := debRoot(t, "sendmail", "sendmail-bin", "sendmail-cf", "libwrap0")
	bin := filepath.Join(root, "usr", "libexec", "sendmail")
	// Drop set-gid: glibc ignores LD_LIBRARY_PATH (libwrap) for it.
	if err := os.Chmod(filepath.Join(bin, "sendmail"), 0o755); err != nil {
		t.Fatal(err)
	}
	libEnv := "LD_LIBRARY_PATH=" + filepath.Join(root, "usr", "lib", "x86_64-linux-gnu")
	h := newH(t)
	setupTwoDomains(h)
	h.MustRun("mta", "sendmail")
	dir := filepath.Join(h.Dir, "data", "mta", "sendmail")
	features := readFile(filepath.Join(dir, "herald-features.mc"))
	mailer := readFile(filepath.Join(dir, "herald-mailer.mc"))
	cf := filepath.Join(root, "usr", "share", "sendmail", "cf")
	switchFile := filepath.Join(h.Dir, "service.switch")
	if err := os.WriteFile(switchFile, []byte("hosts files\naliases files\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mc := "divert(-1)dnl\ndivert(0)dnl\ninclude(`" + cf + "/m4/cf.m4')dnl\nOSTYPE(`linux')dnl\n" +
		"define(`confDONT_PROBE_INTERFACES', `True')dnl\n" +
		"dnl no DNS\n" +
		"define(`confSERVICE_SWITCH_FILE', `" + switchFile + "')dnl\n" +
		"dnl the test's maps live under /tmp\n" +
		"define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe,MapInUnsafeDirPath,ClassFileInUnsafeDirPath')dnl\n" +
		string(features) + "MAILER(`local')dnl\nMAILER(`smtp')dnl\n" + string(mailer)
	mcPath, cfPath := filepath.Join(h.Dir, "test.mc"), filepath.Join(h.Dir, "test.cf")
	if err := os.WriteFile(mcPath, []byte(mc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(m4, "-D_CF_DIR_="+cf+"/", mcPath).Output()
	if err != nil {
		t.Fatalf("m4: %v", err)
	}
	if err := os.WriteFile(cfPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"mailertable", "access"} {
		cmd := exec.Command(filepath.Join(bin, "makemap"), "-C", cfPath, "hash", filepath.Join(dir, m))
		cmd.Stdin = bytes.NewReader(readFile(filepath.Join(dir, m)))
		cmd.Env = append(os.Environ(), libEnv)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("makemap %s: %v\n%s", m, err, out)
		}
	}
	// Sendmail sleeps 60 s at start when the host name is not qualified:
	// give it a qualified one in a private UTS namespace when possible.
	args := []string{filepath.Join(bin, "sendmail"), "-C", cfPath, "-bt"}
	if u, err := exec.LookPath("unshare"); err == nil && exec.Command(u, "--uts", "true").Run() == nil {
		args = append([]string{u, "--uts", "sh", "-c", `hostname mta.test.invalid && exec "$0" "$@"`}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), libEnv)
	cmd.Stdin = strings.NewReader(strings.Join([]string{
		"3,0 dev@lists.example.net",
		".D{client_addr}192.0.2.1",
		"check_rcpt <dev@lists.example.org>",
		"check_rcpt <dev-bounces+alice=example.com@lists.example.org>",
		"check_rcpt <nosuch@lists.example.org>",
		"check_rcpt <someone@example.com>",
	}, "\n") + "\n")
	bt, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sendmail -bt: %v\n%s", err, bt)
	}
	var results []string
	for _, l := range strings.Split(string(bt), "\n") {
		if strings.HasPrefix(l, "parse ") && strings.Contains(l, "returns:") || strings.HasPrefix(l, "check_rcpt ") && strings.Contains(l, "returns:") {
			results = append(results, strings.TrimSpace(l[strings.Index(l, "returns:")+8:]))
		}
	}
	want := []string{
		"$# herald $@ [ 127 . 0 . 0 . 1 ] $: dev < @ lists . example . net >",
		"RELAY",
		"RELAY",
		"$# error $@ 5 . 1 . 1 $: 550 No such list address",
		"$# error $@ 5 . 7 . 1 $: \"550 Relaying denied\"",
	}
	if strings.Join(results, "\n") != strings.Join(want, "\n") {
		t.Errorf("sendmail -bt results:\n%s\nwant:\n%s\nfull output:\n%s", strings.Join(results, "\n"), strings.Join(want, "\n"), bt)
	}
}
