package bounce

// Yahoo and AOL (which runs on Yahoo's mail system): "Sorry, we were
// unable to deliver your message to the following address." and the
// older "Message from yahoo.com. Unable to deliver message to the
// following address(es).", each recipient a qmail-like "<addr>:"
// paragraph with "Remote host said: ...".

var yahooPhrases = []string{
	"sorry, we were unable to deliver your message to the following address",
	"unable to deliver message to the following address",
	"we were unable to deliver your message to the following",
}

// detectYahoo recognizes Yahoo/AOL notices.
func detectYahoo(n *notice) ([]finding, bool) {
	if !n.mailer || !containsAny(n.flat, yahooPhrases) {
		return nil, false
	}
	final := !containsAny(n.flat, []string{"will continue to try", "will be retried", "is delayed"})
	fs := findings(angleEntries(n.lines), nil, final)
	return fs, len(fs) > 0
}
