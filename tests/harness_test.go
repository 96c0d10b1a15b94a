//go:build integration

// Package tests runs the real herald binary against real neighbours on
// loopback: an SMTP sink standing in for the MTA's outgoing side, LMTP
// clients, and (in other files) real Postfix, Exim and PostgreSQL.
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

// heraldBin is the binary built once for all tests.
var heraldBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	heraldBin = filepath.Join(dir, "herald")
	build := exec.Command("go", "build", "-o", heraldBin, "../cmd/herald")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build herald:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// H is one herald instance with its own data dir, ports and sink.
type H struct {
	t        *testing.T
	Dir      string
	Config   string
	LMTPAddr string
	HTTPAddr string
	Sink     *smtpsink.Sink
	cmd      *exec.Cmd
	waitErr  chan error
	logPath  string
	env      []string
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newH prepares an instance; extra lines are appended to herald.toml.
func newH(t *testing.T, extra ...string) *H {
	t.Helper()
	dir := t.TempDir()
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	h := &H{t: t, Dir: dir, Sink: sink,
		LMTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		logPath:  filepath.Join(dir, "herald.log"),
	}
	h.Config = filepath.Join(dir, "herald.toml")
	cfg := fmt.Sprintf(`data_dir = "data"
[lmtp]
listen = %q
socket = "data/lmtp.sock"
hostname = "herald.test.invalid"
[smtp]
host = "127.0.0.1"
port = %d
helo = "herald.test.invalid"
[http]
listen = %q
[spool]
min_free_mb = 1
[delivery]
retry_min = "1s"
[log]
level = "debug"
`, h.LMTPAddr, sink.Port(), h.HTTPAddr)
	cfg += strings.Join(extra, "\n") + "\n"
	if err := os.WriteFile(h.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(h.logPath); err == nil {
				t.Logf("herald log (last 6000 bytes):\n%s", tail(b, 6000))
			}
		}
	})
	return h
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Run runs a herald command and returns its stdout, stderr and exit code.
func (h *H) Run(args ...string) (string, string, int) {
	h.t.Helper()
	cmd := exec.Command(heraldBin, append([]string{"--config", h.Config}, args...)...)
	cmd.Dir = h.Dir
	cmd.Env = append(os.Environ(), h.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run herald %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// MustRun runs a command that must succeed and returns its stdout.
func (h *H) MustRun(args ...string) string {
	h.t.Helper()
	out, errs, code := h.Run(args...)
	if code != 0 {
		h.t.Fatalf("herald %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// Start runs `herald serve` and waits until LMTP answers.
func (h *H) Start() {
	h.t.Helper()
	logf, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(heraldBin, "--config", h.Config, "serve")
	cmd.Dir = h.Dir
	cmd.Env = append(os.Environ(), h.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	logf.Close()
	h.cmd = cmd
	h.waitErr = make(chan error, 1)
	go func() { h.waitErr <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", h.LMTPAddr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-h.waitErr:
			h.cmd = nil
			h.t.Fatalf("herald serve exited at start: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	h.t.Fatal("herald serve did not start listening")
}

// Stop sends SIGTERM and waits; SIGKILL after 20 s.
func (h *H) Stop() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.waitErr:
	case <-time.After(20 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.waitErr
		h.t.Error("herald did not stop within 20 s of SIGTERM")
	}
	h.cmd = nil
}

// Kill ends herald with SIGKILL, as a crash would.
func (h *H) Kill() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Kill()
	<-h.waitErr
	h.cmd = nil
}

// LMTPResult is the reply for one recipient.
type LMTPResult struct {
	Rcpt string
	Code int
	Err  error
}

// SendLMTP sends msg from sender to rcpts over LMTP. A RCPT refusal is
// returned as that recipient's result; the others get their DATA reply.
func (h *H) SendLMTP(from string, rcpts []string, msg string) []LMTPResult {
	h.t.Helper()
	res, err := sendLMTP("tcp", h.LMTPAddr, from, rcpts, msg)
	if err != nil {
		h.t.Fatalf("lmtp: %v", err)
	}
	return res
}

func sendLMTP(network, addr, from string, rcpts []string, msg string) ([]LMTPResult, error) {
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("client.test.invalid"); err != nil {
		return nil, err
	}
	if err := c.Mail(from, nil); err != nil {
		return nil, err
	}
	out := make([]LMTPResult, len(rcpts))
	var accepted []int
	for i, r := range rcpts {
		out[i].Rcpt = r
		if err := c.Rcpt(r, nil); err != nil {
			out[i].Err = err
			out[i].Code = codeOf(err)
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return out, nil
	}
	w, err := c.Data()
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return nil, err
	}
	resp, err := w.CloseWithLMTPResponse()
	if err != nil {
		var le smtp.LMTPDataError
		if !errors.As(err, &le) {
			return nil, err
		}
		for _, i := range accepted {
			if e, ok := le[rcpts[i]]; ok {
				out[i].Err = e
				out[i].Code = e.Code
			} else {
				out[i].Code = 250
			}
		}
		_ = resp
	} else {
		for _, i := range accepted {
			out[i].Code = 250
		}
	}
	_ = c.Quit()
	return out, nil
}

func codeOf(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// msg builds a simple message with CRLF line ends.
func msg(from, to, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%d.%s@test.invalid>\r\nDate: %s\r\n",
		from, to, subject, time.Now().UnixNano(), strings.ReplaceAll(subject, " ", ""), time.Now().Format(time.RFC1123Z))
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.String()
}
