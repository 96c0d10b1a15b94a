package bouncer

import (
	"strings"
	"testing"

	"herald/internal/store"
)

func TestProcessorRecordsMembers(t *testing.T) {
	cases := []struct {
		name   string
		ext    string
		msg    []byte
		want   string // "email permanent reason source" per event, joined by ";"
		detail string // in the first event's Detail
	}{
		{"VERP names the member", "bob=example.net",
			dsn("dev-bounces+bob=example.net@lists.example.org", "bob@mail.example.net", "failed", "5.1.1",
				"550 5.1.1 <bob@mail.example.net>: Recipient address rejected: User unknown"),
			"bob@example.net true unknown_user verp", "User unknown"},
		{"plain DSN, members only", "",
			dsn("dev-bounces@lists.example.org", "bob@example.net", "failed", "5.1.1", "550 5.1.1 no such user"),
			"bob@example.net true unknown_user dsn", "550 5.1.1 no such user"},
		{"a delay is temporary", "",
			dsn("dev-bounces@lists.example.org", "carol@example.org", "delayed", "4.4.1", "451 4.4.1 connection timed out"),
			"carol@example.org false temporary dsn", ""},
		{"a DMARC refusal is policy", "",
			dsn("dev-bounces@lists.example.org", "alice@example.com", "failed", "5.7.1",
				"550 5.7.1 rejected due to DMARC policy of the author's domain"),
			"alice@example.com true policy dsn", "DMARC"},
		{"no member named", "",
			dsn("dev-bounces@lists.example.org", "stranger@example.net", "failed", "5.1.1", "550 5.1.1 unknown"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.deliver(tc.ext, tc.msg)
			var got []string
			evs := e.events()
			for _, ev := range evs {
				got = append(got, strings.Join([]string{ev.Email, map[bool]string{true: "true", false: "false"}[ev.Permanent],
					ev.Reason, ev.Source}, " "))
			}
			if strings.Join(got, ";") != tc.want {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
			if tc.detail != "" && (len(evs) == 0 || !strings.Contains(evs[0].Detail, tc.detail)) {
				t.Errorf("detail = %q, want it to contain %q", evs[0].Detail, tc.detail)
			}
			if out := e.out(); len(out) != 0 {
				t.Errorf("a recognized bounce sent %d messages", len(out))
			}
		})
	}
}

func TestProcessorUnrecognized(t *testing.T) {
	junk := []byte("From: someone@example.net\r\nTo: dev-bounces@lists.example.org\r\nSubject: hello?\r\n\r\nIs this the list?\r\n")
	vacation := []byte("From: bob@example.net\r\nTo: dev-bounces@lists.example.org\r\nSubject: Out of office\r\n" +
		"Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n")
	cases := []struct {
		name    string
		setting string
		msg     []byte
		wantTo  string // recipients of the forward, "" for none
	}{
		{"to the administrators by default", "administrators", junk, "owner@example.com"},
		{"to the site owner", "site_owner", junk, "postmaster@example.org"},
		{"discarded", "discard", junk, ""},
		{"an auto-reply is dropped", "administrators", vacation, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.set("forward_unrecognized_bounces_to", tc.setting)
			e.deliver("", tc.msg)
			out := e.out()
			if tc.wantTo == "" {
				if len(out) != 0 {
					t.Fatalf("sent %d messages, want none", len(out))
				}
				return
			}
			if len(out) != 1 || strings.Join(out[0].Envelope.Recipients, ",") != tc.wantTo {
				t.Fatalf("forwards = %+v, want one to %s", out, tc.wantTo)
			}
			m := string(out[0].Message)
			if !strings.Contains(m, "Subject: Uncaught bounce notification") || !strings.Contains(m, "Is this the list?") {
				t.Errorf("forward lacks subject or the bounce:\n%s", m)
			}
			if out[0].Envelope.Sender != "dev-bounces@lists.example.org" {
				t.Errorf("forward's envelope sender = %q", out[0].Envelope.Sender)
			}
			if len(e.events()) != 0 {
				t.Error("an unrecognized bounce made events")
			}
		})
	}
}

func TestProcessorProcessBouncesOff(t *testing.T) {
	e := newEnv(t)
	e.set("process_bounces", "false")
	e.deliver("bob=example.net", dsn("dev-bounces+bob=example.net@lists.example.org", "bob@example.net", "failed", "5.1.1", "550 5.1.1 unknown"))
	if n := len(e.events()); n != 0 {
		t.Errorf("process_bounces off: %d events", n)
	}
	if n := len(e.out()); n != 0 {
		t.Errorf("process_bounces off: %d messages sent", n)
	}
}

func TestProcessorProbeToken(t *testing.T) {
	e := newEnv(t)
	pr := &store.BounceProbe{ListID: e.list.ID, Email: "bob@example.net", Sent: e.now}
	if err := e.st.AddBounceProbe(e.ctx, pr); err != nil {
		t.Fatal(err)
	}
	// The remote MTA names its own rewritten address; only the token says
	// who it is.
	e.deliver(pr.Token, dsn("dev-bounces+"+pr.Token+"@lists.example.org", "robert@mail.example.net", "failed", "5.1.1",
		"550 5.1.1 mailbox gone"))
	evs := e.events()
	if len(evs) != 1 || evs[0].Email != "bob@example.net" || evs[0].Source != SourceProbe || !evs[0].Permanent {
		t.Fatalf("probe bounce events = %+v", evs)
	}
	// An unknown token is no VERP address: the DSN's own recipient counts.
	e.deliver("0123456789abcdef0123456789abcdef", dsn("dev-bounces+0123456789abcdef0123456789abcdef@lists.example.org",
		"carol@example.org", "failed", "5.1.1", "550 5.1.1 unknown"))
	evs = e.events()
	if len(evs) != 2 || evs[1].Email != "carol@example.org" || evs[1].Source != "dsn" {
		t.Fatalf("after an unknown token: %+v", evs)
	}
}
