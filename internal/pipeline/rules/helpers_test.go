package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// roster is an in-memory pipeline.Roster: rules are pure predicates, so a
// table of facts is all they need (the post runner's tests run them on
// the real store).
type roster struct {
	members map[string][]store.Member
	bans    map[string]bool
	counts  map[string]int64
	err     error
}

func newRoster() *roster {
	return &roster{members: map[string][]store.Member{}, bans: map[string]bool{}, counts: map[string]int64{}}
}

func (r *roster) add(email string, role store.Role, action string) *roster {
	m := store.DefaultMember(1, email, role)
	m.ModerationAction = action
	r.members[email] = append(r.members[email], m)
	return r
}

func (r *roster) MemberRoles(_ context.Context, _ int64, email string) ([]store.Member, error) {
	return r.members[email], r.err
}

func (r *roster) EachMember(_ context.Context, _ int64, role store.Role, fn func(*store.Member) error) error {
	for _, ms := range r.members {
		for i := range ms {
			if ms[i].Role == role {
				if err := fn(&ms[i]); err != nil {
					return err
				}
			}
		}
	}
	return r.err
}

func (r *roster) IsBanned(_ context.Context, _ int64, email string) (bool, error) {
	return r.bans[email], r.err
}

func (r *roster) PostCount(_ context.Context, _ int64, email string) (int64, error) {
	return r.counts[email], r.err
}

// dmarcTable is a pipeline.DMARCLookup from a map; "fail" fails.
type dmarcTable map[string]string

func (d dmarcTable) Policy(_ context.Context, domain string) (string, error) {
	if d[domain] == "fail" {
		return "", errors.New("dns down")
	}
	return d[domain], nil
}

// post builds a pipeline.Message for the dev@lists.example.org list from
// header lines and a body.
func post(t *testing.T, r *roster, tweak func(*store.Settings), headers string, body string) *pipeline.Message {
	t.Helper()
	raw := strings.ReplaceAll(headers, "\n", "\r\n") + "\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
	msg, err := mime.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	s := store.DefaultSettings("dev")
	if tweak != nil {
		tweak(&s)
	}
	l := &store.List{ID: 1, Name: "dev", Domain: "lists.example.org", Settings: s}
	m := &pipeline.Message{List: l, Msg: msg, Size: len(raw), EnvSender: "env@example.com",
		Roster: r, Now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Meta: map[string]string{}}
	m.Senders = pipeline.Senders(msg, m.EnvSender, s.SenderHeaders)
	if len(m.Senders) > 0 {
		m.Sender = m.Senders[0]
	}
	return m
}

// ruleCase is one row of a rule's table.
type ruleCase struct {
	name    string
	tweak   func(*store.Settings)
	headers string
	body    string
	hit     bool
	action  pipeline.Action // checked when not ""
	reason  string          // substring, checked when not ""
}

const stdHeaders = "From: Alice <alice@example.com>\nTo: dev@lists.example.org\nSubject: Hello\nMessage-ID: <1@example.com>\n"

func runCases(t *testing.T, rule pipeline.Rule, r *roster, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.headers
			if h == "" {
				h = stdHeaders
			}
			m := post(t, r, c.tweak, h, c.body)
			v, err := rule.Check(t.Context(), m)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if v.Hit != c.hit {
				t.Fatalf("hit = %v, want %v (reason %q)", v.Hit, c.hit, v.Reason)
			}
			if c.action != "" && v.Action != c.action {
				t.Errorf("action = %q, want %q", v.Action, c.action)
			}
			if c.reason != "" && !strings.Contains(v.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", v.Reason, c.reason)
			}
		})
	}
}
