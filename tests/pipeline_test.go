//go:build integration

package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/testutil/dnsstub"
	"herald/internal/testutil/smtpsink"
)

// pipelinePost is one kind of post for TestPipelineEndToEnd.
type pipelinePost struct {
	name string
	list string // local part; "dev" by default
	from string // envelope sender
	raw  string
	// The outcome: delivered to these recipients (sorted), or held with a
	// reason containing held, or neither (rejected: a notice to the
	// poster containing notice; discarded: nothing at all).
	to     []string
	held   string
	notice string
	check  func(t *testing.T, data []byte)
}

// post builds a message with Message-ID <name@test.invalid> and CRLF.
func pmsg(name, from, to, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@test.invalid>\r\nDate: %s\r\n",
		from, to, subject, name, time.Now().Format(time.RFC1123Z))
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.String()
}

const (
	devAddr     = "dev@lists.example.org"
	devMembers  = "alice@example.com,bob@example.net,carol@example.org,dora@mail.strict.example"
	devPassword = "moderator-s3cret"
)

func pipelinePosts() []pipelinePost {
	all := strings.Split(devMembers, ",")
	signed := "MIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=sig\r\n"
	signedBody := "--sig\nContent-Type: text/plain\n\nSigned text.\n--sig\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n--sig--"
	return []pipelinePost{
		{name: "member", from: "alice@example.com", raw: pmsg("member", "Alice <alice@example.com>", devAddr, "Hello list", "First post."), to: all,
			check: func(t *testing.T, d []byte) {
				want := map[string]string{"Subject": "[dev] Hello list", "List-Id": "dev <dev.lists.example.org>", "X-BeenThere": devAddr, "Precedence": "list"}
				for k, v := range want {
					if got := header(d, k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if !strings.Contains(string(d), "dev mailing list footer") {
					t.Errorf("no footer")
				}
				if header(d, "List-Unsubscribe-Post") != "" {
					t.Errorf("List-Unsubscribe-Post without a per-member URL")
				}
			}},
		{name: "nonmember", from: "stranger@example.biz", raw: pmsg("nonmember", "stranger@example.biz", devAddr, "Buy now", "Offer."),
			held: "not from a list member", notice: "awaits moderator approval"},
		{name: "banned", from: "spammer@spam.example", raw: pmsg("banned", "spammer@spam.example", devAddr, "Spam", "x")},
		{name: "too-big", from: "bob@example.net", raw: pmsg("too-big", "bob@example.net", devAddr, "Logs", strings.Repeat("log line\n", 6000)),
			held: "larger than the list's limit", notice: "awaits moderator approval"},
		{name: "approved-header", from: "stranger@example.biz",
			raw: pmsg("approved-header", "stranger@example.biz", devAddr, "Approved news", "News.", "Approved: "+devPassword), to: all,
			check: func(t *testing.T, d []byte) {
				if strings.Contains(string(d), devPassword) || header(d, "Approved") != "" {
					t.Errorf("the moderator password went out")
				}
			}},
		{name: "approved-body", from: "stranger@example.biz",
			raw: pmsg("approved-body", "stranger@example.biz", devAddr, "Approved in body", "Approved: "+devPassword+"\n\nBody news."), to: all,
			check: func(t *testing.T, d []byte) {
				if strings.Contains(string(d), devPassword) || !strings.Contains(string(d), "Body news.") {
					t.Errorf("password line not removed cleanly:\n%s", d)
				}
			}},
		{name: "wrong-password", from: "stranger@example.biz",
			raw: pmsg("wrong-password", "stranger@example.biz", devAddr, "Guess", "x", "Approved: guess"), held: "not from a list member", notice: "awaits"},
		{name: "loop", from: "alice@example.com", raw: pmsg("loop", "alice@example.com", devAddr, "Echo", "x", "X-BeenThere: dev@lists.example.org")},
		{name: "implicit-destination", from: "carol@example.org", raw: pmsg("implicit-destination", "carol@example.org", "friends@example.org", "Bcc'd", "x"),
			held: "implicit destination", notice: "awaits"},
		{name: "dmarc-munge", from: "dora@mail.strict.example", raw: pmsg("dmarc-munge", "Dora <dora@mail.strict.example>", devAddr, "Strict", "x"), to: all,
			check: func(t *testing.T, d []byte) {
				if got := header(d, "From"); got != "Dora via dev <dev@lists.example.org>" {
					t.Errorf("From = %q", got)
				}
				if got := header(d, "Reply-To"); got != "Dora <dora@mail.strict.example>" {
					t.Errorf("Reply-To = %q", got)
				}
			}},
		{name: "no-dmarc", from: "carol@example.org", raw: pmsg("no-dmarc", "Carol <carol@example.org>", devAddr, "Relaxed", "x"), to: all,
			check: func(t *testing.T, d []byte) {
				if got := header(d, "From"); got != "Carol <carol@example.org>" {
					t.Errorf("From of an author without DMARC = %q", got)
				}
			}},
		{name: "signed", from: "alice@example.com", raw: pmsg("signed", "alice@example.com", devAddr, "Signed", signedBody, signed), to: all,
			check: func(t *testing.T, d []byte) {
				if !strings.HasPrefix(header(d, "Content-Type"), "multipart/mixed") ||
					!strings.Contains(string(d), strings.ReplaceAll(signedBody, "\n", "\r\n")) || !strings.Contains(string(d), "footer") {
					t.Errorf("signed post not wrapped intact with the footer:\n%s", d)
				}
			}},
		{name: "encoded-subject", from: "bob@example.net",
			raw: pmsg("encoded-subject", "bob@example.net", devAddr, "=?UTF-8?B?UmU6IFtkZXZdIOODk+ODq+ODieOBruWVj+mhjA==?=", "x"), to: all,
			check: func(t *testing.T, d []byte) {
				if got := mime.DecodeWords(header(d, "Subject")); got != "[dev] Re: ビルドの問題" {
					t.Errorf("Subject = %q", got)
				}
			}},
		{name: "latin1", from: "carol@example.org",
			raw: pmsg("latin1", "carol@example.org", devAddr, "Gr=?iso-8859-1?q?=FC=DF?=e", "Sch=F6ne Gr=FC=DFe", "MIME-Version: 1.0",
				"Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable"), to: all,
			check: func(t *testing.T, d []byte) {
				if !strings.Contains(header(d, "Content-Type"), "iso-8859-1") || !strings.Contains(string(d), "Sch=F6ne") {
					t.Errorf("latin-1 post lost its charset:\n%s", d)
				}
			}},
		{name: "spam-flag", from: "alice@example.com", raw: pmsg("spam-flag", "alice@example.com", devAddr, "x", "x", "X-Spam-Flag: YES")},
		{name: "administrivia", from: "bob@example.net", raw: pmsg("administrivia", "bob@example.net", devAddr, "unsubscribe", ""),
			held: "email command", notice: "awaits"},
		{name: "no-subject", from: "bob@example.net", raw: pmsg("no-subject", "bob@example.net", devAddr, "", "x"), held: "no subject", notice: "awaits"},
		{name: "many-recipients", from: "alice@example.com",
			raw:  pmsg("many-recipients", "alice@example.com", devAddr+", a@x.example, b@x.example, c@x.example, d@x.example, e@x.example, f@x.example, g@x.example, h@x.example, i@x.example", "Hi all", "x"),
			held: "10 recipients", notice: "awaits"},
		{name: "closed-nonmember", list: "closed", from: "outsider@example.biz", raw: pmsg("closed-nonmember", "outsider@example.biz", "closed@lists.example.org", "Hi", "x"),
			notice: "was rejected"},
		{name: "closed-autoresponder", list: "closed", from: "robot@example.biz",
			raw: pmsg("closed-autoresponder", "robot@example.biz", "closed@lists.example.org", "Out of office", "x", "Auto-Submitted: auto-replied")},
		{name: "announce-member", list: "news", from: "alice@example.com", raw: pmsg("announce-member", "alice@example.com", "news@lists.example.org", "Me too", "x"),
			held: "moderated", notice: "awaits"},
		{name: "announce-owner", list: "news", from: "owner@example.com", raw: pmsg("announce-owner", "owner@example.com", "news@lists.example.org", "Release 2.0", "x"),
			to: []string{"alice@example.com", "bob@example.net"}},
	}
}

// TestPipelineEndToEnd sends twenty-odd kinds of posts through the real
// binary and checks what members receive and what is held, rejected or
// discarded; then bulk moderation with `herald held`.
func TestPipelineEndToEnd(t *testing.T) {
	stub, err := dnsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	stub.SetTXT("_dmarc.strict.example", "v=DMARC1; p=reject")
	h := newH(t, "[dns]", fmt.Sprintf("resolver = %q", stub.Addr()))
	setupPipelineLists(h)
	h.Start()

	posts := pipelinePosts()
	for _, p := range posts {
		list := p.list
		if list == "" {
			list = "dev"
		}
		res := h.SendLMTP(p.from, []string{list + "@lists.example.org"}, p.raw)
		if res[0].Code != 250 {
			t.Fatalf("%s: LMTP %d %v", p.name, res[0].Code, res[0].Err)
		}
	}
	// Everything is decided once the expected deliveries and holds are in.
	wantHeld := map[string]int{}
	for _, p := range posts {
		if p.held != "" {
			wantHeld[listOf(p)]++
		}
	}
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return expectedArrived(posts, ms) }) {
		t.Errorf("not every expected message arrived")
	}
	for l, n := range wantHeld {
		waitHeldOn(t, h, l, n)
	}
	time.Sleep(time.Second) // anything unexpected shows up now
	got := byMessageID(h.Sink.Messages())
	checkOutcomes(t, h, posts, got)
	bulkModeration(t, h)
}

