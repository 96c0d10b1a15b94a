package bounce

import "strings"

// Lotus (HCL) Domino: "Your message ... was not delivered to: ADDRESSES
// because: REASON", with a subject like "DELIVERY FAILURE: User bob
// (bob@example.net) not listed in Domino Directory".

// detectDomino recognizes Domino notices.
func detectDomino(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	i := n.phraseLine(0, "was not delivered to:", "has not been delivered to:", "was not delivered to")
	if i < 0 {
		return nil, false
	}
	j := n.phraseLine(i+1, "because:")
	if j < 0 {
		return nil, false
	}
	var es []entry
	for _, l := range n.lines[i+1 : j] {
		for _, a := range findAddrs(l) {
			es = append(es, entry{addr: a})
		}
	}
	reason := strings.Join(n.lines[j:], "\n") + "\n" + n.subject
	for k := range es {
		es[k].text = reason
	}
	subj := lower(n.subject)
	final := !strings.Contains(subj, "delay") && !strings.Contains(lower(n.lines[i]), "has not been delivered")
	fs := findings(es, nil, final)
	return fs, len(fs) > 0
}
