//go:build integration

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"herald/internal/bounce"
	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

// scanOut is one line of `herald bounces scan`.
type scanOut struct {
	File      string   `json:"file"`
	Permanent []string `json:"permanent"`
	Temporary []string `json:"temporary"`
}

// TestBouncesScanContract checks `herald bounces scan` through the real
// binary: one line per file in argument order, exactly the keys file,
// permanent and temporary, lists never null, lower-cased, deduplicated and
// sorted, the classifier's answer for every corpus message, exit 0 when
// nothing is found, one error line and exit 1 for an unreadable file.
func TestBouncesScanContract(t *testing.T) {
	testdata, err := filepath.Abs("../internal/bounce/testdata")
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := filepath.Glob(filepath.Join(testdata, "*.eml"))
	if err != nil || len(corpus) < 100 {
		t.Fatalf("corpus: %d files, %v", len(corpus), err)
	}
	dir := t.TempDir()
	notBounce := filepath.Join(dir, "hello.eml")
	if err := os.WriteFile(notBounce, []byte("From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.eml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, corpus...), notBounce, empty)

	// No configuration is needed: run it in an empty directory.
	stdout, stderr, code := runHerald(t, dir, append([]string{"bounces", "scan"}, args...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(args) {
		t.Fatalf("%d lines for %d files", len(lines), len(args))
	}
	for i, line := range lines {
		checkScanLine(t, line, args[i])
	}

	// Exact answers for a few, as their .json files give them.
	for _, name := range []string{"gen-postfix-two-failed", "gen-exim-blocklist", "gen-exim-delay-dsn", "qmail-vpopmail-multiple"} {
		f := filepath.Join(testdata, name+".eml")
		var want scanOut
		b, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil || json.Unmarshal(b, &want) != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, _, code := runHerald(t, dir, "bounces", "scan", f)
		var got scanOut
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("%s: exit %d, %q", name, code, out)
		}
		if !reflect.DeepEqual(nonNil(got.Permanent), nonNil(want.Permanent)) || !reflect.DeepEqual(nonNil(got.Temporary), nonNil(want.Temporary)) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}

	// An unreadable file: one clear line on stderr, exit 1, the other
	// files still scanned.
	missing := filepath.Join(dir, "nosuch.eml")
	stdout, stderr, code = runHerald(t, dir, "bounces", "scan", corpus[0], missing, dir, notBounce)
	if code != 1 {
		t.Errorf("unreadable files: exit %d, want 1", code)
	}
	errLines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(errLines) != 2 || !strings.Contains(errLines[0], missing) || !strings.Contains(errLines[0], "no such file") ||
		!strings.Contains(errLines[1], dir) || !strings.Contains(errLines[1], "is a directory") {
		t.Errorf("stderr = %q, want one line per unreadable file naming it and why", stderr)
	}
	if got := strings.Split(strings.TrimSpace(stdout), "\n"); len(got) != 2 {
		t.Errorf("stdout has %d lines, want 2 (the readable files)", len(got))
	}
}

// checkScanLine checks one output line against the contract and against
// the classifier run in this process.
func checkScanLine(t *testing.T, line, file string) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "file,permanent,temporary" {
		t.Errorf("%s: keys %v", file, keys)
	}
	if string(raw["permanent"]) == "null" || string(raw["temporary"]) == "null" {
		t.Errorf("%s: null list in %s", file, line)
	}
	var got scanOut
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if got.File != file {
		t.Errorf("line for %s names %s", file, got.File)
	}
	for _, l := range [][]string{got.Permanent, got.Temporary} {
		if !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
			t.Errorf("%s: %v not sorted and unique", file, l)
		}
		for _, a := range l {
			if a != strings.ToLower(a) {
				t.Errorf("%s: %q not lower-cased", file, a)
			}
		}
	}
	msg, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bounce.Scan(msg) // ErrNotMessage gives the empty result, as the CLI prints
	if !reflect.DeepEqual(got.Permanent, nonNil(want.Permanent)) || !reflect.DeepEqual(got.Temporary, nonNil(want.Temporary)) {
		t.Errorf("%s: CLI says %+v, bounce.Scan %v / %v", file, got, want.Permanent, want.Temporary)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runHerald runs the binary in dir without a configuration.
func runHerald(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(heraldBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HERALD_CONFIG=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// The bounce clock: day N of the tests, at a given hour.
var bounceDay0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func bounceAt(day, hour int) time.Time {
	return bounceDay0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
}

func (h *H) setClock(t time.Time) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.Dir, "clock"), []byte(t.Format(time.RFC3339)+"\n"), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// bounceRecord is a member's line of `herald bounces ls --json`.
type bounceRecord struct {
	Email          string `json:"email"`
	DeliveryStatus string `json:"delivery_status"`
	Score          int    `json:"score"`
	ProbeSent      string `json:"probe_sent"`
	WarningsSent   int    `json:"warnings_sent"`
}

// record returns email's bounce record ("" status when it has none).
func (h *H) bounceRecord(email string) bounceRecord {
	h.t.Helper()
	var ls struct {
		Members []bounceRecord `json:"members"`
	}
	out := h.MustRun("--json", "bounces", "ls", "dev@lists.example.org")
	if err := json.Unmarshal([]byte(out), &ls); err != nil {
		h.t.Fatalf("bounces ls: %v: %s", err, out)
	}
	for _, r := range ls.Members {
		if r.Email == email {
			return r
		}
	}
	return bounceRecord{Email: email}
}

// waitRecord polls bounces ls until cond holds.
func waitRecord(t *testing.T, h *H, email, what string, cond func(bounceRecord) bool) bounceRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var r bounceRecord
	for time.Now().Before(deadline) {
		if r = h.bounceRecord(email); cond(r) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s never happened; record %+v", email, what, r)
	return r
}

// waitSubject waits for a message to rcpt whose Subject contains s and
// returns it.
func waitSubject(t *testing.T, h *H, rcpt, s string) smtpsink.Message {
	t.Helper()
	var found smtpsink.Message
	ok := h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool {
		for _, m := range ms {
			if slices.Contains(m.To, rcpt) && strings.Contains(header(m.Data, "Subject"), s) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		var got []string
		for _, m := range h.Sink.Messages() {
			got = append(got, fmt.Sprintf("%v: %s", m.To, header(m.Data, "Subject")))
		}
		t.Fatalf("no message to %s about %q; sink has %q", rcpt, s, got)
	}
	return found
}

func countSubject(h *H, rcpt, s string) int {
	n := 0
	for _, m := range h.Sink.Messages() {
		if slices.Contains(m.To, rcpt) && strings.Contains(header(m.Data, "Subject"), s) {
			n++
		}
	}
	return n
}

// isBounceMember reports whether email is a member of dev@lists.example.org.
func isBounceMember(h *H, email string) bool {
	h.t.Helper()
	for _, line := range strings.Split(h.MustRun("members", "ls", "dev@lists.example.org"), "\n") {
		if strings.EqualFold(strings.TrimSpace(line), email) {
			return true
		}
	}
	return false
}

// waitBounceLog waits until the herald log has n lines containing s.
func waitBounceLog(t *testing.T, h *H, s string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	got := 0
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(h.logPath)
		if err != nil {
			t.Fatal(err)
		}
		if got = strings.Count(string(b), s); got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("log has %d lines with %q, want %d", got, s, n)
}

// TestBounceLifecycleSMTP: the MTA refuses bob with 550 5.1.1 at RCPT
// time. `herald serve` runs the policy itself, every 200 ms, on a testing
// clock the test moves: bob is scored once a day for five days, probed,
// disabled when the probe is refused too, warned three times a week apart
// and removed a week after the last warning; the owner hears of the
// disable and the removal; alice and carol keep getting posts.
func TestBounceLifecycleSMTP(t *testing.T) {
	h := newH(t, "[bounces]", `interval = "200ms"`, `testing_clock = "clock"`)
	setupDev(h)
	h.Sink.Reply("bob@example.net", 550, smtp.EnhancedCode{5, 1, 1}, "<bob@example.net>: Recipient address rejected: User unknown")
	h.setClock(bounceAt(0, 10))
	h.Start()

	refusals := 0
	for day := 0; day < 5; day++ {
		h.setClock(bounceAt(day, 10))
		subject := fmt.Sprintf("Day %d", day)
		h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"},
			msg("alice@example.com", "dev@lists.example.org", subject, "A post."))
		waitSubject(t, h, "carol@example.org", subject)
		refusals++
		waitBounceLog(t, h, "smtp failure recorded", refusals, 20*time.Second)
		h.setClock(bounceAt(day, 12)) // the breaker's window has passed
		if day < 4 {
			waitRecord(t, h, "bob@example.net", fmt.Sprintf("score %d", day+1), func(r bounceRecord) bool { return r.Score == day+1 })
		}
	}
	// The fifth score reached the threshold: a probe, refused at once.
	waitRecord(t, h, "bob@example.net", "probe", func(r bounceRecord) bool { return r.ProbeSent != "" })
	refusals++
	waitBounceLog(t, h, "smtp failure recorded", refusals, 20*time.Second)
	h.setClock(bounceAt(4, 14))
	waitRecord(t, h, "bob@example.net", "disable and first warning", func(r bounceRecord) bool {
		return r.DeliveryStatus == "by_bounces" && r.WarningsSent == 1
	})
	waitSubject(t, h, "owner@example.com", "bob@example.net's subscription disabled on dev")

	// A post now goes to alice and carol only: no new refusal.
	h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "After the disable", "A post."))
	waitSubject(t, h, "carol@example.org", "After the disable")

	for i, day := range []int{11, 18} {
		h.setClock(bounceAt(day, 13)) // a day short of the interval: nothing yet
		time.Sleep(500 * time.Millisecond)
		if r := h.bounceRecord("bob@example.net"); r.WarningsSent != i+1 {
			t.Fatalf("day %d: %d warnings, want %d", day, r.WarningsSent, i+1)
		}
		h.setClock(bounceAt(day, 14))
		waitRecord(t, h, "bob@example.net", fmt.Sprintf("warning %d", i+2), func(r bounceRecord) bool { return r.WarningsSent == i+2 })
	}
	if !isBounceMember(h, "bob@example.net") {
		t.Fatal("bob removed before the last interval ran out")
	}
	h.setClock(bounceAt(25, 14))
	waitSubject(t, h, "owner@example.com", "bob@example.net unsubscribed from dev mailing list due to bounces")
	if isBounceMember(h, "bob@example.net") {
		t.Fatal("bob is still a member after the removal notice")
	}
	for _, m := range []string{"alice@example.com", "carol@example.org"} {
		if !isBounceMember(h, m) || h.bounceRecord(m).Score != 0 {
			t.Errorf("%s was touched: %+v", m, h.bounceRecord(m))
		}
	}
	if n := countSubject(h, "owner@example.com", "subscription disabled"); n != 1 {
		t.Errorf("%d disable notices, want 1", n)
	}
}

// dsnTo is a Postfix-style RFC 3464 report about rcpt, sent to to.
func dsnTo(to, rcpt string) string {
	return fmt.Sprintf("From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"+
		"To: %s\r\nSubject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"+
		"Message-ID: <%d@mx.example.net>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"+
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"+
		"Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
		"Diagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown\r\n\r\n"+
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alice@example.com\r\nSubject: [dev] a post\r\n\r\n--B--\r\n",
		to, time.Now().UnixNano(), rcpt, rcpt)
}

// TestBounceLifecycleDSN: bob's bounces arrive as DSNs over LMTP at the
// -bounces address (plain and VERP'd), and the test runs each policy pass
// itself with `herald bounces process --now` (the server's own pass is
// off). The probe's bounce, sent to its token address, disables bob; the
// warnings reach him; he is removed on schedule. An unrecognized bounce
// goes to the owner.
func TestBounceLifecycleDSN(t *testing.T) {
	h := newH(t, "[bounces]", `interval = "0s"`, `testing_clock = "clock"`)
	setupDev(h)
	h.setClock(bounceAt(0, 10))
	h.Start()

	res := h.SendLMTP("", []string{"dev-bounces@lists.example.org"},
		msg("someone@example.biz", "dev-bounces@lists.example.org", "Question", "Is this the list?"))
	if res[0].Code != 250 {
		t.Fatalf("bounce address: %d %v", res[0].Code, res[0].Err)
	}
	waitSubject(t, h, "owner@example.com", "Uncaught bounce notification")

	pass := func(at time.Time) map[string]int {
		t.Helper()
		var rep map[string]int
		out := h.MustRun("--json", "bounces", "process", "--now", at.Format(time.RFC3339))
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("bounces process: %v: %s", err, out)
		}
		return rep
	}
	recorded := 0
	for day := 0; day < 5; day++ {
		h.setClock(bounceAt(day, 10))
		to := "dev-bounces@lists.example.org"
		if day%2 == 1 {
			to = "dev-bounces+bob=example.net@lists.example.org"
		}
		if r := h.SendLMTP("", []string{to}, dsnTo(to, "bob@example.net")); r[0].Code != 250 {
			t.Fatalf("day %d: DSN to %s: %d %v", day, to, r[0].Code, r[0].Err)
		}
		recorded++
		waitBounceLog(t, h, "bounce recorded", recorded, 20*time.Second)
		if rep := pass(bounceAt(day, 10)); rep["waiting"] != 1 || rep["scored"] != 0 {
			t.Fatalf("day %d: a pass inside the window: %v", day, rep)
		}
		rep := pass(bounceAt(day, 12))
		if rep["scored"] != 1 || day == 4 && rep["probes"] != 1 {
			t.Fatalf("day %d: %v", day, rep)
		}
	}
	probe := waitSubject(t, h, "bob@example.net", "mailing list probe message")
	if !strings.HasPrefix(probe.From, "dev-bounces+") || strings.Contains(probe.From, "=") {
		t.Fatalf("probe envelope sender %q: want dev-bounces+TOKEN", probe.From)
	}

	// The probe bounces the next day.
	h.setClock(bounceAt(5, 10))
	if r := h.SendLMTP("", []string{probe.From}, dsnTo(probe.From, "bob@example.net")); r[0].Code != 250 {
		t.Fatalf("probe bounce: %d %v", r[0].Code, r[0].Err)
	}
	recorded++
	waitBounceLog(t, h, "bounce recorded", recorded, 20*time.Second)
	if rep := pass(bounceAt(5, 12)); rep["disabled"] != 1 || rep["warnings"] != 1 {
		t.Fatalf("probe bounce pass: %v", rep)
	}
	waitSubject(t, h, "owner@example.com", "bob@example.net's subscription disabled on dev")
	waitSubject(t, h, "bob@example.net", "Your subscription for the dev mailing list has been disabled")

	for i, day := range []int{12, 19} {
		if rep := pass(bounceAt(day, 11)); rep["warnings"] != 0 {
			t.Fatalf("day %d: warning before the interval: %v", day, rep)
		}
		if rep := pass(bounceAt(day, 12)); rep["warnings"] != 1 {
			t.Fatalf("day %d: %v, want warning %d", day, rep, i+2)
		}
	}
	if rep := pass(bounceAt(26, 11)); rep["removed"] != 0 || !isBounceMember(h, "bob@example.net") {
		t.Fatalf("removed early: %v", rep)
	}
	if rep := pass(bounceAt(26, 12)); rep["removed"] != 1 {
		t.Fatalf("day 26: %v, want the removal", rep)
	}
	waitSubject(t, h, "owner@example.com", "bob@example.net unsubscribed from dev mailing list due to bounces")
	if isBounceMember(h, "bob@example.net") {
		t.Fatal("bob is still a member")
	}
	deadline := time.Now().Add(10 * time.Second)
	for countSubject(h, "bob@example.net", "has been disabled") < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := countSubject(h, "bob@example.net", "has been disabled"); n != 3 {
		t.Errorf("bob got %d warnings, want 3", n)
	}
}
