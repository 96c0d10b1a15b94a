package bounce

import (
	"regexp"
)

// Gmail's notices. The current ones ("** Address not found **", "Your
// message wasn't delivered to X because ...", "There was a temporary problem
// delivering your message to X") come inside a DSN; the older text-only
// ones list the addresses after "Delivery to the following recipient
// failed permanently:" or "... has been delayed:". The remote server's
// reply follows ("The response from the remote server was: 550 5.1.1 The
// email account that you tried to reach does not exist.").

var (
	gmailFailedRE  = regexp.MustCompile(`(?:your message wasn't delivered to|your message was not delivered to|there was a problem delivering your message to|your message to) <?(\S+@[^\s>]+?)>?[.,]?\s(?:because|see|has been blocked|couldn't|could not|was)`)
	gmailDelayedRE = regexp.MustCompile(`there was a temporary problem delivering your message to <?(\S+@[^\s>]+?)>?[.,]?\s`)
)

// detectGmail recognizes Gmail notices.
func detectGmail(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	var fs []finding
	if a := flatAddrs(n, gmailDelayedRE); len(a) > 0 {
		fs = append(fs, findings(entriesOf(a), n.lines, false)...)
	} else if a := flatAddrs(n, gmailFailedRE); len(a) > 0 {
		fs = append(fs, findings(entriesOf(a), n.lines, true)...)
	}
	// The list forms share their wording with SMTPSVC's: Gmail's name Google.
	if !containsAny(n.flat+" "+n.fromName, []string{"google", "gmail"}) {
		return fs, len(fs) > 0
	}
	if i := n.phraseLine(0, "delivery to the following recipient failed permanently", "delivery to the following recipients failed permanently"); i >= 0 {
		fs = append(fs, findings(listAfter(n.lines, i, 10), n.lines, true)...)
	}
	if i := n.phraseLine(0, "delivery to the following recipient has been delayed", "delivery to the following recipients has been delayed"); i >= 0 {
		fs = append(fs, findings(listAfter(n.lines, i, 10), n.lines, false)...)
	}
	return fs, len(fs) > 0
}
