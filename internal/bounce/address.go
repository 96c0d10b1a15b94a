package bounce

import (
	"regexp"
	"strings"
)

// addrRE finds something shaped like an address in free text: a dot-atom
// local part (RFC 5322 §3.4.1, UTF-8 allowed as in RFC 6531) and a domain
// of at least two labels or an address literal. It is deliberately
// conservative: quoted local parts are not found in text.
var addrRE = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~\x{80}-\x{10FFFF}-][A-Za-z0-9!#$%&'*+/=?^_{|}~.\x{80}-\x{10FFFF}-]*@(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\x{80}-\x{10FFFF}](?:[A-Za-z0-9\x{80}-\x{10FFFF}-]*[A-Za-z0-9\x{80}-\x{10FFFF}])?\.)+[A-Za-z\x{80}-\x{10FFFF}](?:[A-Za-z0-9\x{80}-\x{10FFFF}-]*[A-Za-z0-9\x{80}-\x{10FFFF}])?)`)

// findAddrs returns the normalized addresses in s, in order.
func findAddrs(s string) []string {
	if !strings.Contains(s, "@") {
		return nil
	}
	var out []string
	for _, m := range addrRE.FindAllString(s, 50) {
		if a, ok := normAddr(m); ok {
			out = append(out, a)
		}
	}
	return out
}

// firstAddr returns the first address in s.
func firstAddr(s string) (string, bool) {
	a := findAddrs(s)
	if len(a) == 0 {
		return "", false
	}
	return a[0], true
}

// normAddr cleans an address taken from a notice: surrounding brackets,
// quotes and dots go, the address is lower-cased, and it must have a local
// part and a domain with a dot (or an address literal).
func normAddr(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "<>\"' \t.,;:()")
	if strings.HasPrefix(strings.ToLower(s), "mailto:") {
		s = s[len("mailto:"):]
	}
	if len(s) < 3 || len(s) > 320 {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(local, "@ \t\r\n<>(),;:\\\"[]") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", false
	}
	if strings.ContainsAny(domain, " \t\r\n<>(),;\\\"") || strings.HasPrefix(domain, "[") != strings.HasSuffix(domain, "]") {
		return "", false
	}
	domain = strings.TrimSuffix(domain, ".")
	if !strings.HasPrefix(domain, "[") && (!strings.Contains(domain, ".") || strings.Contains(domain, "..")) {
		return "", false
	}
	return strings.ToLower(local + "@" + domain), true
}

// localPart returns the part of a normalized address before the last '@'.
func localPart(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i]
	}
	return a
}

// isMailerLocal reports whether a local part names a mail system rather
// than a person.
func isMailerLocal(local string) bool {
	switch strings.ToLower(local) {
	case "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "maildaemon", "postmaster", "mdaemon":
		return true
	}
	return false
}
