package post_test

import (
	"slices"
	"strings"
	"testing"

	"herald/internal/mime"
	"herald/internal/spool"
	"herald/internal/store"
)

const list = "dev@lists.example.org"

func TestMemberPostGoesOut(t *testing.T) {
	e := newEnv(t, nil)
	e.post("alice@example.com", msg("Alice <alice@example.com>", list, "Hello", "First post."))
	o := e.drain()
	if got := rcpts(o.posts); !slices.Equal(got, []string{"alice@example.com", "bob@example.net", "carol@example.org"}) {
		t.Fatalf("recipients %v", got)
	}
	if len(o.posts) != 2 { // Chunk 2
		t.Errorf("%d out entries, want 2", len(o.posts))
	}
	m, err := mime.Parse(o.posts[0].Message)
	must(t, err)
	if got := m.Header.Get("Subject"); got != "[dev] Hello" {
		t.Errorf("Subject %q", got)
	}
	if got := m.Header.Get("List-Unsubscribe"); !strings.Contains(got, "https://lists.example.org/lists/dev@lists.example.org/unsubscribe") {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if m.Header.Has("List-Unsubscribe-Post") {
		t.Errorf("List-Unsubscribe-Post on a non-personalized post")
	}
	if o.posts[0].Envelope.Meta["post_id"] != "1" || o.posts[0].Envelope.Sender != "dev-bounces@lists.example.org" {
		t.Errorf("envelope %+v", o.posts[0].Envelope)
	}
	if n, _ := e.st.PostCount(e.ctx, e.list.ID, "alice@example.com"); n != 1 {
		t.Errorf("post count %d", n)
	}
}

func TestNonmemberHeldAndRegistered(t *testing.T) {
	e := newEnv(t, nil)
	e.post("stranger@example.biz", msg("stranger@example.biz", list, "Buy", "now"))
	hs := e.held()
	if len(hs) != 1 || hs[0].Sender != "stranger@example.biz" || !strings.HasPrefix(hs[0].Token, "mod") {
		t.Fatalf("held %+v", hs)
	}
	o := e.drain()
	if len(o.posts) != 0 || len(o.notices) != 2 {
		t.Fatalf("%d posts, %d notices; want the moderator and the poster notices", len(o.posts), len(o.notices))
	}
	if got := rcpts(o.notices); !slices.Equal(got, []string{"owner@example.com", "stranger@example.biz"}) {
		t.Errorf("notices to %v", got)
	}
	ms, err := e.st.MemberRoles(e.ctx, e.list.ID, "stranger@example.biz")
	must(t, err)
	if len(ms) != 1 || ms[0].Role != store.RoleNonmember {
		t.Errorf("nonmember not registered: %+v", ms)
	}
	// A second post: registered already, notices limited per day.
	e.set("max_autoresponses_per_day", "1")
	e.post("stranger@example.biz", msg("stranger@example.biz", list, "Buy again", "now"))
	o = e.drain()
	if got := rcpts(o.notices); !slices.Equal(got, []string{"owner@example.com"}) {
		t.Errorf("second hold notices to %v; the poster's daily limit is 1", got)
	}
}

func TestRuleOutcomes(t *testing.T) {
	cases := []struct {
		name     string
		settings []string
		prep     func(*env)
		sender   string
		raw      string
		posts    int    // recipients of the post; -1: not delivered
		held     string // substring of a held reason; "" if not held
		notice   string // substring of a notice to the poster
	}{
		{name: "banned", prep: func(e *env) {
			must(e.t, e.st.AddBan(e.ctx, &store.Ban{ListID: e.list.ID, Pattern: "^.*@spam\\.example$"}))
		},
			sender: "x@spam.example", raw: msg("x@spam.example", list, "hi", "x"), posts: -1},
		{name: "loop", sender: "alice@example.com", raw: msg("alice@example.com", list, "hi", "x", "X-BeenThere: dev@lists.example.org"), posts: -1},
		{name: "too big", sender: "alice@example.com", raw: msg("alice@example.com", list, "big", strings.Repeat("x", 50*1024)),
			posts: -1, held: "larger than the list's limit"},
		{name: "implicit destination", sender: "alice@example.com", raw: msg("alice@example.com", "someone@example.net", "bcc", "x"),
			posts: -1, held: "implicit destination"},
		{name: "emergency", settings: []string{"emergency", "true"}, sender: "alice@example.com", raw: msg("alice@example.com", list, "x", "x"),
			posts: -1, held: "emergency"},
		{name: "approved by password", settings: []string{"moderator_password", "let-me-in-please", "emergency", "true"},
			sender: "alice@example.com", raw: msg("alice@example.com", list, "x", "x", "Approved: let-me-in-please"), posts: 3},
		{name: "header match reject", settings: []string{"header_matches", "X-Spam-Flag: ^yes -> reject"},
			sender: "alice@example.com", raw: msg("alice@example.com", list, "x", "x", "X-Spam-Flag: YES"), posts: -1, notice: "X-Spam-Flag"},
		{name: "administrivia", sender: "alice@example.com", raw: msg("alice@example.com", list, "unsubscribe", ""), posts: -1, held: "email command"},
		{name: "rejecting member", prep: func(e *env) {
			m, err := e.st.GetMember(e.ctx, e.list.ID, "bob@example.net", store.RoleMember)
			must(e.t, err)
			m.ModerationAction = "reject"
			must(e.t, e.st.UpdateMember(e.ctx, m))
		}, sender: "bob@example.net", raw: msg("bob@example.net", list, "x", "x"), posts: -1, notice: "moderated"},
		{name: "automated reject gets no notice", settings: []string{"default_nonmember_action", "reject"},
			sender: "robot@example.net", raw: msg("robot@example.net", list, "x", "x", "Auto-Submitted: auto-generated"), posts: -1},
		{name: "filter everything forwards", settings: []string{"filter_content", "true", "filter_types", "text", "filter_action", "forward"},
			sender: "alice@example.com", raw: msg("alice@example.com", list, "x", "x"), posts: -1},
		{name: "replybot discards", settings: []string{"autorespond_postings", "respond_and_discard", "autoresponse_postings_text", "We are away."},
			sender: "alice@example.com", raw: msg("alice@example.com", list, "x", "x"), posts: -1, notice: "We are away."},
		{name: "sender header not trusted", sender: "stranger@example.biz",
			raw: msg("stranger@example.biz", list, "x", "x", "Sender: alice@example.com", "Reply-To: alice@example.com"), posts: -1, held: "not from a list member"},
		{name: "sender header trusted when configured", settings: []string{"sender_headers", "from,envelope,sender"}, sender: "stranger@example.biz",
			raw: msg("stranger@example.biz", list, "x", "x", "Sender: alice@example.com"), posts: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.set(c.settings...)
			if c.prep != nil {
				c.prep(e)
			}
			e.post(c.sender, c.raw)
			o := e.drain()
			if got := len(rcpts(o.posts)); c.posts >= 0 && got != c.posts || c.posts < 0 && got != 0 {
				t.Errorf("post went to %v, want %d recipients", rcpts(o.posts), c.posts)
			}
			hs := e.held()
			if c.held == "" && len(hs) != 0 || c.held != "" && (len(hs) != 1 || !strings.Contains(strings.Join(hs[0].Reasons, "|"), c.held)) {
				t.Errorf("held %+v, want reason %q", hs, c.held)
			}
			var toPoster []spool.Entry
			for _, n := range o.notices {
				if slices.Contains(n.Envelope.Recipients, c.sender) {
					toPoster = append(toPoster, n)
				}
			}
			if c.notice != "" && (len(toPoster) != 1 || !strings.Contains(string(toPoster[0].Message), c.notice)) ||
				c.notice == "" && c.held == "" && len(toPoster) != 0 {
				t.Errorf("%d notices to the poster, want one containing %q", len(toPoster), c.notice)
			}
			if sh, _ := e.sp.List(spool.Shunt); len(sh) != 0 {
				t.Errorf("shunted: %s", sh[0].Envelope.LastError)
			}
		})
	}
}

