package address

import (
	"errors"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	lists := map[string]bool{"dev": true, "dev-request": true, "announce": true, "a.b_c": true, "x-owner": true}
	exists := func(l string) bool { return lists[l] }
	cases := []struct {
		name, local, list string
		alias             Alias
		ext               string
		wantErr           error
	}{
		{"post", "dev", "dev", Post, "", nil},
		{"request", "dev-request", "dev-request", Post, "", nil}, // a list by that name wins
		{"request of dev-request", "dev-request-request", "dev-request", Request, "", nil},
		{"join", "dev-join", "dev", Join, "", nil},
		{"subscribe", "dev-subscribe", "dev", Join, "", nil},
		{"leave", "dev-leave", "dev", Leave, "", nil},
		{"unsubscribe", "dev-unsubscribe", "dev", Leave, "", nil},
		{"owner", "dev-owner", "dev", Owner, "", nil},
		{"list named x-owner", "x-owner", "x-owner", Post, "", nil},
		{"owner of x-owner", "x-owner-owner", "x-owner", Owner, "", nil},
		{"bounces", "dev-bounces", "dev", Bounces, "", nil},
		{"verp bounce", "dev-bounces+bob=example.org", "dev", Bounces, "bob=example.org", nil},
		{"confirm token", "dev-confirm+0123abcd", "dev", Confirm, "0123abcd", nil},
		{"confirm no token", "dev-confirm", "dev", Confirm, "", nil},
		{"dots and underscores", "a.b_c-request", "a.b_c", Request, "", nil},
		{"unknown list", "nosuch", "", "", "", ErrUnknownAlias},
		{"unknown suffix", "dev-frob", "", "", "", ErrUnknownAlias},
		{"suffix of unknown list", "nosuch-request", "", "", "", ErrUnknownAlias},
		{"extension on post", "dev+tag", "", "", "", ErrUnknownAlias},
		{"extension on request", "dev-request+x", "", "", "", ErrUnknownAlias},
		{"bare suffix", "-request", "", "", "", ErrUnknownAlias},
		{"empty", "", "", "", "", ErrUnknownAlias},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			list, alias, ext, err := Split(c.local, exists)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if list != c.list || alias != c.alias || ext != c.ext {
				t.Errorf("Split(%q) = %q %q %q, want %q %q %q", c.local, list, alias, ext, c.list, c.alias, c.ext)
			}
		})
	}
}

func TestParse(t *testing.T) {
	valid := []struct{ in, local, domain string }{
		{"dev@lists.example.org", "dev", "lists.example.org"},
		{"<Dev@Lists.Example.ORG>", "dev", "lists.example.org"},
		{" alice+tag@example.com ", "alice+tag", "example.com"},
		{"x@example.org.", "x", "example.org"},
	}
	for _, c := range valid {
		l, d, err := Parse(c.in)
		if err != nil || l != c.local || d != c.domain {
			t.Errorf("Parse(%q) = %q %q %v", c.in, l, d, err)
		}
	}
	invalid := []string{"", "dev", "@example.org", "dev@", "a b@example.org", "dev@exa mple.org", "dev@-x.org", `"q"@example.org`, "a@b@c", ".x@example.org", "x@example..org"}
	for _, in := range invalid {
		if _, _, err := Parse(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) err = %v, want ErrSyntax", in, err)
		}
	}
}

func TestVERP(t *testing.T) {
	got := VERPEncode("dev", "lists.example.org", "Alice@Example.com")
	if got != "dev-bounces+alice=example.com@lists.example.org" {
		t.Fatalf("VERPEncode = %q", got)
	}
	cases := []struct {
		ext, want string
		ok        bool
	}{
		{"alice=example.com", "alice@example.com", true},
		{"a=b=example.com", "a=b@example.com", true},
		{"noequals", "", false},
		{"=example.com", "", false},
		{"alice=", "", false},
		{"alice=bad domain", "", false},
	}
	for _, c := range cases {
		got, ok := VERPDecode(c.ext)
		if got != c.want || ok != c.ok {
			t.Errorf("VERPDecode(%q) = %q %v, want %q %v", c.ext, got, ok, c.want, c.ok)
		}
	}
}

func TestValidListName(t *testing.T) {
	for _, n := range []string{"dev", "a.b", "x_y-z", "d3v"} {
		if !ValidListName(n) {
			t.Errorf("%q should be valid", n)
		}
	}
	for _, n := range []string{"", "-dev", "dev-", "d+v", "DEV", "a b", "dév"} {
		if ValidListName(n) {
			t.Errorf("%q should be invalid", n)
		}
	}
}

func FuzzAddressParse(f *testing.F) {
	for _, s := range []string{"dev@lists.example.org", "dev-bounces+a=b.c@x.org", "<x@y>", "@", "",
		"a@" + strings.Repeat("\u0130", 31) + ".org", "0@0\xaf\xaf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, d, err := Parse(s)
		if err != nil {
			return
		}
		n, err := Normalize(l + "@" + d)
		if err != nil || n != l+"@"+d {
			t.Fatalf("normalized form of %q does not round-trip: %q %v", s, n, err)
		}
		exists := func(string) bool { return true }
		if list, _, _, err := Split(l, exists); err == nil && list == "" {
			t.Fatalf("Split(%q) returned empty list without error", l)
		}
		if a, ok := VERPDecode(l); ok {
			if _, err := Normalize(a); err != nil {
				t.Fatalf("VERPDecode(%q) = %q not normalized", l, a)
			}
		}
	})
}
