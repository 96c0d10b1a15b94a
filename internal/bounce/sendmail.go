package bounce

import (
	"regexp"
	"strings"
)

// Sendmail's notices ("Returned mail: see transcript for details"):
// "----- The following addresses had permanent fatal errors -----" (or
// "transient non-fatal errors" in a warning), the addresses one a line
// with "(reason: ...)" and "(expanded from: <orig>)" below, then
// "----- Transcript of session follows -----".

var sendmailExpandedRE = regexp.MustCompile(`(?i)\(expanded from:?\s*<?([^\s<>()]+@[^\s<>()]+)>?`)

// sendmailTranscriptRE matches a transcript line that refused an address:
// "550 5.1.1 <bob@example.net>... User unknown".
var sendmailTranscriptRE = regexp.MustCompile(`^(?:<<<\s*)?[45]\d\d[ -].*?<?([^\s<>]+@[^\s<>]+?)>?\.\.\.\s`)

// detectSendmail recognizes Sendmail failure notices and warnings.
func detectSendmail(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	var fs []finding
	for _, sec := range []struct {
		phrase string
		final  bool
	}{
		{"addresses had permanent fatal errors", true},
		{"address had permanent fatal errors", true},
		{"addresses had transient non-fatal errors", false},
		{"address had transient non-fatal errors", false},
	} {
		i := n.phraseLine(0, sec.phrase)
		if i < 0 {
			continue
		}
		fs = append(fs, findings(sendmailEntries(n.lines[i+1:]), n.lines, sec.final)...)
	}
	if len(fs) == 0 && strings.Contains(n.flat, "transcript of session follows") {
		var es []entry
		seen := map[string]bool{}
		for _, l := range n.lines {
			if m := sendmailTranscriptRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				if a, ok := normAddr(m[1]); ok && !seen[a] {
					seen[a] = true
					es = append(es, entry{addr: a, text: l})
				}
			}
		}
		fs = findings(es, n.lines, !n.isWarning())
	}
	return fs, len(fs) > 0
}

// sendmailEntries parses the address list below a section line, up to a
// blank line or the next "-----" section.
func sendmailEntries(lines []string) []entry {
	var out []entry
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			if len(out) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(t, "-----") {
			break
		}
		if strings.HasPrefix(t, "(") && len(out) > 0 {
			out[len(out)-1].add(t)
			if m := sendmailExpandedRE.FindStringSubmatch(t); m != nil {
				out[len(out)-1].orig, _ = normAddr(m[1])
			}
			continue
		}
		if a, ok := firstAddr(t); ok {
			out = append(out, entry{addr: a, text: t})
		}
	}
	return out
}