func TestFilterForwardGoesToOwners(t *testing.T) {
	e := newEnv(t, nil)
	e.set("filter_content", "true", "filter_types", "text", "filter_action", "forward")
	e.post("alice@example.com", msg("alice@example.com", list, "x", "x"))
	o := e.drain()
	if got := rcpts(o.notices); !slices.Equal(got, []string{"owner@example.com"}) {
		t.Errorf("forwarded to %v", got)
	}
}

func TestPasswordNeverLeaks(t *testing.T) {
	e := newEnv(t, nil)
	e.set("moderator_password", "let-me-in-please", "default_member_action", "hold")
	raw := "From: alice@example.com\r\nTo: dev@lists.example.org\r\nSubject: news\r\nMessage-ID: <pw@x>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nApproved: let-me-in-please\r\n\r\nThe news.\r\n" +
		"--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+QXBwcm92ZWQ6IGxldC1tZS1pbi1wbGVhc2U8L3A+PHA+VGhlIG5ld3MuPC9wPg==\r\n--b--\r\n"
	e.post("alice@example.com", raw)
	o := e.drain()
	if len(o.posts) == 0 {
		t.Fatalf("approved post not delivered; held %+v", e.held())
	}
	m, err := mime.Parse(o.posts[0].Message)
	must(t, err)
	var all strings.Builder
	all.Write(o.posts[0].Message)
	_ = mime.Walk(m, func(p *mime.Part) error { all.WriteString(p.Text()); return nil })
	if strings.Contains(all.String(), "let-me-in-please") {
		t.Errorf("the password went out:\n%s", all.String())
	}
	if !strings.Contains(all.String(), "The news.") {
		t.Errorf("the post lost its text:\n%s", all.String())
	}
}

