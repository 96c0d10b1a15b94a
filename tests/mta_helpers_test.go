//go:build integration

package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

// toolsDir holds copies of the shared MTA scripts (CI has only the repo).
const toolsDir = "tools"

// requireRoot skips when the test cannot run a real MTA.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: real MTA tests need root (Postfix's master and Exim's daemon)")
	}
}

// searchable gives other users search (x) permission on path and every
// directory above it inside the temp dir, so the MTA's unprivileged
// daemons can reach maps, sockets and Maildirs there (t.TempDir makes
// 0700 directories).
func searchable(t *testing.T, path string) {
	t.Helper()
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(path); strings.HasPrefix(d, tmp+"/"); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o005); err != nil {
			t.Fatal(err)
		}
	}
}

// pf is a private Postfix instance started by tools/postfix-instance.sh.
type pf struct {
	t    *testing.T
	dir  string
	port int
}

func (p *pf) script(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(toolsDir, "postfix-instance.sh"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("postfix-instance.sh %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// startPostfix starts Postfix on a free loopback port relaying to relayPort;
// it is stopped (by PID, through the script) when the test ends.
func startPostfix(t *testing.T, dir string, relayPort int) *pf {
	t.Helper()
	requireRoot(t)
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		t.Skip("SKIP: postfix is not installed (.ci/run installs it: apt-get install postfix, preseeded 'No configuration')")
	}
	p := &pf{t: t, dir: dir, port: freePort(t)}
	if _, err := p.script("start", dir, fmt.Sprint(p.port), fmt.Sprint(relayPort)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "maillog")); err == nil {
				t.Logf("postfix log (last 6000 bytes):\n%s", tail(b, 6000))
			}
		}
		if _, err := p.script("stop", dir); err != nil {
			t.Error(err)
		}
	})
	return p
}

// postconf applies main.cf lines and reloads.
func (p *pf) postconf(lines ...string) {
	p.t.Helper()
	if _, err := p.script(append([]string{"postconf", p.dir}, lines...)...); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pf) addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// settingsLines splits `herald mta postfix` output into key = value lines.
func settingsLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(l, " = ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// rcptResult is one recipient's fate in an SMTP transaction.
type rcptResult struct {
	code int
	msg  string
}

// sendSMTP sends msg through an SMTP server and returns the RCPT replies
// (250 for accepted ones); the message goes to the accepted recipients.
func sendSMTP(t *testing.T, addr, from string, rcpts []string, body string) []rcptResult {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test.invalid"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from, nil); err != nil {
		t.Fatal(err)
	}
	out := make([]rcptResult, len(rcpts))
	accepted := 0
	for i, r := range rcpts {
		out[i] = rcptResult{code: 250}
		if err := c.Rcpt(r, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				t.Fatal(err)
			}
			out[i] = rcptResult{code: se.Code, msg: se.Message}
			continue
		}
		accepted++
	}
	if accepted > 0 {
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Logf("quit: %v", err)
	}
	return out
}

// rcptsOf returns the sorted recipients of sink messages whose Subject
// contains subject.
func rcptsOf(ms []smtpsink.Message, subject string) []string {
	var sel []smtpsink.Message
	for _, m := range ms {
		if strings.Contains(header(m.Data, "Subject"), subject) {
			sel = append(sel, m)
		}
	}
	return sortedRcpts(sel)
}

// waitRcpts waits until the sink got the post with subject for want.
func waitRcpts(t *testing.T, h *H, subject string, want ...string) []smtpsink.Message {
	t.Helper()
	ok := h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool {
		return len(rcptsOf(ms, subject)) >= len(want)
	})
	got := rcptsOf(h.Sink.Messages(), subject)
	if !ok || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("post %q reached %v, want %v", subject, got, want)
	}
	var out []smtpsink.Message
	for _, m := range h.Sink.Messages() {
		if strings.Contains(header(m.Data, "Subject"), subject) {
			out = append(out, m)
		}
	}
	return out
}

// noListMailAtSink fails if a message addressed to a list address reached
// the relayhost sink: that would be Postfix misrouting list mail.
func noListMailAtSink(t *testing.T, h *H) {
	t.Helper()
	for _, m := range h.Sink.Messages() {
		for _, r := range m.To {
			if strings.Contains(r, "@lists.example.") {
				t.Errorf("list address %s was relayed to the sink instead of herald", r)
			}
		}
	}
}

// setupTwoDomains makes dev@lists.example.org (alice, bob) and
// dev@lists.example.net (carol).
func setupTwoDomains(h *H) {
	h.t.Helper()
	for _, d := range []string{"lists.example.org", "lists.example.net"} {
		h.MustRun("domains", "add", d)
		h.MustRun("lists", "create", "dev@"+d)
	}
	h.MustRun("members", "add", "dev@lists.example.org", "alice@example.com", "bob@example.net")
	h.MustRun("members", "add", "dev@lists.example.net", "carol@example.org")
}

// countReceived counts Received fields added by the test Postfix.
func countReceived(data []byte, by string) int {
	return strings.Count(string(data), "by "+by)
}

// mtaJSON runs `herald --json mta NAME` and decodes it.
func mtaJSON(h *H, name string) map[string]any {
	h.t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(h.MustRun("--json", "mta", name)), &v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

// freeTCP reports whether something accepts connections on addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
