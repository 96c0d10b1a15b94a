//go:build integration

package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"

	"github.com/emersion/go-smtp"
)

const mbDevList = "dev@lists.example.org"

// setupMembershipList creates dev@ with an owner and the given settings.
func setupMembershipList(h *H, settings ...string) {
	h.t.Helper()
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", mbDevList)
	h.MustRun("members", "add", "--role", "owner", mbDevList, "owner@example.com")
	if len(settings) > 0 {
		h.MustRun(append([]string{"lists", "set", mbDevList}, settings...)...)
	}
}

// mbMailTo returns the messages sent to rcpt.
func mbMailTo(ms []smtpsink.Message, rcpt string) []smtpsink.Message {
	var out []smtpsink.Message
	for _, m := range ms {
		for _, to := range m.To {
			if to == rcpt {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// mbWaitMail waits for a message to rcpt whose Subject contains subject.
func mbWaitMail(t *testing.T, h *H, rcpt, subject string) smtpsink.Message {
	t.Helper()
	var found smtpsink.Message
	ok := h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool {
		for _, m := range mbMailTo(ms, rcpt) {
			if strings.Contains(header(m.Data, "Subject"), subject) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		var subjects []string
		for _, m := range h.Sink.Messages() {
			subjects = append(subjects, fmt.Sprintf("%v: %s", m.To, header(m.Data, "Subject")))
		}
		t.Fatalf("no mail to %s with subject %q; sink has %q", rcpt, subject, subjects)
	}
	return found
}

var mbConfirmFrom = regexp.MustCompile(`^dev-confirm\+([a-z2-7]{32})@lists\.example\.org$`)

// mbConfirmToken returns the token in a confirmation mail's From.
func mbConfirmToken(t *testing.T, m smtpsink.Message) string {
	t.Helper()
	from := header(m.Data, "From")
	sm := mbConfirmFrom.FindStringSubmatch(from)
	if sm == nil {
		t.Fatalf("confirmation From %q is not dev-confirm+TOKEN@lists.example.org", from)
	}
	return sm[1]
}

func mbIsMember(h *H, addr string) bool {
	h.t.Helper()
	for _, line := range strings.Split(h.MustRun("members", "ls", mbDevList), "\n") {
		if strings.TrimSpace(line) == addr {
			return true
		}
	}
	return false
}

func TestMembershipJoinByMailWithConfirmation(t *testing.T) {
	h := newH(t)
	setupMembershipList(h, "subscription_policy=confirm")
	h.MustRun("members", "add", mbDevList, "alice@example.com")
	h.Start()

	res := h.SendLMTP("dave@example.net", []string{"dev-join@lists.example.org"},
		msg("Dave <dave@example.net>", "dev-join@lists.example.org", "please", "subscribe me"))
	if res[0].Code != 250 {
		t.Fatalf("join: %d %v", res[0].Code, res[0].Err)
	}
	conf := mbWaitMail(t, h, "dave@example.net", "Your confirmation is needed")
	if got := header(conf.Data, "Auto-Submitted"); got != "auto-generated" {
		t.Errorf("confirmation Auto-Submitted = %q", got)
	}
	if strings.Contains(string(conf.Data), "Dave") || strings.Contains(string(conf.Data), "subscribe me") {
		t.Errorf("confirmation echoes the requester's text:\n%s", conf.Data)
	}
	tok := mbConfirmToken(t, conf)
	if mbIsMember(h, "dave@example.net") {
		t.Fatal("subscribed before confirming")
	}

	// A plain reply goes to the confirmation's From address.
	reply := msg("dave@example.net", header(conf.Data, "From"), "Re: "+header(conf.Data, "Subject"),
		"Yes.\n\nOn Mon, herald wrote:\n> Someone, hopefully you, asked")
	if res := h.SendLMTP("dave@example.net", []string{header(conf.Data, "From")}, reply); res[0].Code != 250 {
		t.Fatalf("reply: %d %v", res[0].Code, res[0].Err)
	}
	welcome := mbWaitMail(t, h, "dave@example.net", "Welcome to the "+mbDevList)
	if !strings.Contains(string(welcome.Data), "http://"+h.HTTPAddr+"/u/") {
		t.Errorf("welcome lacks the one-click link:\n%s", welcome.Data)
	}
	if !mbIsMember(h, "dave@example.net") {
		t.Fatal("not subscribed after confirming")
	}

	// The token was used: replying again does nothing but say so.
	h.SendLMTP("dave@example.net", []string{"dev-confirm+" + tok + "@lists.example.org"},
		msg("dave@example.net", "dev-confirm+"+tok+"@lists.example.org", "Re: again", "again"))
	mbWaitMail(t, h, "dave@example.net", "The results of your email commands")
	last := mbMailTo(h.Sink.Messages(), "dave@example.net")
	if !strings.Contains(string(last[len(last)-1].Data), "unknown, already used or expired") {
		t.Errorf("reused token reply:\n%s", last[len(last)-1].Data)
	}

	// The new member receives posts.
	h.SendLMTP("alice@example.com", []string{mbDevList}, msg("alice@example.com", mbDevList, "Hi all", "Welcome, Dave."))
	mbWaitMail(t, h, "dave@example.net", "[dev] Hi all")
}

// mbNoRedirect is a plain client that reports redirects instead of following.
var mbNoRedirect = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirected")
	},
}

func TestMembershipOneClickLeave(t *testing.T) {
	h := newH(t)
	setupMembershipList(h, "unsubscription_policy=moderate") // one-click needs no moderator
	h.MustRun("members", "add", mbDevList, "alice@example.com", "carol@example.org")
	h.MustRun("members", "add", "--welcome", mbDevList, "bob@example.net")
	h.Start()

	welcome := mbWaitMail(t, h, "bob@example.net", "Welcome")
	link := regexp.MustCompile(`http://[^\s]+/u/[0-9a-f]{32}`).FindString(string(welcome.Data))
	if link == "" {
		t.Fatalf("no one-click link in the welcome:\n%s", welcome.Data)
	}
	// GET (a mail scanner following the link) must not unsubscribe.
	resp, err := mbNoRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `method="post"`) || !mbIsMember(h, "bob@example.net") {
		t.Fatalf("GET: %d, member %v\n%s", resp.StatusCode, mbIsMember(h, "bob@example.net"), page)
	}
	// RFC 8058 §3.1: POST with List-Unsubscribe=One-Click; 200, no redirect.
	resp, err = mbNoRedirect.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d, want 200", resp.StatusCode)
	}
	if mbIsMember(h, "bob@example.net") {
		t.Fatal("still a member after the one-click POST")
	}

	// The next post no longer reaches bob.
	before := len(h.Sink.Messages())
	h.SendLMTP("alice@example.com", []string{mbDevList}, msg("alice@example.com", mbDevList, "After", "Bob left."))
	if !h.Sink.WaitFor(20*time.Second, func(ms []smtpsink.Message) bool {
		return len(mbMailTo(ms[before:], "alice@example.com")) > 0 && len(mbMailTo(ms[before:], "carol@example.org")) > 0
	}) {
		t.Fatal("post not delivered")
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range mbMailTo(h.Sink.Messages()[before:], "bob@example.net") {
		if strings.Contains(header(m.Data, "Subject"), "[dev] After") {
			t.Fatal("bob received a post after one-click unsubscribe")
		}
	}
	// The link is dead now; a repeated POST still answers 200.
	resp, err = mbNoRedirect.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("second POST: %d", resp.StatusCode)
	}
}

func TestMembershipModeratePolicy(t *testing.T) {
	h := newH(t)
	setupMembershipList(h, "subscription_policy=moderate")
	h.Start()

	// The address proves it gets mail first (Mailman's verification), then
	// the request waits for the owner.
	h.SendLMTP("erin@example.net", []string{"dev-subscribe@lists.example.org"},
		msg("erin@example.net", "dev-subscribe@lists.example.org", "join", ""))
	conf := mbWaitMail(t, h, "erin@example.net", "Your confirmation is needed")
	h.SendLMTP("erin@example.net", []string{header(conf.Data, "From")},
		msg("erin@example.net", header(conf.Data, "From"), "Re: confirm", "ok"))
	mbWaitMail(t, h, "owner@example.com", "New subscribe request to "+mbDevList+" from erin@example.net")

	out := h.MustRun("requests", "ls", mbDevList)
	fields := strings.Fields(out)
	if len(fields) < 4 || fields[1] != "subscribe" || fields[2] != "moderate" || fields[3] != "erin@example.net" {
		t.Fatalf("requests ls: %q", out)
	}
	if mbIsMember(h, "erin@example.net") {
		t.Fatal("subscribed before approval")
	}
	h.MustRun("requests", "approve", mbDevList, fields[0])
	if !mbIsMember(h, "erin@example.net") {
		t.Fatal("not subscribed after approval")
	}
	mbWaitMail(t, h, "erin@example.net", "Welcome")
	if out := h.MustRun("requests", "ls", mbDevList); strings.TrimSpace(out) != "" {
		t.Errorf("requests ls after approval: %q", out)
	}
}

func TestMembershipCommandsMixed(t *testing.T) {
	h := newH(t)
	setupMembershipList(h, "member_roster_visibility=public")
	h.MustRun("members", "add", mbDevList, "alice@example.com")
	h.Start()

	body := "echo ping\nfrobnicate the list\nwho\njoin digest=sometimes\nsubscribe digest=mime\nconfirm abc\nhelp\nend\nleave\n-- \nFrank"
	h.SendLMTP("frank@example.net", []string{"dev-request@lists.example.org"},
		msg("frank@example.net", "dev-request@lists.example.org", "Re: echo subject line", body))
	reply := mbWaitMail(t, h, "frank@example.net", "The results of your email commands")
	text := strings.ReplaceAll(string(reply.Data), "\r\n", "\n")
	for _, want := range []string{
		"> echo subject line\n    subject line",
		"> echo ping\n    ping",
		"> frobnicate the list\n    Unknown command.",
		"> who\n    1 member(s) of dev@lists.example.org:\n    alice@example.com",
		"> join digest=sometimes\n    Usage: join [digest=no|mime|plain]",
		"> subscribe digest=mime\n    A confirmation request was sent to frank@example.net.",
		"> confirm abc\n    The confirmation code is unknown",
		"> help\n    Commands for dev@lists.example.org",
		"> end\n    Done",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("reply lacks %q", want)
		}
	}
	if strings.Contains(text, "> leave") {
		t.Error("a command after end was carried out")
	}
	if got := header(reply.Data, "Auto-Submitted"); got != "auto-replied" {
		t.Errorf("reply Auto-Submitted = %q", got)
	}
	if got := header(reply.Data, "In-Reply-To"); !strings.HasSuffix(got, "@test.invalid>") {
		t.Errorf("reply In-Reply-To = %q", got)
	}
	mbWaitMail(t, h, "frank@example.net", "Your confirmation is needed")
}

