package rules

import (
	"strings"
	"testing"

	"herald/internal/pipeline"
	"herald/internal/store"
)

func TestApproved(t *testing.T) {
	hash := store.HashPassword("tops3cret")
	withPW := func(s *store.Settings) { s.ModeratorPassword = hash }
	cases := []ruleCase{
		{name: "no password set", headers: stdHeaders + "Approved: tops3cret\n", body: "x", hit: false},
		{name: "header", tweak: withPW, headers: stdHeaders + "Approved: tops3cret\n", body: "x", hit: true},
		{name: "approve header", tweak: withPW, headers: stdHeaders + "Approve:  tops3cret \n", body: "x", hit: true},
		{name: "x-approved header", tweak: withPW, headers: stdHeaders + "X-Approved: tops3cret\n", body: "x", hit: true},
		{name: "wrong password", tweak: withPW, headers: stdHeaders + "Approved: guess\n", body: "x", hit: false},
		{name: "first body line", tweak: withPW, body: "\nApproved: tops3cret\n\nThe post.\n", hit: true},
		{name: "body line not first", tweak: withPW, body: "Hello\nApproved: tops3cret\n", hit: false},
		{name: "body of multipart", tweak: withPW,
			headers: stdHeaders + "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n",
			body:    "--b\nContent-Type: text/plain\n\nApproved: tops3cret\nHi\n--b\nContent-Type: text/html\n\n<p>Approved: tops3cret</p>\n--b--\n", hit: true},
		{name: "too many wrong candidates first", tweak: withPW,
			headers: stdHeaders + "Approved: a\nApproved: b\nApproved: c\nApproved: d\nApproved: tops3cret\n", body: "x", hit: false},
	}
	runCases(t, Approved{}, newRoster(), cases)

	m := post(t, newRoster(), withPW, stdHeaders+"Approved: tops3cret\n", "x")
	if _, err := (Approved{}).Check(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if m.Meta[pipeline.MetaApprovedPassword] != "tops3cret" {
		t.Errorf("password not left for cleanse: %q", m.Meta)
	}
	m = post(t, newRoster(), nil, stdHeaders, "x")
	m.Approved = true
	if v, _ := (Approved{}).Check(t.Context(), m); !v.Hit {
		t.Errorf("pre-approved post missed")
	}
}

func TestEmergencyAndLoop(t *testing.T) {
	runCases(t, Emergency{}, newRoster(), []ruleCase{
		{name: "off", hit: false},
		{name: "on", tweak: func(s *store.Settings) { s.Emergency = true }, hit: true, reason: "emergency"},
	})
	runCases(t, Loop{}, newRoster(), []ruleCase{
		{name: "fresh post", hit: false},
		{name: "x-beenthere", headers: stdHeaders + "X-BeenThere: dev@lists.example.org\n", hit: true},
		{name: "x-beenthere other list", headers: stdHeaders + "X-BeenThere: users@lists.example.org\n", hit: false},
		{name: "list-id", headers: stdHeaders + "List-Id: Dev <dev.lists.example.org>\n", hit: true},
		{name: "other list-id", headers: stdHeaders + "List-Id: <devel.lists.example.org>\n", hit: false},
	})
}

func TestDMARCMitigationRule(t *testing.T) {
	table := dmarcTable{"example.com": "reject", "quar.example": "quarantine", "none.example": "none", "down.example": "fail"}
	set := func(act string, uncond bool) func(*store.Settings) {
		return func(s *store.Settings) { s.DMARCMitigateAction, s.DMARCMitigateUnconditionally = act, uncond }
	}
	from := func(addr string) string { return strings.Replace(stdHeaders, "alice@example.com", addr, 1) }
	cases := []ruleCase{
		{name: "no mitigation", tweak: set("no_mitigation", false), hit: false},
		{name: "munge is the handler's", tweak: set("munge_from", false), hit: false},
		{name: "reject p=reject", tweak: set("reject", false), hit: true, action: pipeline.Reject, reason: "p=reject"},
		{name: "discard p=quarantine", tweak: set("discard", false), headers: from("x@quar.example"), hit: true, action: pipeline.Discard},
		{name: "reject p=none", tweak: set("reject", false), headers: from("x@none.example"), hit: false},
		{name: "reject no record", tweak: set("reject", false), headers: from("x@nothing.example"), hit: false},
		{name: "unconditional does not widen reject", tweak: set("reject", true), headers: from("x@none.example"), hit: false},
		{name: "lookup failure lets it through", tweak: set("reject", false), headers: from("x@down.example"), hit: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.headers
			if h == "" {
				h = stdHeaders
			}
			m := post(t, newRoster(), c.tweak, h, "x")
			m.DMARC = table
			v, err := (DMARCMitigation{}).Check(t.Context(), m)
			if err != nil || v.Hit != c.hit || c.action != "" && v.Action != c.action || !strings.Contains(v.Reason, c.reason) {
				t.Errorf("got %+v, %v; want hit %v action %q reason %q", v, err, c.hit, c.action, c.reason)
			}
		})
	}
}

