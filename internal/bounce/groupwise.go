package bounce

// Novell/Micro Focus GroupWise: "Message status - undeliverable" with
// "The message that you sent was undeliverable to the following:" or "The
// attached file had the following undeliverable recipient(s):", the
// recipients indented, one a line with the cause in parentheses.

// detectGroupWise recognizes GroupWise notices.
func detectGroupWise(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	i := n.phraseLine(0, "was undeliverable to the following", "undeliverable recipient(s):", "undeliverable recipients:")
	if i < 0 {
		return nil, false
	}
	fs := findings(listAfter(n.lines, i, 20), n.lines, true)
	return fs, len(fs) > 0
}