func listOf(p pipelinePost) string {
	if p.list == "" {
		return "dev"
	}
	return p.list
}

func setupPipelineLists(h *H) {
	h.t.Helper()
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", devAddr)
	h.MustRun("members", "add", devAddr, "alice@example.com", "Bob <bob@example.net>", "carol@example.org", "Dora <dora@mail.strict.example>")
	h.MustRun("members", "add", "--role", "owner", devAddr, "owner@example.com")
	h.MustRun("lists", "set", devAddr, "moderator_password="+devPassword, `footer=-- \n$display_name mailing list footer`,
		"dmarc_mitigate_action=munge_from", "header_matches=X-Spam-Flag: ^yes -> discard")
	h.MustRun("bans", "add", devAddr, `^.*@spam\.example$`)
	h.MustRun("lists", "create", "closed@lists.example.org", "default_nonmember_action=reject")
	h.MustRun("lists", "create", "--style", "announce", "news@lists.example.org")
	h.MustRun("members", "add", "news@lists.example.org", "alice@example.com", "bob@example.net")
	h.MustRun("members", "add", "--role", "owner", "news@lists.example.org", "owner@example.com")

	// Settings are validated with the key and the allowed values named.
	_, errs, code := h.Run("lists", "set", devAddr, "dmarc_mitigate_action=maybe")
	if code != 2 || !strings.Contains(errs, "dmarc_mitigate_action") || !strings.Contains(errs, "munge_from") {
		h.t.Errorf("bad setting: exit %d: %s", code, errs)
	}
	show := h.MustRun("lists", "show", devAddr)
	for _, want := range []string{"moderator_password = $argon2id$", "dmarc_mitigate_action = munge_from", "sender_headers = from,envelope"} {
		if !strings.Contains(show, want) {
			h.t.Errorf("lists show lacks %q", want)
		}
	}
}

