//go:build integration

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// postfixH starts herald's harness and a real Postfix in front of it:
// clients talk SMTP to Postfix, Postfix hands list mail to herald (as
// mta.transport says), herald's [smtp] points at Postfix, and Postfix's
// relayhost is the harness sink. Domains and lists are set up with the
// CLI, so every map is written by herald's own regeneration.
func postfixH(t *testing.T, extra ...string) (*H, *pf) {
	t.Helper()
	requireRoot(t)
	pfDir := t.TempDir()
	lines := append([]string{"[mta]", "postfix_postmap = true", "postfix_reload = true",
		fmt.Sprintf("postfix_config_dir = %q", filepath.Join(pfDir, "etc"))}, extra...)
	h := newH(t, lines...)
	p := startPostfix(t, pfDir, h.Sink.Port())
	h.env = append(h.env, fmt.Sprintf("HERALD_SMTP_PORT=%d", p.port))
	setupTwoDomains(h)
	searchable(t, filepath.Join(h.Dir, "data", "mta", "postfix"))
	return h, p
}

// applyPostfix applies `herald mta postfix` with postconf -e and reloads.
func applyPostfix(h *H, p *pf) {
	h.t.Helper()
	out := h.MustRun("mta", "postfix")
	lines := settingsLines(out)
	if len(lines) < 4 {
		h.t.Fatalf("herald mta postfix printed %q", out)
	}
	p.postconf(lines...)
}

func TestPostfixLMTP(t *testing.T) {
	h, p := postfixH(t)
	applyPostfix(h, p)
	h.Start()

	res := sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org", "nosuch@lists.example.org", "dev-bounces+alice=example.com@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "Hello via Postfix", "Through a real MTA."))
	if res[0].code != 250 || res[2].code != 250 {
		t.Fatalf("list address and VERP address at RCPT: %+v", res)
	}
	if res[1].code != 550 || !strings.Contains(res[1].msg, "User unknown") {
		t.Fatalf("unknown list address at RCPT: got %d %q, want 550 User unknown", res[1].code, res[1].msg)
	}
	sendSMTP(t, p.addr(), "carol@example.org", []string{"dev@lists.example.net"},
		msg("carol@example.org", "dev@lists.example.net", "Hello net", "Same list name, other domain."))

	ms := waitRcpts(t, h, "Hello via Postfix", "alice@example.com", "bob@example.net")
	// In through Postfix's smtpd, out again through it: two Received fields.
	if n := countReceived(ms[0].Data, "mta.test.invalid (Postfix)"); n < 2 {
		t.Errorf("fan-out has %d Received fields from Postfix, want 2 (in and out):\n%s", n, ms[0].Data)
	}
	if got := header(ms[0].Data, "List-Id"); got != "dev <dev.lists.example.org>" {
		t.Errorf("List-Id = %q", got)
	}
	ms = waitRcpts(t, h, "Hello net", "carol@example.org")
	if got := header(ms[0].Data, "List-Id"); got != "dev <dev.lists.example.net>" {
		t.Errorf("List-Id = %q", got)
	}

	// A list created while Postfix runs is accepted on the next connection
	// (only the recipient map changed), and a new domain routes to herald
	// at once (herald reloaded Postfix for the new transport entry).
	h.MustRun("lists", "create", "ops@lists.example.org")
	h.MustRun("members", "add", "ops@lists.example.org", "alice@example.com")
	h.MustRun("domains", "add", "lists.example.com")
	h.MustRun("lists", "create", "dev@lists.example.com")
	h.MustRun("members", "add", "dev@lists.example.com", "carol@example.org")
	time.Sleep(300 * time.Millisecond) // the master re-reads main.cf asynchronously after SIGHUP
	res = sendSMTP(t, p.addr(), "alice@example.com", []string{"ops@lists.example.org"}, msg("alice@example.com", "ops@lists.example.org", "Ops first", "New list."))
	if res[0].code != 250 {
		t.Fatalf("new list refused: %+v", res)
	}
	res = sendSMTP(t, p.addr(), "carol@example.org", []string{"dev@lists.example.com"}, msg("carol@example.org", "dev@lists.example.com", "New domain", "New domain."))
	if res[0].code != 250 {
		t.Fatalf("list at the new domain refused: %+v", res)
	}
	waitRcpts(t, h, "Ops first", "alice@example.com")
	waitRcpts(t, h, "New domain", "carol@example.org")
	noListMailAtSink(t, h)

	// The VERP address went to herald over LMTP with its extension.
	deadline := time.Now().Add(10 * time.Second)
	verp := regexp.MustCompile(`to=<dev-bounces\+alice=example\.com@lists\.example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+,.* status=sent`)
	for time.Now().Before(deadline) && !verp.Match(readFile(filepath.Join(p.dir, "maillog"))) {
		time.Sleep(100 * time.Millisecond)
	}
	if !verp.Match(readFile(filepath.Join(p.dir, "maillog"))) {
		t.Errorf("no LMTP delivery of the VERP address in the Postfix log")
	}

	out, errs, code := h.Run("doctor")
	if code != 0 {
		t.Errorf("herald doctor: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"LMTP server answers", "Postfix (" + p.dir + "/etc) uses herald's maps", "accepts herald's outgoing mail"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

func TestPostfixMaildir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "maildir")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Postfix's virtual agent writes as this uid (root is refused).
	if err := os.Chown(root, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	searchable(t, root)
	h, p := postfixH(t, "[maildir]", fmt.Sprintf("root = %q", root))
	out := h.MustRun("mta", "postfix")
	for _, want := range []string{"virtual_mailbox_maps = hash:", "virtual_mailbox_base = " + root, "virtual_uid_maps = static:65534"} {
		if !strings.Contains(out, want) {
			t.Fatalf("herald mta postfix lacks %q:\n%s", want, out)
		}
	}
	applyPostfix(h, p)
	h.Start()

	res := sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org", "nosuch@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "Hello via Maildir", "Dropped, then picked up."))
	if res[0].code != 250 {
		t.Fatalf("list address at RCPT: %+v", res)
	}
	if res[1].code != 550 || !strings.Contains(res[1].msg, "User unknown") {
		t.Fatalf("unknown list address at RCPT: got %d %q, want 550 User unknown", res[1].code, res[1].msg)
	}
	sendSMTP(t, p.addr(), "carol@example.org", []string{"dev@lists.example.net"},
		msg("carol@example.org", "dev@lists.example.net", "Maildir net", "Other domain."))
	ms := waitRcpts(t, h, "Hello via Maildir", "alice@example.com", "bob@example.net")
	if strings.Contains(string(ms[0].Data), "Delivered-To: dev@lists.example.org") {
		t.Errorf("the virtual agent's Delivered-To was not removed at pickup")
	}
	waitRcpts(t, h, "Maildir net", "carol@example.org")
	noListMailAtSink(t, h)
	// Picked-up files are gone.
	left, _ := filepath.Glob(filepath.Join(root, "*", "*", "*", "new", "*"))
	if len(left) > 0 {
		t.Errorf("files left in new/: %v", left)
	}
}

