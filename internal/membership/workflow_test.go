package membership

import (
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/store"
)

const bob = "bob@example.net"

// step is one action on the workflow and the status it must give; mailTo
// lists who gets mail from it (nil: nobody).
type step struct {
	do     string
	want   Status
	mailTo []string
}

func (e *env) run(t *testing.T, l *store.List, s step, sub Subscription, token *string, reqID *int64) Outcome {
	t.Helper()
	var (
		o   Outcome
		err error
	)
	switch s.do {
	case "subscribe":
		o, err = e.svc.Subscribe(e.ctx, l, sub)
	case "unsubscribe":
		o, err = e.svc.Unsubscribe(e.ctx, l, Unsubscription{Email: sub.Email, Source: sub.Source})
	case "unsubscribe-web":
		o, err = e.svc.Unsubscribe(e.ctx, l, Unsubscription{Email: sub.Email, Source: SourceWeb, AlwaysConfirm: true})
	case "invite":
		o, err = e.svc.Invite(e.ctx, l, sub.Email)
	case "confirm":
		o, err = e.svc.Confirm(e.ctx, l, *token)
	case "approve":
		o, err = e.svc.Approve(e.ctx, l, *reqID)
	case "reject":
		o, err = e.svc.Reject(e.ctx, l, *reqID, "not on the team")
	case "discard":
		o, err = e.svc.Discard(e.ctx, l, *reqID)
	case "oneclick":
		m, gerr := e.st.GetMember(e.ctx, l.ID, sub.Email, store.RoleMember)
		if gerr != nil {
			t.Fatal(gerr)
		}
		o, err = e.svc.OneClick(e.ctx, m.Token)
	default:
		t.Fatalf("unknown step %q", s.do)
	}
	if err != nil {
		t.Fatalf("%s: %v", s.do, err)
	}
	if o.Status != s.want {
		t.Fatalf("%s: status %s, want %s", s.do, o.Status, s.want)
	}
	if got := rcpts(o.Mail); !slices.Equal(got, s.mailTo) {
		t.Fatalf("%s: mail to %v, want %v", s.do, got, s.mailTo)
	}
	if o.Status == ConfirmationSent || o.Status == Invited {
		*token = tokenOf(t, o.Mail)
	}
	if o.Request != nil {
		*reqID = o.Request.ID
	}
	return o
}

var (
	toBob   = []string{bob}
	toOwner = []string{"owner@example.com"}
	toBoth  = []string{bob, "owner@example.com"}
)

