package bounce

import "strings"

// The common wordings of notices in no format of their own: a headline
// such as "the following addresses failed" with the addresses below it,
// and single lines that name an address and a cause ("<bob@example.net>...
// User unknown"). Only notices from a mail system are read this way.

// genericFailed are headlines of lists of failed addresses.
var genericFailed = []string{
	"the following address(es) failed", "the following addresses failed", "the following address failed",
	"following recipient(s) could not be reached", "following recipients could not be reached",
	"could not be delivered to the following recipient", "could not be delivered to the following address",
	"delivery failed for the following recipient", "undeliverable to the following",
	"the following recipients could not be delivered", "permanent fatal delivery errors",
	"message could not be delivered to the following", "cannot be delivered to the following",
	"unable to deliver your message to the following", "failed to deliver to the following",
	"the following recipients failed", "invalid recipients:", "following recipients were rejected",
	"was not delivered to the following", "could not deliver the message to the following",
	"failed permanently:", "permanent error for the following", "your message could not be delivered to",
	"message could not be delivered to", "delivery failed for", "the following recipient(s) failed",
}

// genericDelayed are headlines of lists of delayed addresses.
var genericDelayed = []string{
	"has been delayed to the following", "has not yet been delivered to the following",
	"transient non-fatal errors", "could not yet be delivered", "temporary failure for the following",
	"delivery to the following recipients is delayed", "is delayed for the following",
	"delivery has been delayed for the following",
}

// genericCauseWords name a cause next to an address on one line.
var genericCauseWords = append(append([]string{}, unknownUserWords...), mailboxFullWords...)

// detectGeneric recognizes the common wordings.
func detectGeneric(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	warn := n.isWarning()
	if i := n.phraseLine(0, genericDelayed...); i >= 0 {
		if fs := genericList(n, i, false); len(fs) > 0 {
			return fs, true
		}
	}
	if i := n.phraseLine(0, genericFailed...); i >= 0 {
		if fs := genericList(n, i, !warn); len(fs) > 0 {
			return fs, true
		}
	}
	// Lines that name an address together with a cause and a status; a
	// person writing about bounces does the same, so the sender must be a
	// mail system by more than the subject.
	if !n.strongMailer {
		return nil, false
	}
	var es []entry
	seen := map[string]bool{}
	for _, l := range n.lines {
		t := lower(l)
		if !containsAny(t, genericCauseWords) {
			continue
		}
		c := scanCodes(l)
		if !c.perm && !c.temp && !strings.Contains(t, "...") && !strings.Contains(t, ": ") {
			continue
		}
		for _, a := range findAddrs(l) {
			if !seen[a] && !strings.HasPrefix(strings.TrimSpace(t), "mail from") {
				seen[a] = true
				es = append(es, entry{addr: a, text: l})
			}
		}
	}
	fs := findings(es, nil, !warn)
	return fs, len(fs) > 0
}

// genericCause reports whether text gives evidence of a delivery failure:
// a status code or a named cause. The wordings read here are common enough
// that a notice without either (phishing that poses as a bounce) is not
// trusted.
func genericCause(text string) bool {
	c := scanCodes(text)
	t := lower(text)
	return c.perm || c.temp || containsAny(t, genericCauseWords) || containsAny(t, tooLargeWords) || containsAny(t, policyWords)
}

// genericList reads the addresses listed after (or on) headline line i.
func genericList(n *notice, i int, final bool) []finding {
	es := listAfter(n.lines, i, 12)
	if len(es) == 0 {
		// "... could not be delivered to the following recipient: bob@x"
		for _, a := range findAddrs(n.lines[i]) {
			es = append(es, entry{addr: a, text: n.lines[i]})
		}
	}
	kept := es[:0]
	for _, e := range es {
		text := e.text
		if len(es) == 1 {
			text = n.body()
		}
		if genericCause(text) {
			kept = append(kept, e)
		}
	}
	return findings(kept, n.lines, final)
}