func TestPostfixPipe(t *testing.T) {
	searchable(t, heraldBin)
	h, p := postfixH(t, "transport = \"pipe\"", fmt.Sprintf("herald_path = %q", heraldBin))
	searchable(t, filepath.Join(h.Dir, "data"))
	v := mtaJSON(h, "postfix")
	text, _ := v["text"].(string)
	var service string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "herald unix") {
			service = l
		}
	}
	if service == "" || !strings.Contains(service, "inject --rcpt ${recipient} --sender ${sender}") {
		t.Fatalf("no pipe service in %q", text)
	}
	// The pipe runs unprivileged; in production user= is herald's own user.
	service = strings.Replace(service, "user=herald", "user=nobody", 1)
	if out, err := exec.Command("/usr/sbin/postconf", "-c", filepath.Join(p.dir, "etc"), "-M", "-e", "herald/unix="+service).CombinedOutput(); err != nil {
		t.Fatalf("postconf -M: %v: %s", err, out)
	}
	applyPostfix(h, p)
	h.Start()

	res := sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org", "nosuch@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "Hello via pipe", "Piped to herald inject."))
	if res[0].code != 250 || res[1].code != 550 {
		t.Fatalf("RCPT replies: %+v", res)
	}
	waitRcpts(t, h, "Hello via pipe", "alice@example.com", "bob@example.net")

	// With herald serve down, inject cannot hand over (and the unprivileged
	// pipe user may not write the spool): it exits 75, Postfix keeps the
	// message and retries; once serve is back the post goes out.
	h.Stop()
	sendSMTP(t, p.addr(), "carol@example.org", []string{"dev@lists.example.net"},
		msg("carol@example.org", "dev@lists.example.net", "While down", "Deferred, not lost."))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
		if strings.Contains(string(b), "status=deferred") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
	var deferred string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "status=deferred") {
			deferred = l
		}
	}
	if deferred == "" {
		t.Fatal("Postfix did not defer the message while herald was down")
	}
	// The pipe's exit 75 and inject's one-line reason, as Postfix logs them.
	if !strings.Contains(deferred, "temporary failure") || !strings.Contains(deferred, "herald:") {
		t.Errorf("deferral does not carry inject's reason: %s", deferred)
	}
	t.Logf("while down: %s", deferred)
	h.Start()
	if _, err := p.script("flush", p.dir); err != nil {
		t.Log(err)
	}
	waitRcpts(t, h, "While down", "carol@example.org")
	noListMailAtSink(t, h)
}

