package bounce

// The SMTP service of Windows (IIS SMTPSVC, Exchange 5.5/2000) and the
// many products that copied its wording: "This is an automatically
// generated Delivery Status Notification. Delivery to the following
// recipients failed." followed by the addresses, indented.

// detectSMTPSVC recognizes SMTPSVC-style notices.
func detectSMTPSVC(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	if i := n.phraseLine(0, "delivery to the following recipients failed", "delivery to the following recipient failed"); i >= 0 {
		fs := findings(listAfter(n.lines, i, 10), n.lines, true)
		return fs, len(fs) > 0
	}
	if i := n.phraseLine(0, "delivery to the following recipients has been delayed", "delivery to the following recipient has been delayed"); i >= 0 {
		fs := findings(listAfter(n.lines, i, 10), n.lines, false)
		return fs, len(fs) > 0
	}
	if containsAny(n.flat, []string{"delivery to the following recipients was successful", "delivery to the following recipient was successful"}) {
		return nil, true
	}
	return nil, false
}