func TestWorkflowTransitions(t *testing.T) {
	t.Parallel()
	email := Subscription{Email: bob, Source: SourceEmail}
	admin := Subscription{Email: bob, Source: SourceAdmin, PreVerified: true, PreConfirmed: true, PreApproved: true}
	cases := []struct {
		name     string
		sub      Subscription
		policy   string
		unsub    string
		verified bool
		steps    []step
		member   bool
	}{
		{"open, unverified: verify first", email, "open", "open", false, []step{
			{"subscribe", ConfirmationSent, toBob}, {"confirm", Subscribed, toBoth}}, true},
		{"open, verified: at once", email, "open", "open", true, []step{
			{"subscribe", Subscribed, toBoth}}, true},
		{"confirm", email, "confirm", "open", true, []step{
			{"subscribe", ConfirmationSent, toBob}, {"confirm", Subscribed, toBoth}}, true},
		{"moderate, verified", email, "moderate", "open", true, []step{
			{"subscribe", AwaitingModerator, toOwner}, {"approve", Subscribed, toBoth}}, true},
		{"moderate, unverified", email, "moderate", "open", false, []step{
			{"subscribe", ConfirmationSent, toBob}, {"confirm", AwaitingModerator, toOwner},
			{"approve", Subscribed, toBoth}}, true},
		{"confirm then moderate, approved", email, "confirm_then_moderate", "open", true, []step{
			{"subscribe", ConfirmationSent, toBob}, {"confirm", AwaitingModerator, toOwner},
			{"approve", Subscribed, toBoth}}, true},
		{"confirm then moderate, rejected", email, "confirm_then_moderate", "open", true, []step{
			{"subscribe", ConfirmationSent, toBob}, {"confirm", AwaitingModerator, toOwner},
			{"reject", Rejected, toBob}}, false},
		{"moderate, discarded", email, "moderate", "open", true, []step{
			{"subscribe", AwaitingModerator, toOwner}, {"discard", Discarded, nil}}, false},
		{"pending confirmation discarded", email, "confirm", "open", true, []step{
			{"subscribe", ConfirmationSent, toBob}, {"discard", Discarded, nil}}, false},
		{"admin, all pre-flags", admin, "confirm_then_moderate", "open", false, []step{
			{"subscribe", Subscribed, toBoth}}, true},
		{"admin, not pre-confirmed", Subscription{Email: bob, Source: SourceAdmin, PreVerified: true, PreApproved: true},
			"confirm_then_moderate", "open", false, []step{
				{"subscribe", ConfirmationSent, toBob}, {"confirm", Subscribed, toBoth}}, true},
		{"admin quiet", Subscription{Email: bob, Source: SourceAdmin, PreVerified: true, PreConfirmed: true, PreApproved: true, Quiet: true},
			"confirm", "open", false, []step{{"subscribe", Subscribed, nil}}, true},
		{"invitation skips moderation", email, "moderate", "open", false, []step{
			{"invite", Invited, toBob}, {"confirm", Subscribed, toBoth}}, true},
		{"already member", email, "open", "open", true, []step{
			{"subscribe", Subscribed, toBoth}, {"subscribe", AlreadyMember, nil}}, true},
		{"already pending", email, "confirm", "open", true, []step{
			{"subscribe", ConfirmationSent, toBob}, {"subscribe", AlreadyPending, nil}}, false},
		{"leave open", email, "open", "open", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe", Unsubscribed, toBoth},
			{"unsubscribe", NotMember, nil}}, false},
		{"leave confirm", email, "open", "confirm", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe", ConfirmationSent, toBob},
			{"confirm", Unsubscribed, toBoth}}, false},
		{"leave moderate", email, "open", "moderate", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe", AwaitingModerator, toOwner},
			{"approve", Unsubscribed, toBoth}}, false},
		{"leave moderate, rejected", email, "open", "moderate", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe", AwaitingModerator, toOwner},
			{"reject", Rejected, toBob}}, true},
		{"leave by web form confirms even when open", email, "open", "open", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe-web", ConfirmationSent, toBob},
			{"confirm", Unsubscribed, toBoth}}, false},
		{"leave by web form, then moderate", email, "open", "moderate", true, []step{
			{"subscribe", Subscribed, toBoth}, {"unsubscribe-web", ConfirmationSent, toBob},
			{"confirm", AwaitingModerator, toOwner}, {"approve", Unsubscribed, toBoth}}, false},
		{"one-click ignores the policy", email, "open", "moderate", true, []step{
			{"subscribe", Subscribed, toBoth}, {"oneclick", Unsubscribed, toBoth}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{}, func(s *store.Settings) {
				s.SubscriptionPolicy, s.UnsubscriptionPolicy = tc.policy, tc.unsub
			})
			if tc.verified {
				e.verify(bob)
			}
			var token string
			var reqID int64
			for _, s := range tc.steps {
				e.run(t, e.l, s, tc.sub, &token, &reqID)
			}
			if got := e.isMember(e.l, bob); got != tc.member {
				t.Errorf("member at the end = %v, want %v", got, tc.member)
			}
		})
	}
}

