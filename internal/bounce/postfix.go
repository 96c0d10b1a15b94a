package bounce

// Postfix text notices: "This is the mail system at host ..." (the human
// part of its DSN, and what remains when the report part is lost) and the
// older "This is the Postfix program at host ...". Each recipient is a
// paragraph "<addr>: reason" or "<addr> (expanded from <orig>): reason".

// detectPostfix recognizes Postfix failure, delay and success reports.
func detectPostfix(n *notice) ([]finding, bool) {
	if !n.mailer || !containsAny(n.flat, []string{"this is the mail system at host", "this is the postfix program at host"}) {
		return nil, false
	}
	final := !containsAny(n.flat, []string{"this is a warning only", "could not be delivered for more than", "delayed mail"})
	if containsAny(n.flat, []string{"was successfully delivered", "successful mail delivery report", "delivery status notification"}) &&
		!containsAny(n.flat, []string{"could not be delivered", "could not be sent"}) {
		return nil, true // a success (NOTIFY=SUCCESS) report
	}
	fs := findings(angleEntries(n.lines), nil, final)
	return fs, len(fs) > 0
}
