// Package dmarc finds the DMARC policy (RFC 7489) that a mail From domain
// publishes, for the list's DMARC mitigations: the domain's own _dmarc
// record, else the record of its organizational domain (RFC 7489 §6.6.3,
// with the public suffix list), whose sp= applies to subdomains when set.
//
// go-msgauth parses the records; it does not fall back to the
// organizational domain, which is what this package adds. Lookups go
// through a dns.Resolver, so tests use a stub server and the server wires
// the configured, caching one.
package dmarc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"herald/internal/dns"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Policies, as published.
const (
	None       = "none"
	Quarantine = "quarantine"
	Reject     = "reject"
)

// Result is the policy that applies to a domain.
type Result struct {
	Domain       string // the From domain asked about
	PolicyDomain string // where the record was found ("" when none)
	Policy       string // none, quarantine, reject; "" without a record
}

// Strict reports whether the policy asks receivers to quarantine or
// reject failing mail, which list mail that rewrites posts will be.
func (r Result) Strict() bool { return r.Policy == Quarantine || r.Policy == Reject }

// ErrTemporary is wrapped by lookups that failed for a reason worth
// retrying (timeouts, SERVFAIL); the policy is unknown.
var ErrTemporary = errors.New("dmarc: temporary lookup failure")

// Checker looks policies up.
type Checker struct{ r dns.Resolver }

// New returns a Checker using r.
func New(r dns.Resolver) *Checker { return &Checker{r: r} }

// Lookup returns the policy for domain. No record anywhere is a Result
// with an empty Policy and no error; the error wraps ErrTemporary when the
// answer could not be had.
func (c *Checker) Lookup(ctx context.Context, domain string) (Result, error) {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	res := Result{Domain: domain}
	if domain == "" || strings.ContainsAny(domain, " \t[]") {
		return res, nil
	}
	rec, err := c.record(ctx, domain)
	if err != nil || rec != nil {
		if rec != nil {
			res.PolicyDomain, res.Policy = domain, string(rec.Policy)
		}
		return res, err
	}
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil || org == domain {
		return res, nil
	}
	rec, err = c.record(ctx, org)
	if rec != nil {
		res.PolicyDomain, res.Policy = org, string(rec.Policy)
		if rec.SubdomainPolicy != "" {
			res.Policy = string(rec.SubdomainPolicy)
		}
	}
	return res, err
}

// record returns the one valid DMARC record at _dmarc.domain, nil when
// there is none (or more than one: RFC 7489 §6.6.3 says to use none).
func (c *Checker) record(ctx context.Context, domain string) (*dmarc.Record, error) {
	txts, err := c.r.LookupTXT(ctx, "_dmarc."+domain)
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: _dmarc.%s: %w", ErrTemporary, domain, err)
	}
	var found *dmarc.Record
	n := 0
	for _, t := range txts {
		if !strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			continue
		}
		rec, err := dmarc.Parse(strings.TrimSpace(t))
		if err != nil {
			continue // a broken record is no record
		}
		found, n = rec, n+1
	}
	if n != 1 {
		return nil, nil
	}
	return found, nil
}

// Policy returns just the policy that applies to mail From domain ("" when
// none is published), for pipeline.DMARCLookup.
func (c *Checker) Policy(ctx context.Context, domain string) (string, error) {
	r, err := c.Lookup(ctx, domain)
	return r.Policy, err
}