func TestBanned(t *testing.T) {
	r := newRoster()
	r.bans["spammer@example.net"] = true
	r.bans["env@example.com"] = true
	runCases(t, Banned{}, r, []ruleCase{
		{name: "banned From", headers: strings.Replace(stdHeaders, "alice@example.com", "Spammer@Example.NET", 1), hit: true, reason: "spammer@example.net"},
		{name: "banned envelope sender", hit: true, reason: "env@example.com"},
		{name: "sender header is not an identity", tweak: func(s *store.Settings) { s.SenderHeaders = []string{"from"} },
			headers: stdHeaders + "Sender: spammer@example.net\n", hit: false},
		{name: "sender header when the list asks", tweak: func(s *store.Settings) { s.SenderHeaders = []string{"from", "sender"} },
			headers: stdHeaders + "Sender: spammer@example.net\n", hit: true},
	})
}

func TestHeaderMatch(t *testing.T) {
	set := func(lines ...string) func(*store.Settings) {
		return func(s *store.Settings) { s.HeaderMatches = lines }
	}
	runCases(t, HeaderMatch{}, newRoster(), []ruleCase{
		{name: "none configured", hit: false},
		{name: "default action hold", tweak: set("X-Spam-Flag: ^yes"), headers: stdHeaders + "X-Spam-Flag: YES\n", hit: true, action: pipeline.Hold},
		{name: "discard", tweak: set("X-Spam-Flag: ^yes -> discard"), headers: stdHeaders + "X-Spam-Flag: yes\n", hit: true, action: pipeline.Discard},
		{name: "first matching line decides", tweak: set("Subject: nomatch -> reject", "Subject: hel+o -> accept", "Subject: .* -> discard"),
			hit: true, action: pipeline.Accept, reason: "hel+o"},
		{name: "decoded value", tweak: set("Subject: café -> reject"), headers: strings.Replace(stdHeaders, "Subject: Hello", "Subject: =?utf-8?q?caf=C3=A9?=", 1),
			hit: true, action: pipeline.Reject},
		{name: "header absent", tweak: set("X-Other: .*"), hit: false},
		{name: "broken stored line ignored", tweak: set("garbage", "Subject: (", "Subject: hello -> discard"), hit: true, action: pipeline.Discard},
	})
	runCases(t, SuspiciousHeader{}, newRoster(), []ruleCase{
		{name: "none", hit: false},
		{name: "match", tweak: func(s *store.Settings) { s.BounceMatchingHeaders = []string{"X-Virus: found"} },
			headers: stdHeaders + "X-Virus: Found one\n", hit: true, reason: "X-Virus"},
	})
}