func TestNewMemberFirstPostsSurviveResubscribe(t *testing.T) {
	e := newEnv(t, nil)
	e.set("moderate_first_posts", "2")
	approve := func() {
		hs := e.held()
		if len(hs) != 1 {
			t.Fatalf("held %+v, want one", hs)
		}
		mod := newMod(e)
		must(t, mod.Approve(e.ctx, e.list, hs[0].ID))
		if _, err := e.run.RunUntilEmpty(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		e.post("bob@example.net", msg("bob@example.net", list, "post", "x"))
		approve()
		if got := len(e.drain().posts); got == 0 {
			t.Fatalf("approved post %d not delivered", i+1)
		}
	}
	must(t, e.st.RemoveMember(e.ctx, e.list.ID, "bob@example.net", store.RoleMember))
	m := store.DefaultMember(e.list.ID, "bob@example.net", store.RoleMember)
	must(t, e.st.AddMember(e.ctx, &m))
	e.post("bob@example.net", msg("bob@example.net", list, "third", "x"))
	if hs := e.held(); len(hs) != 0 {
		t.Errorf("third post after rejoining held: %v", hs[0].Reasons)
	}
	if got := len(e.drain().posts); got == 0 {
		t.Errorf("third post not delivered")
	}
}

func TestDMARCRejectAndMunge(t *testing.T) {
	e := newEnv(t, nil)
	e.dns.SetTXT("_dmarc.strict.example", "v=DMARC1; p=reject")
	must(t, e.st.AddMember(e.ctx, ptr(store.DefaultMember(e.list.ID, "dora@mail.strict.example", store.RoleMember))))
	e.set("dmarc_mitigate_action", "reject")
	e.post("dora@mail.strict.example", msg("Dora <dora@mail.strict.example>", list, "x", "x"))
	o := e.drain()
	if len(o.posts) != 0 || len(o.notices) != 1 || !strings.Contains(string(o.notices[0].Message), "p=reject") {
		t.Errorf("reject: %d posts, notices %v", len(o.posts), rcpts(o.notices))
	}
	e.set("dmarc_mitigate_action", "munge_from")
	e.post("dora@mail.strict.example", msg("Dora <dora@mail.strict.example>", list, "x", "x"))
	o = e.drain()
	if len(o.posts) == 0 {
		t.Fatal("munged post not delivered")
	}
	m, err := mime.Parse(o.posts[0].Message)
	must(t, err)
	if got := m.Header.Get("From"); got != "Dora via dev <dev@lists.example.org>" {
		t.Errorf("From %q", got)
	}
	if got := m.Header.Get("Reply-To"); got != "Dora <dora@mail.strict.example>" {
		t.Errorf("Reply-To %q", got)
	}
	// Not strict: unchanged.
	e.post("alice@example.com", msg("Alice <alice@example.com>", list, "x", "x"))
	o = e.drain()
	m, err = mime.Parse(o.posts[0].Message)
	must(t, err)
	if got := m.Header.Get("From"); got != "Alice <alice@example.com>" {
		t.Errorf("From of an author without DMARC %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
