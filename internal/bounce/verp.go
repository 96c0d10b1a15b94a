package bounce

import (
	"regexp"
	"strings"
)

// verpTag separates the list's bounce address from the encoded member.
const verpTag = "-bounces+"

// verpTagFold finds verpTag in any case. A regexp and not an index into
// strings.ToLower(local): lower-casing turns each byte that is not UTF-8
// into the three bytes of U+FFFD, which moved the index past the end of a
// hostile address.
var verpTagFold = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(verpTag))

// DecodeVERP decodes the member address from the local part of a VERP
// bounce address: "dev-bounces+alice=example.org" yields
// "alice@example.org". A whole address is accepted too; its domain is
// ignored. The member's domain is what follows the last "=", since a
// domain holds no "=" while a local part may. ok is false when local is not
// in that form. (internal/address owns the canonical codec; this one is
// kept small so that this package stays a leaf.)
func DecodeVERP(local string) (member string, ok bool) {
	local = strings.Trim(strings.TrimSpace(local), "<>")
	loc := verpTagFold.FindStringIndex(local)
	if loc == nil || loc[0] == 0 {
		return "", false
	}
	enc := local[loc[1]:]
	if at := strings.LastIndexByte(enc, '@'); at >= 0 {
		enc = enc[:at]
	}
	eq := strings.LastIndexByte(enc, '=')
	if eq <= 0 || eq == len(enc)-1 {
		return "", false
	}
	user, domain := enc[:eq], enc[eq+1:]
	if !validDomain(domain) || strings.ContainsAny(user, "@ \t<>()[],;:\\\"") {
		return "", false
	}
	return user + "@" + domain, true
}

// validDomain reports whether d is a plausible domain name with at least
// two labels (UTF-8 labels allowed).
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// verpCandidates returns the addresses in a header value, as written.
func verpCandidates(v string) []string {
	return addrRE.FindAllString(v, 20)
}
