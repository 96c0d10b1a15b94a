//go:build integration

package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

// setupDev creates lists.example.org with dev@ (three members, one owner).
func setupDev(h *H) {
	h.t.Helper()
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "dev@lists.example.org")
	h.MustRun("members", "add", "dev@lists.example.org", "alice@example.com", "Bob <bob@example.net>", "carol@example.org")
	h.MustRun("members", "add", "--role", "owner", "dev@lists.example.org", "owner@example.com")
}

func header(data []byte, name string) string {
	re := regexp.MustCompile(`(?im)^` + regexp.QuoteMeta(name) + `:[ \t]*(.*(?:\r?\n[ \t].*)*)`)
	m := re.FindSubmatch(data)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(strings.NewReplacer("\r\n", "", "\n", "").Replace(string(m[1])))
}

func sortedRcpts(msgs []smtpsink.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To...)
	}
	sort.Strings(out)
	return out
}

func TestEndToEndPostReachesMembers(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.Start()

	res := h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"},
		msg("Alice <alice@example.com>", "dev@lists.example.org", "Hello list", "First post."))
	if res[0].Code != 250 {
		t.Fatalf("post: got %d %v, want 250", res[0].Code, res[0].Err)
	}
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 3 }) {
		t.Fatalf("members did not receive the post; sink has %v", sortedRcpts(h.Sink.Messages()))
	}
	time.Sleep(300 * time.Millisecond) // a fourth copy would show now
	msgs := h.Sink.Messages()
	if got, want := strings.Join(sortedRcpts(msgs), ","), "alice@example.com,bob@example.net,carol@example.org"; got != want {
		t.Fatalf("recipients = %s, want %s", got, want)
	}
	m := msgs[0]
	if m.From != "dev-bounces@lists.example.org" {
		t.Errorf("envelope sender = %q, want dev-bounces@lists.example.org", m.From)
	}
	checks := map[string]string{
		"Subject":          "[dev] Hello list",
		"List-Id":          "dev <dev.lists.example.org>",
		"List-Post":        "<mailto:dev@lists.example.org>",
		"List-Help":        "<mailto:dev-request@lists.example.org?subject=help>",
		"List-Subscribe":   "<mailto:dev-join@lists.example.org>",
		"List-Unsubscribe": "<mailto:dev-leave@lists.example.org>",
		"Precedence":       "list",
		"X-BeenThere":      "dev@lists.example.org",
	}
	// The list's generic unsubscribe page (issue 4); one-click URLs are per member.
	checks["List-Unsubscribe"] = "<mailto:dev-leave@lists.example.org>, <http://" + h.HTTPAddr + "/lists/dev@lists.example.org/unsubscribe>"
	for name, want := range checks {
		if got := header(m.Data, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if header(m.Data, "List-Archive") != "" {
		t.Errorf("List-Archive present without an archive_url")
	}

	// A reply keeps one prefix: "[dev] Re: Hello list".
	h.SendLMTP("bob@example.net", []string{"dev@lists.example.org"},
		msg("bob@example.net", "dev@lists.example.org", "Re: [dev] Hello list", "Reply."))
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 6 }) {
		t.Fatal("reply not delivered")
	}
	last := h.Sink.Messages()[len(h.Sink.Messages())-1]
	if got := header(last.Data, "Subject"); got != "[dev] Re: Hello list" {
		t.Errorf("reply subject = %q, want [dev] Re: Hello list", got)
	}
	checkMetrics(t, h.HTTPAddr, map[string]float64{
		`herald_spool_operations_total{op="acked"}`:                      4, // 2 posts, 2 fan-outs at least
		`herald_runner_entries_total{outcome="processed",runner="post"}`: 2,
		`herald_delivery_total{what="recipients_delivered"}`:             6,
		`herald_spool_commit_batch_size_count`:                           1,
		`herald_runner_entries_total{outcome="shunted",runner="post"}`:   0,
		`process_resident_memory_bytes`:                                  1,
	})
}

// checkMetrics fetches /metrics and checks that each named series is
// there with at least the given value.
func checkMetrics(t *testing.T, httpAddr string, atLeast map[string]float64) {
	t.Helper()
	// Counters move just after the sink has a message (herald counts a
	// recipient when it has read the MTA's reply): scrape until they are
	// all there, or report the last scrape.
	var short []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := scrapeMetrics(t, httpAddr)
		short = short[:0]
		for name, want := range atLeast {
			v, ok := got[name]
			switch {
			case !ok:
				short = append(short, fmt.Sprintf("/metrics has no %s", name))
			case v < want:
				short = append(short, fmt.Sprintf("/metrics: %s = %v, want at least %v", name, v, want))
			}
		}
		if len(short) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range short {
		t.Error(s)
	}
}