// byMessageID groups delivered messages by their Message-ID's local part.
func byMessageID(ms []smtpsink.Message) map[string][]smtpsink.Message {
	out := map[string][]smtpsink.Message{}
	for _, m := range ms {
		id := strings.Trim(header(m.Data, "Message-ID"), "<>")
		if local, ok := strings.CutSuffix(id, "@test.invalid"); ok {
			out[local] = append(out[local], m)
			continue
		}
		out["notice:"+header(m.Data, "In-Reply-To")] = append(out["notice:"+header(m.Data, "In-Reply-To")], m)
	}
	return out
}

func expectedArrived(posts []pipelinePost, ms []smtpsink.Message) bool {
	got := byMessageID(ms)
	for _, p := range posts {
		if len(p.to) > 0 && len(deliveredTo(got[p.name])) < len(p.to) {
			return false
		}
		if p.notice != "" && len(got["notice:<"+p.name+"@test.invalid>"]) == 0 {
			return false
		}
	}
	return true
}

func deliveredTo(ms []smtpsink.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To...)
	}
	slices.Sort(out)
	return out
}

func checkOutcomes(t *testing.T, h *H, posts []pipelinePost, got map[string][]smtpsink.Message) {
	heldBy := map[string][]heldJSON{}
	for _, l := range []string{"dev", "closed", "news"} {
		heldBy[l] = heldList(t, h, l)
	}
	for _, p := range posts {
		t.Run(p.name, func(t *testing.T) {
			if r := deliveredTo(got[p.name]); !slices.Equal(r, p.to) {
				t.Errorf("delivered to %v, want %v", r, p.to)
			}
			if p.check != nil && len(got[p.name]) > 0 {
				p.check(t, got[p.name][0].Data)
			}
			var held *heldJSON
			for _, x := range heldBy[listOf(p)] {
				if x.MessageID == "<"+p.name+"@test.invalid>" {
					held = &x
				}
			}
			switch {
			case p.held == "" && held != nil:
				t.Errorf("held: %v", held.Reasons)
			case p.held != "" && (held == nil || !strings.Contains(strings.Join(held.Reasons, "|"), p.held)):
				t.Errorf("not held for %q: %+v", p.held, held)
			}
			notices := got["notice:<"+p.name+"@test.invalid>"]
			switch {
			case p.notice == "" && len(notices) > 0:
				t.Errorf("unexpected notice to %v: %s", notices[0].To, header(notices[0].Data, "Subject"))
			case p.notice != "" && (len(notices) != 1 || !slices.Equal(notices[0].To, []string{p.from}) ||
				!strings.Contains(string(notices[0].Data), p.notice)):
				t.Errorf("want one notice to %s containing %q, got %d", p.from, p.notice, len(notices))
			}
		})
	}
}

