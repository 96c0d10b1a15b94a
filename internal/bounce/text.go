package bounce

import (
	"regexp"
	"strings"
)

// Helpers shared by the detectors of text notices.

// entry is one failed recipient as a text notice describes it: the
// address, the address it was generated or expanded from (if the notice
// says), and the lines about it.
type entry struct {
	addr, orig, text string
}

// Caps on what text notices yield: no notice describes one recipient in
// more than a few lines, nor lists thousands.
const (
	maxEntryText = 4 << 10
	maxEntries   = 500
)

// add appends line l to e's text, up to maxEntryText.
func (e *entry) add(l string) {
	if len(e.text) < maxEntryText {
		e.text += "\n" + l
	}
}

// target is the address to report: the one the list sent to, if the
// notice names it, else the one that failed.
func (e entry) target() string {
	if e.orig != "" {
		return e.orig
	}
	return e.addr
}

// phraseLine returns the index of the first line at or after from on
// which one of phrases ends (a phrase may be wrapped over two lines), or
// -1. phrases are lower-case with single spaces.
func (n *notice) phraseLine(from int, phrases ...string) int {
	for i := max(from, 0); i < len(n.low); i++ {
		if containsAny(n.low[i], phrases) {
			return i
		}
		if i+1 < len(n.low) && containsAny(n.low[i]+" "+n.low[i+1], phrases) {
			return i + 1
		}
	}
	return -1
}

// indent returns the width of the leading white space of l (a tab counts 8).
func indent(l string) int {
	n := 0
	for _, c := range l {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 8
		default:
			return n
		}
	}
	return n
}

// angleHeadRE matches the first line of a recipient paragraph in the qmail
// (QSBMF), Postfix, Courier and Yahoo notices: "<addr>:" at the start of a
// line, Postfix adding "(expanded from <orig>)".
var angleHeadRE = regexp.MustCompile(`(?i)^<([^<>\s]+@[^<>\s]+)>\s*(?:\(expanded from\s*<?([^<>\s()]+)>?\))?\s*:`)

// angleEntries returns the recipient paragraphs of lines. A paragraph ends
// at a blank line or at the next paragraph.
func angleEntries(lines []string) []entry {
	var out []entry
	cur := -1
	for _, l := range lines {
		if m := angleHeadRE.FindStringSubmatch(l); m != nil {
			a, ok := normAddr(m[1])
			if !ok {
				cur = -1
				continue
			}
			o, _ := normAddr(m[2])
			out = append(out, entry{addr: a, orig: o, text: l[len(m[0]):]})
			cur = len(out) - 1
			continue
		}
		if cur < 0 {
			continue
		}
		if strings.TrimSpace(l) == "" {
			cur = -1
			continue
		}
		out[cur].add(l)
	}
	return out
}

// listAfter collects the addresses listed after line i, one entry per line
// that holds an address, up to the first blank line after an address or
// after limit lines. Lines without an address are added to the entry above.
func listAfter(lines []string, i, limit int) []entry {
	var out []entry
	for j := i + 1; j < len(lines) && j <= i+limit; j++ {
		l := lines[j]
		if strings.TrimSpace(l) == "" {
			if len(out) > 0 {
				break
			}
			continue
		}
		if a, ok := firstAddr(l); ok {
			out = append(out, entry{addr: a, text: l})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].add(l)
		}
	}
	return out
}

// addrEntries splits lines into one entry per address: a line that names
// an address not seen before starts an entry, the following lines belong
// to it. skip drops lines (sender and header lines) before anything else;
// an address counts only on a line that accept approves.
func addrEntries(lines []string, skip func(l string) bool, accept func(l, addr string) bool) []entry {
	var out []entry
	seen := map[string]int{}
	cur := -1
	for _, l := range lines {
		if skip != nil && skip(l) {
			continue
		}
		newAddr := false
		for _, a := range findAddrs(l) {
			if _, ok := seen[a]; !ok && accept(l, a) {
				seen[a] = len(out)
				out = append(out, entry{addr: a, text: l})
				cur = len(out) - 1
				newAddr = true
			}
		}
		if !newAddr && cur >= 0 {
			out[cur].add(l)
		}
	}
	return out
}

// findings turns entries into findings. Where the notice holds a single
// recipient its whole body describes it; else lines elsewhere in body that
// name the address are added (a transcript, a diagnostic section).
func findings(es []entry, body []string, final bool) []finding {
	if len(es) > maxEntries {
		es = es[:maxEntries]
	}
	body = body[:min(len(body), 2000)]
	var low []string
	if len(es) > 1 {
		low = make([]string, len(body))
		for i, l := range body {
			low[i] = lower(l)
		}
	}
	var fs []finding
	for _, e := range es {
		text := e.text
		if len(es) == 1 {
			text += "\n" + strings.Join(body[:min(len(body), 200)], "\n")
		} else {
			for i, l := range body {
				if len(text) >= maxEntryText {
					break
				}
				if strings.Contains(low[i], e.addr) && !strings.Contains(e.text, l) {
					text += "\n" + l
				}
			}
		}
		if f, ok := newFinding(e.target(), text, final); ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// flatAddrs returns the addresses captured by group 1 of re in the
// notice's flattened text.
func flatAddrs(n *notice, re *regexp.Regexp) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(n.flat, 20) {
		if a, ok := normAddr(m[1]); ok {
			out = append(out, a)
		}
	}
	return out
}

// entriesOf makes one entry per address with no text of its own.
func entriesOf(addrs []string) []entry {
	es := make([]entry, 0, len(addrs))
	for _, a := range addrs {
		es = append(es, entry{addr: a})
	}
	return es
}