// scrapeMetrics returns the samples of one GET /metrics.
func scrapeMetrics(t *testing.T, httpAddr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			got[name] = v
		}
	}
	return got
}

func TestEndToEndNonmemberHeldThenApproved(t *testing.T) {
	h := newH(t)
	setupDev(h)
	// Only the moderators' side here; the poster's "held" notice is tested in pipeline_test.go.
	h.MustRun("lists", "set", "dev@lists.example.org", "respond_to_post_requests=false")
	h.Start()

	res := h.SendLMTP("stranger@example.biz", []string{"dev@lists.example.org"},
		msg("stranger@example.biz", "dev@lists.example.org", "Buy now", "Held, I hope."))
	if res[0].Code != 250 {
		t.Fatalf("post: %d %v", res[0].Code, res[0].Err)
	}
	var out string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out = h.MustRun("held", "ls", "dev@lists.example.org")
		if strings.Contains(out, "stranger@example.biz") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "stranger@example.biz") {
		t.Fatalf("post not held; held ls: %q", out)
	}
	// Only the owner's notice goes out, never the post to members.
	if !h.Sink.WaitFor(10*time.Second, func(ms []smtpsink.Message) bool { return len(ms) >= 1 }) {
		t.Fatal("no moderator notice")
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range h.Sink.Messages() {
		if strings.Join(m.To, ",") != "owner@example.com" {
			t.Fatalf("held post reached %v", m.To)
		}
		if !strings.Contains(header(m.Data, "Subject"), "requires approval") {
			t.Errorf("notice subject = %q", header(m.Data, "Subject"))
		}
	}
	show := h.MustRun("held", "show", "dev@lists.example.org", "1")
	if !strings.Contains(show, "Buy now") || !strings.Contains(show, "not from a list member") {
		t.Errorf("held show: %s", show)
	}

	h.MustRun("held", "approve", "dev@lists.example.org", "1")
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 4 }) {
		t.Fatalf("approved post not delivered; sink: %v", sortedRcpts(h.Sink.Messages()))
	}
	time.Sleep(300 * time.Millisecond)
	got := sortedRcpts(h.Sink.Messages())
	if strings.Join(got, ",") != "alice@example.com,bob@example.net,carol@example.org,owner@example.com" {
		t.Errorf("recipients after approval = %v", got)
	}
	if out := h.MustRun("held", "ls", "dev@lists.example.org"); strings.TrimSpace(out) != "" {
		t.Errorf("held ls after approve: %q", out)
	}
}

func TestEndToEndRejectAndDiscard(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.MustRun("lists", "set", "dev@lists.example.org", "admin_immed_notify=false", "respond_to_post_requests=false")
	h.Start()
	for _, s := range []string{"one", "two"} {
		h.SendLMTP("x@example.biz", []string{"dev@lists.example.org"}, msg("x@example.biz", "dev@lists.example.org", "Spam "+s, "x"))
	}
	waitHeld(t, h, 2)
	h.MustRun("held", "reject", "dev@lists.example.org", "1", "--reason", "off topic")
	h.MustRun("held", "discard", "dev@lists.example.org", "2")
	if !h.Sink.WaitFor(15*time.Second, func(ms []smtpsink.Message) bool { return len(ms) >= 1 }) {
		t.Fatal("no rejection notice")
	}
	time.Sleep(300 * time.Millisecond)
	ms := h.Sink.Messages()
	if len(ms) != 1 || strings.Join(ms[0].To, ",") != "x@example.biz" {
		t.Fatalf("want one notice to the poster, got %d messages to %v", len(ms), sortedRcpts(ms))
	}
	if !strings.Contains(string(ms[0].Data), "off topic") {
		t.Errorf("notice lacks the reason")
	}
	if got := header(ms[0].Data, "Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted = %q", got)
	}
}

func waitHeld(t *testing.T, h *H, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out := strings.TrimSpace(h.MustRun("held", "ls", "dev@lists.example.org"))
		if out != "" && len(strings.Split(out, "\n")) >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("fewer than %d posts held", n)
}