// readFile returns path's content, or nothing.
func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// With [mta] socketmap, Postfix asks herald live: a new list is accepted at
// once without postmap, and while herald is down Postfix answers 4xx
// (try later) instead of refusing list mail.
func TestPostfixSocketmap(t *testing.T) {
	smAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	h, p := postfixH(t, fmt.Sprintf("socketmap = %q", smAddr))
	out := h.MustRun("mta", "postfix")
	if !strings.Contains(out, "relay_recipient_maps = socketmap:inet:"+smAddr+":recipients") {
		t.Fatalf("herald mta postfix:\n%s", out)
	}
	applyPostfix(h, p)
	h.Start()
	q, err := exec.Command("/usr/sbin/postmap", "-c", filepath.Join(p.dir, "etc"), "-q", "dev-bounces+a=b.org@lists.example.net", "socketmap:inet:"+smAddr+":recipients").CombinedOutput()
	if err != nil || strings.TrimSpace(string(q)) != "herald" {
		t.Fatalf("postmap -q over socketmap: %q %v", q, err)
	}
	res := sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org", "nosuch@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "Hello via socketmap", "Live lookups."))
	if res[0].code != 250 || res[1].code != 550 {
		t.Fatalf("RCPT replies: %+v", res)
	}
	waitRcpts(t, h, "Hello via socketmap", "alice@example.com", "bob@example.net")

	// The recipient map file is not what Postfix reads now: remove it, then
	// create a list; Postfix accepts it at once.
	if err := os.Remove(filepath.Join(h.Dir, "data", "mta", "postfix", "recipients.db")); err != nil {
		t.Fatal(err)
	}
	h.MustRun("lists", "create", "live@lists.example.net")
	h.MustRun("members", "add", "live@lists.example.net", "carol@example.org")
	res = sendSMTP(t, p.addr(), "carol@example.org", []string{"live@lists.example.net"}, msg("carol@example.org", "live@lists.example.net", "Live list", "x"))
	if res[0].code != 250 {
		t.Fatalf("new list refused: %+v", res)
	}
	waitRcpts(t, h, "Live list", "carol@example.org")
	if out, errs, code := h.Run("doctor"); !strings.Contains(out, "ok       herald's socketmap server answers") {
		t.Errorf("doctor (exit %d) does not vouch for the socketmap server:\n%s%s", code, out, errs)
	}

	h.Stop()
	res = sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org"}, msg("alice@example.com", "dev@lists.example.org", "x", "x"))
	if res[0].code/100 != 4 {
		t.Fatalf("with herald down: RCPT got %d %q, want 4xx (try later)", res[0].code, res[0].msg)
	}
	noListMailAtSink(t, h)
}

// The same hand-over over herald's LMTP unix socket (lmtp:unix:PATH; the
// test instance's lmtp client is not chrooted).
func TestPostfixLMTPSocket(t *testing.T) {
	h, p := postfixH(t, `transport = "socket"`)
	searchable(t, filepath.Join(h.Dir, "data"))
	out := h.MustRun("mta", "postfix")
	if !strings.Contains(string(readFile(filepath.Join(h.Dir, "data", "mta", "postfix", "transport"))), "lmtp:unix:"+filepath.Join(h.Dir, "data", "lmtp.sock")) {
		t.Fatalf("transport map does not name the socket; herald mta postfix:\n%s", out)
	}
	applyPostfix(h, p)
	h.Start()
	res := sendSMTP(t, p.addr(), "carol@example.org", []string{"dev@lists.example.net"},
		msg("carol@example.org", "dev@lists.example.net", "Via the socket", "Unix socket LMTP."))
	if res[0].code != 250 {
		t.Fatalf("RCPT: %+v", res)
	}
	waitRcpts(t, h, "Via the socket", "carol@example.org")
	if !regexp.MustCompile(`to=<dev@lists\.example\.net>, relay=[^ ]*lmtp\.sock`).Match(readFile(filepath.Join(p.dir, "maillog"))) {
		t.Error("Postfix did not deliver over the unix socket")
	}
}