func TestModerationRules(t *testing.T) {
	r := newRoster().
		add("alice@example.com", store.RoleMember, "").
		add("mod@example.com", store.RoleModerator, "").
		add("mod@example.com", store.RoleMember, "").
		add("held@example.com", store.RoleMember, "hold").
		add("known@example.net", store.RoleNonmember, "accept").
		add("plain@example.net", store.RoleNonmember, "")
	from := func(addr string) string { return strings.Replace(stdHeaders, "alice@example.com", addr, 1) }
	hold := func(s *store.Settings) { s.DefaultMemberAction = "hold" }
	runCases(t, MemberModeration{}, r, []ruleCase{
		{name: "member default defer", headers: from("alice@example.com"), hit: true, action: pipeline.Defer},
		{name: "member list default hold", tweak: hold, headers: from("alice@example.com"), hit: true, action: pipeline.Hold},
		{name: "member own action", headers: from("held@example.com"), hit: true, action: pipeline.Hold},
		{name: "moderator beats member hold (announce)", tweak: hold, headers: from("mod@example.com"), hit: true, action: pipeline.Defer},
		{name: "nonmember not decided here", headers: from("known@example.net"), hit: false},
		{name: "stranger not decided here", headers: from("who@example.org"), hit: false},
	})
	runCases(t, NonmemberModeration{}, r, []ruleCase{
		{name: "member missed", headers: from("alice@example.com"), hit: false},
		{name: "moderator missed", headers: from("mod@example.com"), hit: false},
		{name: "registered nonmember own action", headers: from("known@example.net"), hit: true, action: pipeline.Accept},
		{name: "registered nonmember default", headers: from("plain@example.net"), hit: true, action: pipeline.Hold},
		{name: "stranger default hold", headers: from("who@example.org"), hit: true, action: pipeline.Hold, reason: "not from a list member"},
		{name: "stranger defer goes on", tweak: func(s *store.Settings) { s.DefaultNonmemberAction = "defer" },
			headers: from("who@example.org"), hit: true, action: pipeline.Defer},
	})
	// A member identity later in sender_headers wins over a nonmember one.
	m := post(t, r, nil, from("plain@example.net"), "x")
	m.Senders = []string{"plain@example.net", "alice@example.com"}
	if v, _ := (MemberModeration{}).Check(t.Context(), m); !v.Hit || m.Sender != "alice@example.com" {
		t.Errorf("member second identity: %+v sender %s", v, m.Sender)
	}
	// A stranger is noted for registration; a known nonmember is not.
	m = post(t, r, nil, from("who@example.org"), "x")
	_, _ = (NonmemberModeration{}).Check(t.Context(), m)
	if m.Meta[pipeline.MetaNonmember] != "who@example.org" {
		t.Errorf("stranger not noted: %v", m.Meta)
	}
	m = post(t, r, nil, from("plain@example.net"), "x")
	_, _ = (NonmemberModeration{}).Check(t.Context(), m)
	if _, ok := m.Meta[pipeline.MetaNonmember]; ok {
		t.Errorf("registered nonmember noted again")
	}
}

func TestNewMemberModeration(t *testing.T) {
	r := newRoster().add("new@example.com", store.RoleMember, "").add("old@example.com", store.RoleMember, "").
		add("trusted@example.com", store.RoleMember, "accept").add("owner@example.com", store.RoleOwner, "").
		add("owner@example.com", store.RoleMember, "")
	r.counts["new@example.com"] = 1
	r.counts["old@example.com"] = 3
	from := func(addr string) string { return strings.Replace(stdHeaders, "alice@example.com", addr, 1) }
	three := func(s *store.Settings) { s.ModerateFirstPosts = 3 }
	runCases(t, NewMemberModeration{}, r, []ruleCase{
		{name: "off", headers: from("new@example.com"), hit: false},
		{name: "second post of three", tweak: three, headers: from("new@example.com"), hit: true, reason: "post 2 of new@example.com"},
		{name: "fourth post", tweak: three, headers: from("old@example.com"), hit: false},
		{name: "explicit action exempt", tweak: three, headers: from("trusted@example.com"), hit: false},
		{name: "owner exempt", tweak: three, headers: from("owner@example.com"), hit: false},
		{name: "nonmember not counted here", tweak: three, headers: from("x@example.org"), hit: false},
	})
}