func TestEndToEndRecipientReplies(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.Start()

	res := h.SendLMTP("alice@example.com", []string{"nosuch@lists.example.org"}, msg("alice@example.com", "x", "x", "x"))
	var se *smtp.SMTPError
	if !errors.As(res[0].Err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Errorf("unknown list: %v, want 550 5.1.1", res[0].Err)
	}

	// Raw LMTP: two accepted recipients get two replies after DATA, in order.
	conn, err := net.Dial("tcp", h.LMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	readReply := func() string {
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v (so far %q)", err, lines)
			}
			lines = append(lines, strings.TrimRight(l, "\r\n"))
			if len(l) < 4 || l[3] != '-' {
				return strings.Join(lines, "\n")
			}
		}
	}
	send := func(s string) { fmt.Fprintf(conn, "%s\r\n", s) }
	if g := readReply(); !strings.HasPrefix(g, "220") {
		t.Fatalf("greeting %q", g)
	}
	send("LHLO client.test.invalid")
	caps := readReply()
	for _, c := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "SIZE"} {
		if !strings.Contains(caps, c) {
			t.Errorf("LHLO lacks %s: %q", c, caps)
		}
	}
	send("MAIL FROM:<alice@example.com>")
	readReply()
	send("RCPT TO:<dev@lists.example.org>")
	if g := readReply(); !strings.HasPrefix(g, "250") {
		t.Fatalf("rcpt dev: %q", g)
	}
	send("RCPT TO:<nosuch-request@lists.example.org>")
	if g := readReply(); !strings.HasPrefix(g, "550 5.1.1") {
		t.Errorf("rcpt unknown: %q", g)
	}
	send("RCPT TO:<dev-owner@lists.example.org>")
	if g := readReply(); !strings.HasPrefix(g, "250") {
		t.Fatalf("rcpt owner: %q", g)
	}
	send("DATA")
	if g := readReply(); !strings.HasPrefix(g, "354") {
		t.Fatalf("data: %q", g)
	}
	conn.Write([]byte(msg("alice@example.com", "dev@lists.example.org", "Two", "two recipients") + ".\r\n"))
	first, second := readReply(), readReply()
	if !strings.HasPrefix(first, "250") || !strings.Contains(first, "dev@lists.example.org") {
		t.Errorf("first reply %q", first)
	}
	if !strings.HasPrefix(second, "250") || !strings.Contains(second, "dev-owner@lists.example.org") {
		t.Errorf("second reply %q", second)
	}
	send("QUIT")
	readReply()

	// The owner gets the -owner copy; members get the post.
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 4 }) {
		t.Fatalf("deliveries: %v", sortedRcpts(h.Sink.Messages()))
	}
}

func TestEndToEndMalformedGoesToShunt(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.Start()
	bad := []string{
		"this line is not a header and there is no blank line\r\nnor here\x00\xff\xfe\r\n",
		"From: alice@example.com\r\nSubject: nul \x00 and 8-bit \xff\r\n\r\nbody \x00\xff\r\n",
	}
	for _, b := range bad {
		res := h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"}, b)
		if res[0].Code != 250 && res[0].Code/100 != 5 {
			t.Errorf("malformed message got %d", res[0].Code)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = h.MustRun("spool", "ls", "shunt")
		if strings.Contains(out, "error:") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "dev@lists.example.org") || !strings.Contains(out, "error:") {
		t.Fatalf("spool ls shunt shows no shunted post with its reason:\n%s", out)
	}
	// The server is still up and takes good mail.
	res := h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"}, msg("alice@example.com", "dev@lists.example.org", "still alive", "ok"))
	if res[0].Code != 250 {
		t.Fatalf("after malformed input: %d", res[0].Code)
	}
}

func TestEndToEndMTAOutageThenBack(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.Start()
	addr := h.Sink.Addr()
	if err := h.Sink.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		res := h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"},
			msg("alice@example.com", "dev@lists.example.org", fmt.Sprintf("during the outage %d", i), "x"))
		if res[0].Code != 250 {
			t.Fatalf("post %d during the outage: %d", i, res[0].Code)
		}
	}
	time.Sleep(2 * time.Second) // herald finds the MTA down and backs off
	sink, err := smtpsink.StartOn(addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	t.Cleanup(func() { sink.Close() })
	if !sink.WaitFor(60*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 9 }) {
		t.Fatalf("after the outage the sink got %d of 9 copies", len(sortedRcpts(sink.Messages())))
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would show now
	for rcpt, n := range sink.Recipients() {
		if n != 3 {
			t.Errorf("%s got %d copies, want 3", rcpt, n)
		}
	}
}

func TestEndToEndMTADownNothingLost(t *testing.T) {
	h := newH(t)
	setupDev(h)
	h.Sink.Reply("bob@example.net", 451, [3]int{4, 3, 0}, "try later")
	h.Start()
	h.SendLMTP("alice@example.com", []string{"dev@lists.example.org"}, msg("alice@example.com", "dev@lists.example.org", "retry me", "x"))
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool { return len(sortedRcpts(ms)) >= 2 }) {
		t.Fatal("first delivery missing")
	}
	h.Sink.ClearReplies()
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return h.Sink.Recipients()["bob@example.net"] == 1 }) {
		t.Fatalf("deferred recipient never delivered: %v", h.Sink.Recipients())
	}
}
