package bounce

// The Courier mail server: "This is a delivery status notification from
// HOST, running the Courier mail server", "UNDELIVERABLE MAIL" or
// "DELAYED MAIL", and "<addr>:" paragraphs with the SMTP dialogue.

// detectCourier recognizes Courier notices.
func detectCourier(n *notice) ([]finding, bool) {
	if !n.mailer || !containsAny(n.flat, []string{"running the courier mail server", "courier mail server"}) {
		return nil, false
	}
	final := !containsAny(n.flat, []string{"delayed mail", "has not been delivered yet", "not been delivered yet"})
	fs := findings(angleEntries(n.lines), nil, final)
	return fs, len(fs) > 0
}