func TestAdministrivia(t *testing.T) {
	subj := func(s string) string { return strings.Replace(stdHeaders, "Subject: Hello", "Subject: "+s, 1) }
	runCases(t, Administrivia{}, newRoster(), []ruleCase{
		{name: "plain post", body: "Hello all,\nwho knows the answer to this?\n", hit: false},
		{name: "subject unsubscribe", headers: subj("unsubscribe"), hit: true},
		{name: "subject help with words", headers: subj("Help with the build"), hit: false},
		{name: "body subscribe", body: "subscribe\n", hit: true},
		{name: "body leave with address", body: "\n\nleave alice@example.com\n", hit: true},
		{name: "command after five lines", body: "a\nb\nc\nd\ne\nunsubscribe\n", hit: false},
		{name: "long text not read", body: strings.Repeat("word ", 500) + "\nunsubscribe\n", hit: false},
		{name: "setting off", tweak: func(s *store.Settings) { s.Administrivia = false }, headers: subj("unsubscribe"), hit: false},
		{name: "confirm needs its token", headers: subj("confirm"), hit: false},
		{name: "confirm with token", headers: subj("confirm abc123"), hit: true},
	})
}

func TestImplicitDestination(t *testing.T) {
	to := func(v string) string { return strings.Replace(stdHeaders, "To: dev@lists.example.org", v, 1) }
	aliases := func(s *store.Settings) {
		s.AcceptableAliases = []string{"dev@example.org", `^dev-[a-z]+@lists\.example\.org$`}
	}
	runCases(t, ImplicitDestination{}, newRoster(), []ruleCase{
		{name: "to list", hit: false},
		{name: "cc list", headers: to("To: bob@example.net\nCc: Dev <DEV@Lists.Example.org>"), hit: false},
		{name: "bcc", headers: to("To: bob@example.net"), hit: true, reason: "implicit destination"},
		{name: "undisclosed", headers: to("To: undisclosed-recipients:;"), hit: true},
		{name: "exact alias", tweak: aliases, headers: to("To: dev@example.org"), hit: false},
		{name: "regexp alias", tweak: aliases, headers: to("To: dev-announce@lists.example.org"), hit: false},
		{name: "regexp anchored", tweak: aliases, headers: to("To: xdev-announce@lists.example.org.evil"), hit: true},
		{name: "resent-to", headers: to("To: x@example.net\nResent-To: dev@lists.example.org"), hit: false},
		{name: "not required", tweak: func(s *store.Settings) { s.RequireExplicitDestination = false }, headers: to("To: x@example.net"), hit: false},
	})
}

func TestLimits(t *testing.T) {
	many := "To: " + strings.Repeat("a@x.example, ", 9) + "dev@lists.example.org"
	to := func(v string) string { return strings.Replace(stdHeaders, "To: dev@lists.example.org", v, 1) }
	runCases(t, MaxRecipients{}, newRoster(), []ruleCase{
		{name: "one", hit: false},
		{name: "nine distinct", headers: to("To: " + distinct(8) + ", dev@lists.example.org"), hit: false},
		{name: "ten distinct", headers: to("To: " + distinct(9) + ", dev@lists.example.org"), hit: true, reason: "10 recipients"},
		{name: "duplicates count once", headers: to(many), hit: false},
		{name: "off", tweak: func(s *store.Settings) { s.MaxNumRecipients = 0 }, headers: to("To: " + distinct(40)), hit: false},
	})
	runCases(t, MaxSize{}, newRoster(), []ruleCase{
		{name: "small", body: "x", hit: false},
		{name: "big", body: strings.Repeat("x", 41*1024), hit: true, reason: "limit of 40 KiB"},
		{name: "no limit", tweak: func(s *store.Settings) { s.MaxMessageSize = 0 }, body: strings.Repeat("x", 41*1024), hit: false},
	})
	runCases(t, NoSenders{}, newRoster(), []ruleCase{
		{name: "has from", hit: false},
	})
	m := post(t, newRoster(), nil, "To: dev@lists.example.org\nSubject: x\n", "x")
	m.EnvSender, m.Senders = "", nil
	if v, _ := (NoSenders{}).Check(t.Context(), m); !v.Hit {
		t.Errorf("no senders missed")
	}
}

