package bounce

import (
	"regexp"
	"strings"
)

// enhancedRE matches an RFC 3463 enhanced status code such as 5.1.1 (and the
// "#5.1.1" of qmail and Exchange).
var enhancedRE = regexp.MustCompile(`(?:^|[^0-9.])([245])\.(\d{1,3})\.(\d{1,3})(?:[^0-9.]|\.(?:\s|$)|$)`)

// replyRE matches a basic SMTP reply code (RFC 5321 §4.2) where it is
// presented as one: at the start of a line or after "said:", "<<<",
// "smtp;", "returned" and the like, followed by a space or a hyphen.
var replyRE = regexp.MustCompile(`(?im)(?:^|said:|<<<|smtp;|returned:?|error:|reply:|response:|responded:|#|\(reason:)\s*['"]?([245])[0-9][0-9](?:[ -]|$)`)

// codes holds the status classes seen in some text.
type codes struct {
	perm, temp, success bool
	enhanced            string // first enhanced status code seen, "5.1.1"
}

// scanCodes collects the status codes in s.
func scanCodes(s string) codes {
	var c codes
	ok2 := false
	for _, m := range enhancedRE.FindAllStringSubmatch(s, 20) {
		code := m[1] + "." + m[2] + "." + m[3]
		switch m[1] {
		case "5":
			c.perm = true
		case "4":
			c.temp = true
		case "2":
			ok2 = true
			continue
		}
		if c.enhanced == "" || (m[1] == "5" && c.enhanced[0] != '5') {
			c.enhanced = code
		}
	}
	for _, m := range replyRE.FindAllStringSubmatch(s, 20) {
		switch m[1] {
		case "5":
			c.perm = true
		case "4":
			c.temp = true
		case "2":
			c.success = ok2 // "250 2.0.0 Ok": both forms, to not take a version number for a status
		}
	}
	return c
}

// permanentFrom decides whether a failure that a notice reports as final
// is permanent: an explicit 4.x.x/4yz (and no 5) says the cause was
// transient (RFC 3463 §3.1 "persistent transient failure"), anything else
// is permanent.
func (c codes) permanentFrom(final bool) bool {
	if !final {
		return false
	}
	return c.perm || !c.temp
}

// statusClass parses an RFC 3464 Status value ("5.1.1 (bad mailbox)") and
// returns its class digit and the code, or 0 when it is not a status.
func statusClass(v string) (byte, string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	p := strings.Split(v, ".")
	if len(p) == 3 && len(p[0]) == 1 && strings.ContainsAny(p[0], "245") && allDigits(p[1]) && allDigits(p[2]) {
		return p[0][0], v
	}
	// Some MTAs put a basic reply code there ("550").
	if len(v) == 3 && allDigits(v) && strings.ContainsAny(v[:1], "245") {
		return v[0], ""
	}
	return 0, ""
}

func allDigits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Phrases that name the cause of a failure, checked against lower-cased
// text when the status code is not specific.
var (
	unknownUserWords = []string{
		"user unknown", "unknown user", "no such user", "no such mailbox", "unknown recipient",
		"recipient unknown", "does not exist", "doesn't exist", "not exist", "no mailbox here",
		"mailbox unavailable", "mailbox not found", "invalid recipient", "invalid mailbox",
		"recipient not found", "recipnotfound", "recipientnotfound", "address not found",
		"addressee unknown", "unrouteable address", "unknown address", "no such recipient",
		"account disabled", "account has been disabled", "account is disabled", "mailbox disabled",
		"not listed in domino directory", "not listed in public name", "user not found",
		"no longer active", "no longer valid", "inactive account", "account that you tried to reach",
		"couldn't be found", "wasn't found", "not found at", "benutzer unbekannt", "unbekannter empf",
		"existiert nicht", "utilisateur inconnu", "destinataire inconnu", "n'existe pas",
		"usuario desconocido", "destinatario desconocido", "no existe", "utente sconosciuto",
		"non esiste", "onbekende gebruiker", "bestaat niet", "recipient address rejected: access denied",
		"user doesn't have a", "doesn't have an account", "no account by that name", "mailbox has been deleted",
	}
	mailboxFullWords = []string{
		"mailbox full", "mailbox is full", "quota", "over quota", "insufficient storage",
		"exceeded storage", "mailbox size limit", "postfach voll", "speicherplatz", "boîte pleine",
		"boite pleine", "buzón lleno", "casella piena",
	}
	tooLargeWords = []string{
		"too large", "too big", "message size exceeds", "exceeds size limit", "size limit",
		"message length exceeds", "exceeds the maximum size", "zu groß", "trop volumineux",
	}
	policyWords = []string{
		"blocked", "blacklist", "blocklist", "block list", "spam", "dmarc", "spf", "dkim",
		"reputation", "policy", "rejected for policy", "not authorized", "access denied",
		"denied", "listed at", "listed on", "rbl", "spamhaus", "junk", "virus", "banned",
		"relay not permitted", "relaying denied", "authentication required",
	}
)

// classify names the reason of a failure from its enhanced status code
// (RFC 3463 §3) and, where the code is generic, from its text.
func classify(enhanced, text string, permanent bool) Reason {
	p := strings.Split(enhanced, ".")
	if len(p) == 3 {
		switch p[1] + "." + p[2] {
		case "1.1", "1.2", "1.6", "1.10", "2.1":
			return ReasonUnknownUser // bad mailbox or system, moved, null MX, disabled
		case "2.2":
			return ReasonMailboxFull
		case "2.3", "3.4":
			return ReasonTooLarge
		}
		if p[1] == "7" {
			return ReasonPolicy
		}
	}
	t := strings.ToLower(text)
	switch {
	case containsAny(t, mailboxFullWords):
		return ReasonMailboxFull
	case containsAny(t, tooLargeWords):
		return ReasonTooLarge
	case containsAny(t, unknownUserWords):
		return ReasonUnknownUser
	case containsAny(t, policyWords):
		return ReasonPolicy
	}
	if !permanent {
		return ReasonTemporary
	}
	return ReasonOther
}

// containsAny reports whether s contains one of words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
