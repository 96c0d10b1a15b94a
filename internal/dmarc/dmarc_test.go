package dmarc_test

import (
	"errors"
	"testing"
	"time"

	"herald/internal/dmarc"
	"herald/internal/dns"
	"herald/internal/testutil/dnsstub"
)

func TestLookup(t *testing.T) {
	stub, err := dnsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	stub.SetTXT("_dmarc.strict.example", "v=DMARC1; p=reject; rua=mailto:d@strict.example")
	stub.SetTXT("_dmarc.quar.example", "v=DMARC1;p=quarantine")
	stub.SetTXT("_dmarc.relaxed.example", "v=DMARC1; p=none")
	stub.SetTXT("_dmarc.org.example", "v=DMARC1; p=reject; sp=quarantine")
	stub.SetTXT("_dmarc.plain.example", "v=DMARC1; p=reject")
	stub.SetTXT("_dmarc.example.co.uk", "v=DMARC1; p=reject")
	stub.SetTXT("_dmarc.twice.example", "v=DMARC1; p=reject", "v=DMARC1; p=none")
	stub.SetTXT("_dmarc.junk.example", "spf1 stuff", "v=DMARC1; p=bogus")
	stub.SetTXT("_dmarc.other.example", "some verification string", "v=DMARC1; p=reject")
	stub.SetFail("_dmarc.down.example", true)
	c := dmarc.New(dns.New(dns.Options{Server: stub.Addr(), Timeout: time.Second}))

	cases := []struct {
		domain, policy, at string
		strict, temp       bool
	}{
		{"strict.example", "reject", "strict.example", true, false},
		{"STRICT.example.", "reject", "strict.example", true, false},
		{"quar.example", "quarantine", "quar.example", true, false},
		{"relaxed.example", "none", "relaxed.example", false, false},
		{"mail.org.example", "quarantine", "org.example", true, false},       // sp= for subdomains
		{"org.example", "reject", "org.example", true, false},                // p= for the domain itself
		{"lists.mail.plain.example", "reject", "plain.example", true, false}, // no sp=: p=
		{"mail.example.co.uk", "reject", "example.co.uk", true, false},       // public suffix list
		{"nothing.example", "", "", false, false},
		{"twice.example", "", "", false, false}, // two records: none applies
		{"junk.example", "", "", false, false},
		{"other.example", "reject", "other.example", true, false},
		{"co.uk", "", "", false, false},
		{"", "", "", false, false},
		{"down.example", "", "", false, true},
	}
	for _, tc := range cases {
		r, err := c.Lookup(t.Context(), tc.domain)
		if tc.temp != errors.Is(err, dmarc.ErrTemporary) || (!tc.temp && err != nil) {
			t.Errorf("%q: err %v, temporary want %v", tc.domain, err, tc.temp)
		}
		if r.Policy != tc.policy || r.PolicyDomain != tc.at || r.Strict() != tc.strict {
			t.Errorf("%q: %+v strict %v, want policy %q at %q strict %v", tc.domain, r, r.Strict(), tc.policy, tc.at, tc.strict)
		}
	}
}