func TestConfirmationMail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, nil)
	o, err := e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "Bob <BOB@Example.NET>", DisplayName: "Buy pills at evil.example",
		Source: SourceEmail})
	if err == nil {
		t.Fatalf("a display-name form was accepted as an address: %+v", o)
	}
	o, err = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "BOB@Example.NET", DisplayName: "Buy pills at evil.example",
		Source: SourceEmail})
	if err != nil || o.Status != ConfirmationSent {
		t.Fatalf("subscribe: %v %v", o.Status, err)
	}
	m := parseMail(t, o.Mail)[0]
	tok := tokenOf(t, o.Mail)
	if !ValidToken(tok) || len(tok) != TokenLen {
		t.Errorf("token %q is not %d base32 characters", tok, TokenLen)
	}
	if want := "dev-confirm+" + tok + "@example.org"; m.from != want {
		t.Errorf("From = %q, want %q", m.from, want)
	}
	if m.auto != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", m.auto)
	}
	if strings.Contains(m.body, "pills") || strings.Contains(m.subject, "pills") {
		t.Errorf("confirmation mail echoes the requester's text:\n%s", m.body)
	}
	if !strings.Contains(m.body, "bob@example.net") || !strings.Contains(m.body, "https://lists.example.org/confirm/"+tok) {
		t.Errorf("confirmation mail lacks the address or the link:\n%s", m.body)
	}
	r, err := e.st.PendingRequest(e.ctx, e.l.ID, "bob@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if r.TokenHash == tok || r.TokenHash != HashToken(tok) {
		t.Errorf("store keeps %q for token %q, want its hash", r.TokenHash, tok)
	}
	if want := e.now.Add(72 * time.Hour); !r.Expires.Equal(want) {
		t.Errorf("expires %v, want %v (3 days)", r.Expires, want)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, nil)
	other := e.list("other", nil)
	subscribe := func(l *store.List, email string) string {
		t.Helper()
		o, err := e.svc.Subscribe(e.ctx, l, Subscription{Email: email, Source: SourceEmail})
		if err != nil || o.Status != ConfirmationSent {
			t.Fatalf("subscribe %s: %v %v", email, o.Status, err)
		}
		return tokenOf(t, o.Mail)
	}
	confirm := func(l *store.List, tok string, want Status) {
		t.Helper()
		o, err := e.svc.Confirm(e.ctx, l, tok)
		if err != nil || o.Status != want {
			t.Fatalf("confirm %q on %v: %v %v, want %s", tok, l, o.Status, err, want)
		}
	}
	t.Run("reused", func(t *testing.T) {
		tok := subscribe(e.l, "a@example.net")
		confirm(e.l, strings.ToUpper(tok), Subscribed) // the MTA folded the case
		confirm(e.l, tok, BadToken)
	})
	t.Run("expired", func(t *testing.T) {
		tok := subscribe(e.l, "b@example.net")
		e.now = e.now.Add(72*time.Hour + time.Second)
		confirm(e.l, tok, BadToken)
		if e.isMember(e.l, "b@example.net") {
			t.Error("expired token subscribed")
		}
		// The lapsed request no longer blocks a new one.
		tok2 := subscribe(e.l, "b@example.net")
		confirm(e.l, tok2, Subscribed)
	})
	t.Run("bound to its list", func(t *testing.T) {
		tok := subscribe(e.l, "c@example.net")
		confirm(other, tok, BadToken)
		confirm(nil, tok, Subscribed) // the web page knows no list
		if e.isMember(other, "c@example.net") || !e.isMember(e.l, "c@example.net") {
			t.Error("token acted on the wrong list")
		}
	})
	t.Run("bound to its action", func(t *testing.T) {
		tok := subscribe(e.l, "d@example.net")
		o, err := e.svc.Unsubscribe(e.ctx, e.l, Unsubscription{Email: "d@example.net", Source: SourceEmail})
		if err != nil || o.Status != NotMember {
			t.Fatalf("unsubscribe while pending: %v %v", o.Status, err)
		}
		confirm(e.l, tok, Subscribed)
	})
	t.Run("malformed or unknown", func(t *testing.T) {
		for _, tok := range []string{"", "x", strings.Repeat("a", TokenLen), strings.Repeat("1", TokenLen), NewToken() + "a"} {
			confirm(e.l, tok, BadToken)
		}
	})
	t.Run("resent after an hour with a new token", func(t *testing.T) {
		tok := subscribe(e.l, "f@example.net")
		o, _ := e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "f@example.net", Source: SourceEmail})
		if o.Status != AlreadyPending || len(o.Mail) != 0 {
			t.Fatalf("repeat at once: %v with %d mails", o.Status, len(o.Mail))
		}
		e.now = e.now.Add(time.Hour)
		o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "f@example.net", Source: SourceEmail})
		if o.Status != ConfirmationSent {
			t.Fatalf("repeat after an hour: %v", o.Status)
		}
		tok2 := tokenOf(t, o.Mail)
		confirm(e.l, tok, BadToken)
		confirm(e.l, tok2, Subscribed)
	})
	t.Run("expiry sweep", func(t *testing.T) {
		subscribe(e.l, "g@example.net")
		e.now = e.now.Add(73 * time.Hour)
		n, err := e.svc.Expire(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("Expire = %d, %v; want 1", n, err)
		}
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, func(s *store.Settings) { s.DigestsEnabled = false })
	e.ban(e.l, "spam@example.net")
	e.ban(nil, `^.*@spam\.example$`)
	o, err := e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "spam@example.net", Source: SourceEmail})
	if err != nil || o.Status != Banned || len(o.Mail) != 0 {
		t.Errorf("banned: %v %v %d mails", o.Status, err, len(o.Mail))
	}
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "spam@example.net", Source: SourceAdmin, PreVerified: true, PreConfirmed: true, PreApproved: true})
	if o.Status != Banned {
		t.Errorf("banned, admin add: %v", o.Status)
	}
	o, _ = e.svc.Invite(e.ctx, e.l, "spam@example.net")
	if o.Status != Banned {
		t.Errorf("banned, invitation: %v", o.Status)
	}
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "Anyone@SPAM.example", Source: SourceWeb})
	if o.Status != Banned || len(o.Mail) != 0 {
		t.Errorf("global regexp ban: %v", o.Status)
	}
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "d@example.net", DeliveryMode: store.ModeMIMEDigest, Source: SourceEmail})
	if o.Status != DigestsDisabled {
		t.Errorf("digest on a list without digests: %v", o.Status)
	}

	// Banned between request and confirmation.
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "late@example.net", Source: SourceEmail})
	tok := tokenOf(t, o.Mail)
	e.ban(e.l, "late@example.net")
	if o, _ = e.svc.Confirm(e.ctx, e.l, tok); o.Status != Banned || e.isMember(e.l, "late@example.net") {
		t.Errorf("confirm after a ban: %v", o.Status)
	}

	// An address disabled by bounces on another list gets no mail.
	other := e.list("other", nil)
	m := store.DefaultMember(other.ID, "bouncy@example.net", store.RoleMember)
	m.DeliveryStatus = store.DeliveryByBounces
	if err := e.st.AddMember(e.ctx, &m); err != nil {
		t.Fatal(err)
	}
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "bouncy@example.net", Source: SourceEmail})
	if o.Status != Undeliverable || len(o.Mail) != 0 {
		t.Errorf("bounce-disabled: %v with %d mails", o.Status, len(o.Mail))
	}
	o, _ = e.svc.Subscribe(e.ctx, e.l, Subscription{Email: "bouncy@example.net", Source: SourceAdmin, PreVerified: true, PreConfirmed: true, PreApproved: true})
	if o.Status != Subscribed || slices.Contains(rcpts(o.Mail), "bouncy@example.net") {
		t.Errorf("bounce-disabled, admin add: %v, mail to %v", o.Status, rcpts(o.Mail))
	}
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{SiteConfirmationsPerHour: 8, AutoresponsesPerDay: 2}, func(s *store.Settings) {
		s.MaxConfirmationsPerHour = 5
	})
	other := e.list("other", nil)
	sent := 0
	for i := range 20 {
		o, err := e.svc.Subscribe(e.ctx, e.l, Subscription{Email: string(rune('a'+i)) + "@example.net", Source: SourceEmail})
		if err != nil {
			t.Fatal(err)
		}
		if o.Status == ConfirmationSent {
			sent++
		} else if o.Status != RateLimited {
			t.Fatalf("status %v", o.Status)
		}
	}
	if sent != 5 {
		t.Errorf("%d confirmations on a 5/hour list", sent)
	}
	for i := range 20 {
		o, _ := e.svc.Subscribe(e.ctx, other, Subscription{Email: string(rune('a'+i)) + "@example.org", Source: SourceEmail})
		if o.Status == ConfirmationSent {
			sent++
		}
	}
	if sent != 8 {
		t.Errorf("%d confirmations on an 8/hour site", sent)
	}
	// Admin invitations are not charged.
	if o, _ := e.svc.Invite(e.ctx, e.l, "vip@example.com"); o.Status != Invited {
		t.Errorf("invitation over quota: %v", o.Status)
	}
	e.now = e.now.Add(time.Hour + time.Second)
	replies := 0
	for range 5 {
		if ok, err := e.svc.ChargeReply(e.ctx, e.l, "x@example.net"); err != nil {
			t.Fatal(err)
		} else if ok {
			replies++
		}
	}
	if replies != 2 {
		t.Errorf("%d replies to one address, want max_autoresponses_per_day 2", replies)
	}
}

