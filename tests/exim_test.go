//go:build integration

package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exim is a private Exim started by tools/exim-instance.sh.
type exim struct {
	t    *testing.T
	dir  string
	port int
}

func (e *exim) script(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(toolsDir, "exim-instance.sh"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("exim-instance.sh %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (e *exim) addr() string { return fmt.Sprintf("127.0.0.1:%d", e.port) }

// eximH sets up herald with two domains and a real Exim in front of it,
// configured with the files `herald mta exim` keeps: herald's main.conf,
// routers.conf and transports.conf are included where the tools script
// allows, and its acl.conf replaces the script's own RCPT checks.
func eximH(t *testing.T) (*H, *exim) {
	t.Helper()
	requireRoot(t)
	e := &exim{t: t, dir: t.TempDir()}
	if out, err := e.script("fetch"); err != nil {
		t.Skip("SKIP: cannot unpack Debian's exim4 packages (apt-get download failed?): ", err, out)
	}
	h := newH(t)
	e.port = freePort(t)
	h.env = append(h.env, fmt.Sprintf("HERALD_SMTP_PORT=%d", e.port))
	setupTwoDomains(h)
	v := mtaJSON(h, "exim")
	if !strings.Contains(fmt.Sprint(v["text"]), ".include ") {
		t.Fatalf("herald mta exim: %v", v)
	}
	mtaDir := filepath.Join(h.Dir, "data", "mta", "exim")
	searchable(t, mtaDir)
	for _, f := range []string{"main.conf", "routers.conf", "transports.conf"} {
		if err := os.WriteFile(filepath.Join(e.dir, f), []byte(".include "+filepath.Join(mtaDir, f)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.script("start", e.dir, fmt.Sprint(e.port), fmt.Sprint(h.Sink.Port()), h.LMTPAddr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := e.script("log", e.dir)
			t.Logf("exim log (last 6000 bytes):\n%s", tail([]byte(out), 6000))
		}
		if _, err := e.script("stop", e.dir); err != nil {
			t.Error(err)
		}
	})
	// Swap the script's list checks in acl_check_rcpt for herald's.
	confPath := filepath.Join(e.dir, "exim.conf")
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)acl_check_rcpt:\n.*?\n(  accept  hosts = \+relay_from_hosts)`)
	if !re.Match(conf) {
		t.Fatalf("exim.conf has no acl_check_rcpt to patch:\n%s", conf)
	}
	conf = re.ReplaceAll(conf, []byte("acl_check_rcpt:\n.include "+filepath.Join(mtaDir, "acl.conf")+"\n$1"))
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := e.script("exim", e.dir, "-bV"); err != nil {
		t.Fatalf("exim -bV with herald's files: %v\n%s", err, out)
	}
	// Restart the daemon on the patched config, as the script starts it
	// (a SIGHUP re-exec of the unpacked binary does not come back up).
	if _, err := e.script("stop", e.dir); err != nil {
		t.Fatal(err)
	}
	if out, err := e.script("exim", e.dir, "-bd", "-q5s", "-oX", fmt.Sprint(e.port), "-oP", filepath.Join(e.dir, "exim.pid")); err != nil {
		t.Fatalf("restart exim: %v\n%s", err, out)
	}
	for i := 0; i < 100 && !listening(e.addr()); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !listening(e.addr()) {
		t.Fatal("exim did not come back on the patched config")
	}
	return h, e
}

func TestEximLMTP(t *testing.T) {
	h, e := eximH(t)
	h.Start()

	res := sendSMTP(t, e.addr(), "alice@example.com", []string{"dev@lists.example.org", "nosuch@lists.example.org", "dev-bounces+alice=example.com@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "Hello via Exim", "Through a real Exim."))
	if res[0].code != 250 || res[2].code != 250 {
		t.Fatalf("list address and VERP address at RCPT: %+v", res)
	}
	if res[1].code != 550 || !strings.Contains(res[1].msg, "no such list address") {
		t.Fatalf("unknown list address at RCPT: got %d %q, want 550 no such list address", res[1].code, res[1].msg)
	}
	sendSMTP(t, e.addr(), "carol@example.org", []string{"dev@lists.example.net"},
		msg("carol@example.org", "dev@lists.example.net", "Exim net", "Same list name, other domain."))
	ms := waitRcpts(t, h, "Hello via Exim", "alice@example.com", "bob@example.net")
	if n := countReceived(ms[0].Data, "exim.test.invalid"); n < 2 {
		t.Errorf("fan-out has %d Received fields from Exim, want 2 (in and out):\n%s", n, ms[0].Data)
	}
	ms = waitRcpts(t, h, "Exim net", "carol@example.org")
	if got := header(ms[0].Data, "List-Id"); got != "dev <dev.lists.example.net>" {
		t.Errorf("List-Id = %q", got)
	}

	// A new list: Exim re-reads the recipients file per message.
	h.MustRun("lists", "create", "ops@lists.example.org")
	h.MustRun("members", "add", "ops@lists.example.org", "alice@example.com")
	res = sendSMTP(t, e.addr(), "alice@example.com", []string{"ops@lists.example.org"}, msg("alice@example.com", "ops@lists.example.org", "Exim ops", "New list."))
	if res[0].code != 250 {
		t.Fatalf("new list refused: %+v", res)
	}
	waitRcpts(t, h, "Exim ops", "alice@example.com")
	noListMailAtSink(t, h)
	// The VERP bounce reached herald over LMTP with its extension.
	deadline := time.Now().Add(10 * time.Second)
	var log string
	for time.Now().Before(deadline) {
		log, _ = e.script("log", e.dir)
		if strings.Contains(log, "dev-bounces+alice=example.com@lists.example.org R=herald_lists T=herald_lmtp") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(log, "dev-bounces+alice=example.com@lists.example.org R=herald_lists T=herald_lmtp") {
		t.Errorf("VERP address not delivered through herald's router and transport:\n%s", log)
	}
}