// logCount counts lines of the herald log that contain s.
func (h *H) logCount(s string) int {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// waitLog waits until the log has n lines containing s.
func waitLog(t *testing.T, h *H, s string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if h.logCount(s) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("log has %d of %d lines with %q", h.logCount(s), n, s)
}

func TestMembershipAutoresponderGetsNoReply(t *testing.T) {
	h := newH(t)
	setupMembershipList(h)
	h.Start()

	cases := []struct {
		rcpt, envSender string
		extra           []string
	}{
		{"dev-request@lists.example.org", "robot@example.net", []string{"Auto-Submitted: auto-replied"}},
		{"dev-join@lists.example.org", "robot@example.net", []string{"Precedence: bulk"}},
		{"dev-request@lists.example.org", "robot@example.net", []string{"Precedence: junk"}},
		{"dev-leave@lists.example.org", "robot@example.net", []string{"X-Autoreply: yes"}},
		{"dev-request@lists.example.org", "", nil}, // null reverse-path
	}
	for _, c := range cases {
		m := msg("robot@example.net", c.rcpt, "I am out of the office", "help\njoin", c.extra...)
		if res := h.SendLMTP(c.envSender, []string{c.rcpt}, m); res[0].Code != 250 {
			t.Fatalf("send to %s: %d %v", c.rcpt, res[0].Code, res[0].Err)
		}
	}
	// A vacation reply to a real confirmation must not confirm it either.
	h.SendLMTP("gina@example.net", []string{"dev-join@lists.example.org"},
		msg("gina@example.net", "dev-join@lists.example.org", "join", ""))
	conf := mbWaitMail(t, h, "gina@example.net", "Your confirmation is needed")
	h.SendLMTP("gina@example.net", []string{header(conf.Data, "From")},
		msg("gina@example.net", header(conf.Data, "From"), "Out of office: Re: confirm", "Back on Monday.",
			"Auto-Submitted: auto-replied"))

	waitLog(t, h, "automated message ignored", len(cases)+1, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got := mbMailTo(h.Sink.Messages(), "robot@example.net"); len(got) != 0 {
		t.Errorf("the autoresponder got %d replies", len(got))
	}
	if mbIsMember(h, "gina@example.net") {
		t.Error("an autoresponder confirmed a subscription")
	}
	if got := mbMailTo(h.Sink.Messages(), "gina@example.net"); len(got) != 1 {
		t.Errorf("gina got %d mails, want only the confirmation", len(got))
	}
}

// mbLmtpMsg is one transaction for mbSendBulk.
type mbLmtpMsg struct {
	from, rcpt, data string
}

// mbSendBulk sends msgs over conns LMTP connections, many transactions per
// connection, and returns how many recipients got 250.
func mbSendBulk(t *testing.T, addr string, conns int, msgs []mbLmtpMsg) int {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted int
		firstErr error
	)
	for w := range conns {
		wg.Go(func() {
			n, err := mbSendSeries(addr, msgs[w*len(msgs)/conns:(w+1)*len(msgs)/conns])
			mu.Lock()
			defer mu.Unlock()
			accepted += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("lmtp: %v", firstErr)
	}
	return accepted
}

func mbSendSeries(addr string, msgs []mbLmtpMsg) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("client.test.invalid"); err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if err := c.Mail(m.from, nil); err != nil {
			return n, err
		}
		if err := c.Rcpt(m.rcpt, nil); err != nil {
			return n, err
		}
		w, err := c.Data()
		if err != nil {
			return n, err
		}
		if _, err := io.WriteString(w, m.data); err != nil {
			return n, err
		}
		if err := w.Close(); err != nil {
			return n, err
		}
		n++
	}
	return n, c.Quit()
}

// TestMembershipSubscriptionBombing sends 1,000 join requests for one
// victim and 1,000 for distinct addresses (over two lists) and checks that
// herald sends no more than its limits allow: one pending confirmation per
// address and list, max_autoresponses_per_day replies per address, and the
// per-list and per-site hourly caps on everything it sends to strangers.
func TestMembershipSubscriptionBombing(t *testing.T) {
	const (
		siteCap  = 50
		devCap   = 20
		opsCap   = 40
		autoCap  = 3
		n        = 1000
		victim   = "victim@example.net"
		opsList  = "ops@lists.example.org"
		devJoin  = "dev-join@lists.example.org"
		opsJoin  = "ops-join@lists.example.org"
		lmtpConn = 8
	)
	h := newH(t, "[membership]", fmt.Sprintf("max_confirmations_per_hour = %d", siteCap),
		fmt.Sprintf("max_autoresponses_per_day = %d", autoCap))
	setupMembershipList(h, fmt.Sprintf("max_confirmations_per_hour=%d", devCap))
	h.MustRun("lists", "create", opsList)
	h.MustRun("lists", "set", opsList, fmt.Sprintf("max_confirmations_per_hour=%d", opsCap))
	h.Start()

	start := time.Now()
	var msgs []mbLmtpMsg
	for range n {
		msgs = append(msgs, mbLmtpMsg{victim, devJoin, msg(victim, devJoin, "join", "")})
	}
	if got := mbSendBulk(t, h.LMTPAddr, lmtpConn, msgs); got != n {
		t.Fatalf("%d of %d victim requests accepted", got, n)
	}
	msgs = msgs[:0]
	for i := range n {
		rcpt := devJoin
		if i%2 == 1 {
			rcpt = opsJoin
		}
		from := fmt.Sprintf("user%04d@example.org", i)
		msgs = append(msgs, mbLmtpMsg{from, rcpt, msg(from, rcpt, "join", "")})
	}
	if got := mbSendBulk(t, h.LMTPAddr, lmtpConn, msgs); got != n {
		t.Fatalf("%d of %d distinct requests accepted", got, n)
	}
	sent := time.Since(start)
	waitLog(t, h, "commands processed", 2*n, 90*time.Second)
	processed := time.Since(start)
	// Let delivery drain: the sink stops growing.
	prev := -1
	for prev != len(h.Sink.Messages()) {
		prev = len(h.Sink.Messages())
		time.Sleep(time.Second)
	}
	t.Logf("2×%d requests: sent over LMTP in %v, processed in %v; %d mails out", n, sent.Round(time.Millisecond),
		processed.Round(time.Millisecond), prev)

	var confirmations, devMail, opsMail, toVictim, victimConfirmations int
	for _, m := range h.Sink.Messages() {
		from := header(m.Data, "From")
		isConfirm := strings.Contains(from, "-confirm+")
		if isConfirm {
			confirmations++
		}
		switch {
		case strings.HasPrefix(from, "dev-"):
			devMail += len(m.To)
		case strings.HasPrefix(from, "ops-"):
			opsMail += len(m.To)
		}
		for _, to := range m.To {
			if to == victim {
				toVictim++
				if isConfirm {
					victimConfirmations++
				}
			}
		}
	}
	t.Logf("confirmations %d, mail from dev %d (cap %d), from ops %d (cap %d), to the victim %d (%d confirmations)",
		confirmations, devMail, devCap, opsMail, opsCap, toVictim, victimConfirmations)
	if victimConfirmations != 1 {
		t.Errorf("victim got %d confirmations, want exactly 1 (one pending request per address and list)", victimConfirmations)
	}
	if toVictim > 1+autoCap {
		t.Errorf("victim got %d mails, want at most 1 confirmation + %d replies", toVictim, autoCap)
	}
	if devMail > devCap {
		t.Errorf("dev sent %d mails, over its hourly cap %d", devMail, devCap)
	}
	if opsMail > opsCap {
		t.Errorf("ops sent %d mails, over its hourly cap %d", opsMail, opsCap)
	}
	if devMail+opsMail > siteCap {
		t.Errorf("%d mails in all, over the site's hourly cap %d", devMail+opsMail, siteCap)
	}
	if devMail+opsMail < siteCap/2 {
		t.Errorf("only %d mails: the caps bit far below their values", devMail+opsMail)
	}
}

func TestMembershipBannedGetsNoMail(t *testing.T) {
	h := newH(t)
	setupMembershipList(h)
	h.MustRun("bans", "add", mbDevList, "banned@example.net")
	h.MustRun("bans", "add", "--global", `^.*@spam\.example$`)
	out, _, code := h.Run("members", "add", mbDevList, "banned@example.net")
	if code != 0 || !strings.Contains(out, "banned") || mbIsMember(h, "banned@example.net") {
		t.Fatalf("members add of a banned address: exit %d %q", code, out)
	}
	h.Start()
	for _, from := range []string{"banned@example.net", "x@spam.example"} {
		h.SendLMTP(from, []string{"dev-join@lists.example.org"}, msg(from, "dev-join@lists.example.org", "join", ""))
		h.SendLMTP(from, []string{"dev-request@lists.example.org"}, msg(from, "dev-request@lists.example.org", "subscribe", ""))
	}
	waitLog(t, h, "commands processed", 4, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if ms := h.Sink.Messages(); len(ms) != 0 {
		t.Errorf("%d mails to banned addresses, first to %v", len(ms), ms[0].To)
	}
	if mbIsMember(h, "banned@example.net") || mbIsMember(h, "x@spam.example") {
		t.Error("a banned address was subscribed")
	}
}
