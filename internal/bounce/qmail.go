package bounce

// qmail's QSBMF (qmail-send bounce message format): "Hi. This is the
// qmail-send program at HOST.", then one paragraph per recipient starting
// with "<addr>:", then "--- Below this line is a copy of the message.".
// qmail only sends these when it has given up.

var qmailPhrases = []string{
	"this is the qmail-send program", "i'm afraid i wasn't able to deliver your message",
	"i wasn't able to deliver your message to the following addresses", "hi. this is the qmail",
	"this is the qmail program", "qmail-send program at",
}

// detectQmail recognizes QSBMF notices.
func detectQmail(n *notice) ([]finding, bool) {
	if !n.mailer || !containsAny(n.flat, qmailPhrases) {
		return nil, false
	}
	fs := findings(angleEntries(n.lines), nil, true)
	return fs, len(fs) > 0
}