type heldJSON struct {
	ID        int64    `json:"id"`
	Sender    string   `json:"sender"`
	MessageID string   `json:"message_id"`
	Reasons   []string `json:"reasons"`
}

func heldList(t *testing.T, h *H, list string) []heldJSON {
	t.Helper()
	var out []heldJSON
	if err := json.Unmarshal([]byte(h.MustRun("--json", "held", "ls", list+"@lists.example.org")), &out); err != nil {
		t.Fatalf("held ls --json: %v", err)
	}
	return out
}

func waitHeldOn(t *testing.T, h *H, list string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if len(heldList(t, h, list)) >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("fewer than %d posts held on %s", n, list)
}

// bulkModeration discards by sender, approves the rest with --all, and
// checks what then reaches the members.
func bulkModeration(t *testing.T, h *H) {
	before := len(h.Sink.Messages())
	show := h.MustRun("held", "show", devAddr, fmt.Sprint(heldList(t, h, "dev")[0].ID))
	if !strings.Contains(show, "Reason:") {
		t.Errorf("held show: %s", show)
	}
	h.MustRun("held", "discard", devAddr, "--sender", "stranger@example.biz")
	left := heldList(t, h, "dev")
	for _, x := range left {
		if x.Sender == "stranger@example.biz" {
			t.Errorf("--sender left %d", x.ID)
		}
	}
	h.MustRun("held", "approve", devAddr, "--all")
	if rest := heldList(t, h, "dev"); len(rest) != 0 {
		t.Errorf("%d held after approve --all", len(rest))
	}
	want := len(left) * 4 // each approved post reaches the four members
	if !h.Sink.WaitFor(30*time.Second, func(ms []smtpsink.Message) bool { return len(deliveredTo(ms[before:])) >= want }) {
		t.Errorf("approved posts: %d deliveries, want %d", len(deliveredTo(h.Sink.Messages()[before:])), want)
	}
	for _, m := range h.Sink.Messages()[before:] {
		if strings.Contains(header(m.Data, "Message-ID"), "nonmember") || strings.Contains(header(m.Data, "Message-ID"), "wrong-password") {
			t.Errorf("a discarded post went out: %s", header(m.Data, "Message-ID"))
		}
	}
}
