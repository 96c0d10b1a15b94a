package bounce

import (
	"html"
	"regexp"
	"strings"
)

// notice is a parsed message with what the detectors look at.
type notice struct {
	top          *entity
	subject      string          // decoded Subject
	fromAddr     string          // first address of From, normalized
	fromName     string          // From as decoded text, lower-cased
	own          map[string]bool // addresses the notice was sent to or from: never the failed ones
	text         string          // human-readable text of the notice, not of returned content
	lines        []string        // text split into lines, up to where the returned message starts
	low          []string        // lines lower-cased, runs of white space made one space
	flat         string          // lines joined, lower-cased, runs of white space made one space
	mailer       bool            // the message comes from a mail system (see isFromMailer)
	strongMailer bool            // ... and says so by more than its subject
	bodyHead     string          // cache of body()
}

// newNotice prepares top for the detectors.
func newNotice(top *entity, envelopeRcpt string) *notice {
	n := &notice{top: top, own: map[string]bool{}}
	n.subject = decodeHeader(top.hdr.get("subject"))
	from := decodeHeader(top.hdr.get("from"))
	n.fromName = lower(from)
	n.fromAddr, _ = firstAddr(from)
	for _, name := range []string{"from", "sender", "to", "cc", "delivered-to", "x-original-to", "envelope-to", "reply-to"} {
		for _, v := range top.hdr.all(name) {
			for _, a := range findAddrs(v) {
				n.own[a] = true
			}
		}
	}
	if a, ok := normAddr(envelopeRcpt); ok {
		n.own[a] = true
	}
	n.text = noticeText(top)
	n.lines = cutReturned(strings.Split(strings.ReplaceAll(n.text, "\r", ""), "\n"))
	n.low = make([]string, len(n.lines))
	for i, l := range n.lines {
		if len(l) > maxLine {
			l = l[:maxLine] // no notice has lines this long; keeps the regexps cheap
			n.lines[i] = l
		}
		n.low[i] = collapse(lower(l))
	}
	n.flat = strings.Join(n.low, " ")
	n.mailer, n.strongMailer = n.isFromMailer()
	return n
}

// body returns the start of the notice text (up to the returned message),
// as one string: what describes a failure is near the top.
func (n *notice) body() string {
	if n.bodyHead == "" {
		b := strings.Join(n.lines[:min(len(n.lines), 400)], "\n")
		n.bodyHead = b[:min(len(b), 64<<10)]
	}
	return n.bodyHead
}

// noticeText returns the human-readable text of the message: its text/plain
// parts (text/html ones when there is no plain text), leaving out
// attached messages and the returned content of reports.
func noticeText(top *entity) string {
	var plain, htm []string
	size := 0
	top.walk(func(e *entity) {
		if e.returned || e.inMessage || len(e.children) > 0 || size > maxNoticeText {
			return
		}
		if d := lower(e.hdr.get("content-disposition")); strings.HasPrefix(d, "attachment") && e != top {
			return
		}
		switch e.mediaType {
		case "text/plain", "text/enriched", "text/x-plain", "text":
			t := e.text()
			size += len(t)
			plain = append(plain, t)
		case "text/html":
			t := htmlText(e.text())
			size += len(t)
			htm = append(htm, t)
		}
	})
	if len(plain) == 0 {
		plain = htm
	}
	s := strings.Join(plain, "\n\n")
	if len(s) > maxNoticeText {
		s = s[:maxNoticeText]
	}
	return s
}

var (
	htmlDropRE  = regexp.MustCompile(`(?is)<(style|script|head)\b.*?</(style|script|head)\s*>`)
	htmlBreakRE = regexp.MustCompile(`(?i)<(br|/p|p|/div|div|/tr|tr|/li|li|/h[1-6]|/table|hr)\b[^>]*>`)
	htmlTagRE   = regexp.MustCompile(`<[^>]*>`)
)

