package handlers

import (
	"context"
	"slices"
	"strings"
	"testing"

	"herald/internal/pipeline"
	"herald/internal/store"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"list_name": "dev", "display_name": "Dev Team", "user_address": ""}
	cases := []struct{ in, want string }{
		{"$list_name", "dev"},
		{"${list_name}s", "devs"},
		{"[$display_name] $user_address.", "[Dev Team] ."},
		{"costs $5 or $ 6", "costs $5 or $ 6"},
		{"$$list_name", "$list_name"},
		{"$unknown and ${unknown}", "$unknown and ${unknown}"},
		{"${list_name", "${list_name"},
		{"end $", "end $"},
		{"ünï $list_name ç", "ünï dev ç"},
	}
	for _, c := range cases {
		if got := Expand(c.in, vars); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUnsubscribeURL(t *testing.T) {
	cases := []struct{ base, want string }{
		{"https://lists.example.org", "https://lists.example.org/lists/dev@lists.example.org/unsubscribe"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/lists/dev@lists.example.org/unsubscribe"},
		{"", ""},
		{"ftp://x", ""},
		{"https://a.example/>, <mailto:evil@example.com", ""},
	}
	for _, c := range cases {
		if got := UnsubscribeURL(c.base, "dev@lists.example.org"); got != c.want {
			t.Errorf("UnsubscribeURL(%q) = %q, want %q", c.base, got, c.want)
		}
	}
}

// members is a roster of members for the roster-driven handlers.
type members struct {
	emptyRoster
	ms []store.Member
}

func (r members) MemberRoles(_ context.Context, _ int64, email string) ([]store.Member, error) {
	var out []store.Member
	for _, m := range r.ms {
		if m.Email == email {
			out = append(out, m)
		}
	}
	return out, nil
}

func (r members) EachMember(_ context.Context, _ int64, role store.Role, fn func(*store.Member) error) error {
	for i := range r.ms {
		if r.ms[i].Role == role {
			if err := fn(&r.ms[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func member(email string, tweak func(*store.Member)) store.Member {
	m := store.DefaultMember(1, email, store.RoleMember)
	if tweak != nil {
		tweak(&m)
	}
	return m
}

func TestRecipientsAndDuplicates(t *testing.T) {
	r := members{ms: []store.Member{
		member("alice@example.com", func(m *store.Member) { m.ReceiveOwnPostings = false }),
		member("bob@example.net", func(m *store.Member) { m.ReceiveListCopy = false }),
		member("carol@example.org", nil),
		member("dave@example.org", func(m *store.Member) { m.DeliveryStatus = store.DeliveryByBounces }),
		member("erin@example.org", func(m *store.Member) { m.DeliveryMode = store.ModeMIMEDigest }),
		member("frank@example.org", func(m *store.Member) { m.ReceiveListCopy = false }),
		store.DefaultMember(1, "owner@example.com", store.RoleOwner),
	}}
	m := loadPost(t, "plain.eml", nil) // From alice, Cc bob
	m.Roster = r
	if err := (pipeline.Handlers{Recipients{}, AvoidDuplicates{}}).Run(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	slices.Sort(m.Recipients)
	want := []string{"carol@example.org", "frank@example.org"}
	if !slices.Equal(m.Recipients, want) {
		t.Errorf("recipients = %v, want %v", m.Recipients, want)
	}
}

func TestReplybotAndAcknowledge(t *testing.T) {
	r := members{ms: []store.Member{member("alice@example.com", func(m *store.Member) { m.AcknowledgePosts = true })}}
	set := func(mode string) func(*store.Settings) {
		return func(s *store.Settings) {
			s.AutorespondPostings = mode
			s.AutoresponsePostingsText = "Thanks for writing to $display_name."
		}
	}
	l := &ledger{}
	m := loadPost(t, "plain.eml", set("respond_and_continue"))
	m.Roster, m.Ledger = r, l
	if err := (pipeline.Handlers{Replybot{}, Acknowledge{}}).Run(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if len(m.Notices) != 2 {
		t.Fatalf("%d notices, want an autoresponse and an acknowledgement", len(m.Notices))
	}
	for _, n := range m.Notices {
		text := string(n.Message)
		if !slices.Equal(n.Recipients, []string{"alice@example.com"}) || !strings.Contains(text, "Auto-Submitted: auto-replied") ||
			!strings.Contains(text, "In-Reply-To: <20260501095958.GA1234@mail.example.com>") {
			t.Errorf("notice to %v:\n%s", n.Recipients, text)
		}
	}
	if !strings.Contains(string(m.Notices[0].Message), "Thanks for writing to dev.") {
		t.Errorf("autoresponse text not expanded:\n%s", m.Notices[0].Message)
	}

	// The ledger allows one response: the second post gets none, and
	// respond_and_discard still discards it.
	m = loadPost(t, "plain.eml", set("respond_and_discard"))
	m.Roster, m.Ledger = r, l
	err := Replybot{}.Handle(t.Context(), m)
	if stop, ok := pipeline.AsStop(err); !ok || stop.Action != pipeline.Discard || len(m.Notices) != 0 {
		t.Errorf("respond_and_discard: err %v, %d notices", err, len(m.Notices))
	}

	// Automated posts get nothing.
	m = loadPost(t, "plain.eml", set("respond_and_continue"))
	m.Msg.Header.Add("Auto-Submitted", "auto-generated")
	m.Roster, m.Ledger = r, &ledger{}
	if err := (pipeline.Handlers{Replybot{}, Acknowledge{}}).Run(t.Context(), m); err != nil || len(m.Notices) != 0 {
		t.Errorf("automated post answered: %v, %d notices", err, len(m.Notices))
	}
}

func TestBookkeeping(t *testing.T) {
	l := &ledger{postID: 41}
	m := loadPost(t, "plain.eml", nil)
	m.Ledger = l
	m.Roster = members{ms: []store.Member{member("alice@example.com", nil)}}
	if err := (pipeline.Handlers{PostNumber{}, SubjectPrefix{}}).Run(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if m.PostID != 42 || l.posts["alice@example.com"] != 1 {
		t.Errorf("post id %d, counts %v", m.PostID, l.posts)
	}
	m = loadPost(t, "latin1-qp.eml", nil) // not a member: numbered, not counted
	m.Ledger = l
	if err := (PostNumber{}).Handle(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if m.PostID != 43 || len(l.posts) != 1 {
		t.Errorf("nonmember: post id %d, counts %v", m.PostID, l.posts)
	}
}