func TestOneClick(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, nil)
	m := store.DefaultMember(e.l.ID, bob, store.RoleMember)
	if err := e.st.AddMember(e.ctx, &m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.MemberForToken(e.ctx, m.Token); err != nil {
		t.Fatal(err)
	}
	o, err := e.svc.OneClick(e.ctx, m.Token)
	if err != nil || o.Status != Unsubscribed || e.isMember(e.l, bob) {
		t.Fatalf("one-click: %v %v", o.Status, err)
	}
	if o, _ := e.svc.OneClick(e.ctx, m.Token); o.Status != BadToken {
		t.Errorf("token after leaving: %v", o.Status)
	}
	owner, err := e.st.GetMember(e.ctx, e.l.ID, "owner@example.com", store.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := e.svc.OneClick(e.ctx, owner.Token); o.Status != BadToken {
		t.Errorf("an owner's token unsubscribed: %v", o.Status)
	}
}

func TestRoster(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, nil)
	for _, a := range []string{"a@example.net", "hidden@example.net"} {
		m := store.DefaultMember(e.l.ID, a, store.RoleMember)
		m.HideAddress = strings.HasPrefix(a, "hidden")
		if err := e.st.AddMember(e.ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		visibility, who string
		ok              bool
		n               int
	}{
		{"moderators", "a@example.net", false, 0},
		{"moderators", "owner@example.com", true, 2},
		{"members", "a@example.net", true, 1},
		{"members", "stranger@example.net", false, 0},
		{"public", "stranger@example.net", true, 1},
	}
	for _, c := range cases {
		e.l.Settings.MemberRosterVisibility = c.visibility
		got, ok, err := e.svc.Roster(e.ctx, e.l, c.who)
		if err != nil || ok != c.ok || len(got) != c.n {
			t.Errorf("%s/%s: %v %v %v", c.visibility, c.who, got, ok, err)
		}
	}
}

func TestSetPreference(t *testing.T) {
	l := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	m := store.DefaultMember(1, bob, store.RoleMember)
	good := [][2]string{{"delivery_mode", "mime_digests"}, {"delivery_status", "by_user"}, {"hide_address", "yes"},
		{"receive_own_postings", "false"}, {"language", "pt_BR"}, {"moderation_action", "hold"}, {"display_name", "Bob"}}
	for _, kv := range good {
		if err := SetPreference(l, &m, kv[0], kv[1]); err != nil {
			t.Errorf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	if m.DeliveryMode != store.ModeMIMEDigest || !m.HideAddress || m.ReceiveOwnPostings || m.Language != "pt_BR" {
		t.Errorf("after set: %+v", m)
	}
	bad := [][2]string{{"delivery_mode", "weekly"}, {"hide_address", "maybe"}, {"language", "../../etc"}, {"colour", "red"},
		{"display_name", "a\r\nBcc: x"}}
	for _, kv := range bad {
		if err := SetPreference(l, &m, kv[0], kv[1]); err == nil {
			t.Errorf("%s=%s accepted", kv[0], kv[1])
		}
	}
	l.Settings.DigestsEnabled = false
	if err := SetPreference(l, &m, "delivery_mode", "plaintext_digests"); err == nil {
		t.Error("digest mode accepted on a list without digests")
	}
}