// htmlText turns HTML into plain text well enough to find phrases and
// addresses in it.
func htmlText(s string) string {
	s = htmlDropRE.ReplaceAllString(s, " ")
	s = htmlBreakRE.ReplaceAllString(s, "\n")
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	// The source's own line breaks are kept: detectors join lines where a
	// phrase may be wrapped.
	s = htmlTagRE.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// collapse replaces every run of white space by one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Lines that start the copy of the returned message inside a text notice.
// Everything from there on describes the original message, not the failure.
var returnedMarkers = []string{
	"this is a copy of the message", "this is a copy of your message", "this is a copy of the headers",
	"below this line is a copy of the message", "enclosed are the original headers",
	"original message follows", "original message headers", "-----original message-----",
	"----- original message -----", "------ original message ------", "unsent message follows",
	"returned mail follows", "returned message follows", "possibly truncated original message follows",
	"header of the original message", "original message header", "the original message was:",
	"headers of the original message", "message header follows", "ursprüngliche nachrichtenkopfzeilen",
	"en-têtes de message d'origine", "en-têtes du message d'origine", "encabezados de mensaje originales",
	"encabezados del mensaje original", "intestazioni messaggio originale", "intestazioni originali",
	"oorspronkelijke berichtkoppen", "cabeçalhos originais da mensagem", "cabeçalhos da mensagem original",
	"copy of the original message", "original message is attached", "original-message-follows",
}

// headerLineRE matches a line that starts the header of a copied message.
var headerLineRE = regexp.MustCompile(`(?i)^(received|return-path|dkim-signature|arc-seal|authentication-results|x-original-to|delivered-to|message-id):\s`)

// cutReturned returns lines up to the start of a copied original message.
func cutReturned(lines []string) []string {
	for i, l := range lines {
		t := lower(strings.TrimSpace(l))
		if t == "" {
			continue
		}
		if containsAny(t, returnedMarkers) || (i > 2 && headerLineRE.MatchString(l)) {
			return lines[:i]
		}
	}
	return lines
}

// replyPrefixRE matches the subject prefix of a reply or forward.
var replyPrefixRE = regexp.MustCompile(`(?i)^\s*(re|fw|fwd|aw|wg|tr|rv|sv|vs|antw|r|ref|enc)\s*(\[\d+\])?\s*:`)

// Words in a subject that say "non-delivery notice".
var bounceSubjectWords = []string{
	"undeliver", "undelivered", "delivery status notification", "delivery failure", "delivery failed",
	"mail delivery failed", "failure notice", "returned mail", "returned to sender", "non-delivery",
	"nondeliver", "not delivered", "could not be delivered", "delivery problem", "delivery notification",
	"message status - undeliverable", "delayed", "warning: could not send", "unzustellbar",
	"nicht zustellbar", "non remis", "non distribuable", "no se puede entregar", "no entregado",
	"non recapitabile", "onbestelbaar", "não entregue", "mail system error", "delivery incomplete",
	"address not found", "message not delivered", "delivery_failure", "delivery report",
}

// Words in a From display name that say "mail system".
var mailerNameWords = []string{
	"mail delivery", "mailer-daemon", "mailer daemon", "postmaster", "mail administrator",
	"system administrator", "microsoft outlook", "mail system", "delivery subsystem", "mail router",
	"e-mail-administrator", "messaging system",
}

// isFromMailer reports whether the message comes from a mail system rather
// than a person: null return path, mailer sender, report content type,
// X-Failed-Recipients, or a non-delivery subject that is neither a reply
// or forward nor written in a mail user agent. strong leaves the subject
// out.
func (n *notice) isFromMailer() (any, strong bool) {
	h := n.top.hdr
	switch {
	case strings.TrimSpace(h.get("return-path")) == "<>" || (h.has("return-path") && strings.TrimSpace(h.get("return-path")) == ""),
		n.fromAddr != "" && isMailerLocal(localPart(n.fromAddr)),
		containsAny(n.fromName, mailerNameWords),
		n.top.mediaType == "multipart/report",
		h.has("x-failed-recipients"):
		return true, true
	}
	return n.bounceSubject() && !h.has("user-agent") && !h.has("x-mailer"), false
}

// bounceSubject reports whether the subject reads like a non-delivery
// notice and not like a reply to or forward of one.
func (n *notice) bounceSubject() bool {
	return !replyPrefixRE.MatchString(n.subject) && containsAny(lower(n.subject), bounceSubjectWords)
}

// Phrases that mark a notice as a delay warning, not a failure.
var warningPhrases = []string{
	"this is a warning only", "this is a warning message only", "you do not need to resend",
	"has not yet been delivered", "have not yet been delivered", "delivery has been delayed",
	"has been delayed", "is delayed", "will continue to try", "will be retried", "will retry",
	"delivery attempts will continue", "message delayed", "delayed mail", "not been delivered yet",
	"verzögert", "retardée", "retrasado", "retrasó", "ritardato",
}

// isWarning reports whether the notice text reads as a delay warning.
func (n *notice) isWarning() bool {
	return containsAny(n.flat, warningPhrases) || strings.HasPrefix(lower(n.subject), "warning:") ||
		strings.Contains(lower(n.subject), "delayed")
}

// verpMember finds the member address encoded in a VERP recipient.
func (n *notice) verpMember(envelopeRcpt string, verp func(string) (string, bool)) (string, bool) {
	if verp == nil {
		verp = func(a string) (string, bool) { return DecodeVERP(a) }
	}
	var cands []string
	if strings.TrimSpace(envelopeRcpt) != "" {
		cands = append(cands, strings.Trim(strings.TrimSpace(envelopeRcpt), "<>"))
	}
	for _, name := range []string{"delivered-to", "envelope-to", "x-original-to", "to"} {
		for _, v := range n.top.hdr.all(name) {
			cands = append(cands, verpCandidates(v)...)
		}
	}
	for _, c := range cands {
		if m, ok := verp(c); ok && m != "" {
			return m, true
		}
	}
	return "", false
}
