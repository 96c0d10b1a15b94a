package bouncer

import (
	"regexp"
	"strings"
)

// maxDetail bounds the text kept with an event.
const maxDetail = 300

// detailScan bounds how much of a bounce is searched for its diagnostic.
const detailScan = 64 << 10

var (
	diagRE    = regexp.MustCompile(`(?im)^Diagnostic-Code:[ \t]*(?:smtp;)?[ \t]*(.+(?:\r?\n[ \t]+.+)*)`)
	statusRE  = regexp.MustCompile(`\b[245][0-9][0-9][ -][245]\.[0-9]{1,3}\.[0-9]{1,3}\b|\b[245]\.[0-9]{1,3}\.[0-9]{1,3}\b`)
	subjectRE = regexp.MustCompile(`(?im)^Subject:[ \t]*(.*)`)
	// blankLineRE ends a block of DSN fields.
	blankLineRE = regexp.MustCompile(`\r?\n\r?\n`)
)

// diagnostic returns the text of a bounce that best explains the failure
// of addr, for the event's Detail: the Diagnostic-Code of a DSN, else the
// first line naming addr with a status code, else the Subject. It reads at
// most the first 64 KiB, without decoding.
func diagnostic(msg []byte, addr string) string {
	if len(msg) > detailScan {
		msg = msg[:detailScan]
	}
	text := string(msg)
	// The Diagnostic-Code that follows the recipient's own DSN fields.
	if addr != "" {
		own := regexp.MustCompile(`(?i)recipient:[ \t]*rfc822;[ \t]*<?` + regexp.QuoteMeta(addr))
		if loc := own.FindStringIndex(text); loc != nil {
			block := text[loc[1]:]
			if end := blankLineRE.FindStringIndex(block); end != nil {
				block = block[:end[0]] // this recipient's fields only
			}
			if m := diagRE.FindStringSubmatch(block); m != nil {
				return clip(m[1])
			}
		}
	}
	if m := diagRE.FindStringSubmatch(text); m != nil {
		return clip(m[1])
	}
	for _, line := range strings.Split(text, "\n") {
		if addr != "" && strings.Contains(strings.ToLower(line), addr) && statusRE.MatchString(line) {
			return clip(line)
		}
	}
	if m := subjectRE.FindStringSubmatch(text); m != nil {
		return clip(m[1])
	}
	return ""
}

// clip unfolds s to one line of at most maxDetail bytes (on a rune
// boundary).
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// Policy classes: the kinds of policy rejection the circuit breaker tells
// apart. Bounces of one class in a burst have one cause at the list's
// side.
const (
	classBlocklist = "blocklist"
	classDMARC     = "dmarc"
	classAuth      = "authentication"
	classSpam      = "spam"
	classPolicy    = "policy"
)

// policyClass sorts a policy rejection by its text.
func policyClass(detail string) string {
	d := strings.ToLower(detail)
	switch {
	case containsAny(d, "dmarc"):
		return classDMARC
	case containsAny(d, "spamhaus", "spamcop", "barracuda", "sorbs", "blocklist", "blacklist", "block list",
		"black list", "dnsbl", "rbl", "blocked using", "listed", "reputation"):
		return classBlocklist
	case containsAny(d, "spf", "dkim", "authenticat"):
		return classAuth
	case containsAny(d, "spam", "junk", "content"):
		return classSpam
	}
	return classPolicy
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