func distinct(n int) string {
	var out []string
	for i := range n {
		out = append(out, "u"+strings.Repeat("x", i)+"@x.example")
	}
	return strings.Join(out, ", ")
}

func TestSubjectRules(t *testing.T) {
	subj := func(s string) string { return strings.Replace(stdHeaders, "Subject: Hello", "Subject: "+s, 1) }
	runCases(t, NoSubject{}, newRoster(), []ruleCase{
		{name: "has subject", hit: false},
		{name: "no subject field", headers: strings.Replace(stdHeaders, "Subject: Hello\n", "", 1), hit: true},
		{name: "blank", headers: subj("   "), hit: true},
		{name: "only prefix", headers: subj("[dev]"), hit: true},
		{name: "prefix and re", headers: subj("Re: [dev] Re:"), hit: true},
		{name: "numbered prefix", tweak: func(s *store.Settings) { s.SubjectPrefix = "[dev %d] " }, headers: subj("[dev 12]"), hit: true},
		{name: "encoded blank", headers: subj("=?utf-8?q?_?="), hit: true},
	})
	on := func(s *store.Settings) { s.HoldDigestReplies = true }
	runCases(t, DigestReply{}, newRoster(), []ruleCase{
		{name: "off", headers: subj("Re: dev Digest, Vol 12, Issue 3"), hit: false},
		{name: "digest reply", tweak: on, headers: subj("Re: dev Digest, Vol 12, Issue 3"), hit: true},
		{name: "other list's digest", tweak: on, headers: subj("Re: users Digest, Vol 1, Issue 1"), hit: false},
		{name: "own subject", tweak: on, headers: subj("Re: the build"), hit: false},
	})
}

func TestDefaultChain(t *testing.T) {
	r := newRoster().add("alice@example.com", store.RoleMember, "")
	r.bans["banned@example.net"] = true
	from := func(addr, extra string) string {
		return strings.Replace(stdHeaders, "alice@example.com", addr, 1) + extra
	}
	cases := []struct {
		name    string
		headers string
		body    string
		tweak   func(*store.Settings)
		want    pipeline.Action
		reasons int
	}{
		{"member accepted", from("alice@example.com", ""), "hi", nil, pipeline.Accept, 0},
		{"stranger held", from("who@example.org", ""), "hi", nil, pipeline.Hold, 1},
		{"banned discarded before moderation", from("banned@example.net", ""), "hi", nil, pipeline.Discard, 1},
		{"loop discarded", from("alice@example.com", "X-BeenThere: dev@lists.example.org\n"), "hi", nil, pipeline.Discard, 1},
		{"member held with every reason", strings.Replace(from("alice@example.com", ""), "Subject: Hello\n", "", 1) +
			"Cc: " + distinct(10) + "\n", strings.Repeat("x", 50*1024), nil, pipeline.Hold, 3},
		{"emergency holds members", from("alice@example.com", ""), "hi", func(s *store.Settings) { s.Emergency = true }, pipeline.Hold, 1},
		{"stranger defer then checks pass", from("who@example.org", ""), "hi", func(s *store.Settings) { s.DefaultNonmemberAction = "defer" }, pipeline.Accept, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := post(t, r, c.tweak, c.headers, c.body)
			d, err := DefaultChain().Decide(t.Context(), m)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != c.want || len(d.Reasons) != c.reasons {
				t.Errorf("decision %+v, want %s with %d reasons", d, c.want, c.reasons)
			}
		})
	}
}
