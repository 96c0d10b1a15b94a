package store

import (
	"strings"
	"testing"
)

// sampleValue returns a valid non-default text value for a setting.
func sampleValue(info SettingInfo) string {
	switch {
	case len(info.Allowed) > 0 && info.Type == "list":
		return strings.Join(info.Allowed[:2], ",")
	case len(info.Allowed) > 0:
		return info.Allowed[len(info.Allowed)-1]
	}
	switch info.Name {
	case "header_matches":
		return "X-Spam-Flag: ^yes -> discard\nSubject: a,b{1,3} -> reject\nX-Foo: bar"
	case "bounce_matching_headers":
		return "X-Virus: found, really\nX-Bar: ^1$"
	case "filter_types", "pass_types":
		return "image,application/x-msdownload"
	case "acceptable_aliases":
		return "dev@example.org,^dev-.*@example.org"
	case "moderator_password":
		return "correct horse battery"
	}
	switch info.Type {
	case "bool":
		return "true"
	case "int":
		return "7"
	case "list":
		return "one,two"
	}
	return "some text\nwith a second line"
}

// TestEverySettingRoundTrips sets every setting to its default text and
// to a sample value through Set, and checks Get gives back what Set took
// (or, for secrets, that Set(Get()) keeps the stored value).
func TestEverySettingRoundTrips(t *testing.T) {
	infos := SettingNames()
	if len(infos) < 50 {
		t.Errorf("only %d settings", len(infos))
	}
	for _, info := range infos {
		t.Run(info.Name, func(t *testing.T) {
			if info.Doc == "" {
				t.Errorf("%s has no doc", info.Name)
			}
			s := DefaultSettings("dev")
			def, err := s.Get(info.Name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if err := s.Set(info.Name, def); err != nil {
				t.Fatalf("Set(default %q): %v", def, err)
			}
			if got, _ := s.Get(info.Name); got != def {
				t.Errorf("default round trip: %q → %q", def, got)
			}
			v := sampleValue(info)
			if err := s.Set(info.Name, v); err != nil {
				t.Fatalf("Set(%q): %v", v, err)
			}
			got, _ := s.Get(info.Name)
			if info.Name == "moderator_password" {
				if !CheckPassword(got, v) {
					t.Errorf("stored %q does not verify %q", got, v)
				}
				v = got
				if err := s.Set(info.Name, got); err != nil {
					t.Fatalf("Set(hash): %v", err)
				}
				got, _ = s.Get(info.Name)
			}
			if got != v {
				t.Errorf("Get after Set(%q) = %q", v, got)
			}
		})
	}
}

func TestSettingValidation(t *testing.T) {
	cases := []struct {
		key, value string
		wantIn     []string // the error names the key and what is allowed
	}{
		{"default_member_action", "maybe", []string{"default_member_action", "accept, hold, reject, discard, defer"}},
		{"sender_headers", "from,x-originator", []string{"sender_headers", "from, envelope, reply-to, sender"}},
		{"filter_action", "burn", []string{"filter_action", "discard, reject, forward, preserve"}},
		{"max_days_to_hold_action", "keep", []string{"max_days_to_hold_action", "discard, reject, approve"}},
		{"header_matches", "X-Spam: yes -> explode", []string{"header_matches", "accept, hold, reject, discard, defer"}},
		{"header_matches", "X-Spam: (unclosed", []string{"header_matches", "missing closing"}},
		{"header_matches", "no colon here", []string{"header_matches", "Header: regexp"}},
		{"bounce_matching_headers", "X-A: [", []string{"bounce_matching_headers"}},
		{"filter_types", "text/", []string{"filter_types", "MIME type"}},
		{"acceptable_aliases", "^dev(", []string{"acceptable_aliases"}},
		{"moderator_password", "short", []string{"moderator_password", "at least 8"}},
		{"moderate_first_posts", "-1", []string{"moderate_first_posts", "non-negative"}},
		{"emergency", "perhaps", []string{"emergency", "boolean"}},
		{"no_such_setting", "x", []string{"no_such_setting"}},
	}
	for _, c := range cases {
		s := DefaultSettings("dev")
		err := s.Set(c.key, c.value)
		if err == nil {
			t.Errorf("Set(%s=%q) accepted", c.key, c.value)
			continue
		}
		for _, w := range c.wantIn {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Set(%s=%q) error %q lacks %q", c.key, c.value, err, w)
			}
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("s3cret-pass")
	if !IsPasswordHash(h) || !CheckPassword(h, "s3cret-pass") {
		t.Fatalf("hash %q does not verify", h)
	}
	if CheckPassword(h, "s3cret-Pass") || CheckPassword(h, "") || CheckPassword("", "x") {
		t.Errorf("wrong password verified")
	}
	if h2 := HashPassword("s3cret-pass"); h2 == h {
		t.Errorf("two hashes of one password are equal (no salt)")
	}
	hostile := "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
	if IsPasswordHash(hostile) || CheckPassword(hostile, "x") {
		t.Errorf("hash with absurd memory parameter accepted")
	}
}
