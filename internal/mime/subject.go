package mime

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// replyMarkers matches a chain of reply markers at the start of a subject:
// "Re:", "RE :", "Re[2]:", "Re(2):", "AW:", "SV:", "VS:", "Antw:", "Odp:",
// "Ynt:", "Rif:" and the CJK "回复:"/"答复:"/"回覆:", with ASCII or
// full-width colons, repeated.
var replyMarkers = regexp.MustCompile(`(?i)^(?:(?:re|aw|sv|vs|antw|antwort|odp|ynt|rif|回复|答复|回覆)[ \t]*(?:\[\d+\]|\(\d+\))?[ \t]*[:：][ \t]*)+`)

// numberVerb matches a printf-style number in a subject prefix ("%d", "%05d").
var numberVerb = regexp.MustCompile(`%0?\d*d`)

const noSubject = "(no subject)"

// PrefixSubject returns the new raw Subject value for a list post: prefix
// ("[dev] ", or "[dev %d] " with the post number postID) added exactly once.
//
// It works on the decoded subject (RFC 2047, any charset). Every occurrence
// of the prefix, whatever its post number and letter case, is removed; then
// a leading chain of reply markers ("Re:", "AW:", "SV:", "RE :", "Re[2]:", …)
// collapses into one "Re: " placed after the prefix. So "Re: [dev] Re: [dev]
// x" becomes "[dev] Re: x", and "Fwd: [dev] x" becomes "[dev] Fwd: x"
// (GNU Mailman 3 semantics). An empty subject becomes prefix + "(no subject)".
//
// If the result equals the decoded subject, raw is returned unchanged, with
// its original encoding; callers should Set the field only when the result
// differs from raw, so an already prefixed Subject keeps its bytes (DKIM).
// Otherwise the result is returned as plain text if it
// is ASCII and as EncodeWords output if not; it is unfolded, and Header.Set
// folds it. An empty or blank prefix returns raw unchanged.
func PrefixSubject(raw, prefix string, postID int) string {
	if strings.TrimSpace(prefix) == "" {
		return raw
	}
	decoded := toUTF8(DecodeWords(unfoldValue(raw)))

	s := prefixPattern(prefix).ReplaceAllString(decoded, "")
	s = strings.Trim(s, " \t")
	reply := ""
	if m := replyMarkers.FindString(s); m != "" {
		reply = "Re: "
		s = s[len(m):]
	}
	if s == "" {
		s = noSubject
	}
	out := strings.TrimRight(expandPrefix(prefix, postID), " \t") + " " + reply + s
	if out == decoded {
		return raw
	}
	return EncodeWords(out)
}

// prefixPatterns remembers compiled prefix patterns: a list's prefix is
// the same for every post, and compiling its pattern cost more than the
// rest of PrefixSubject. Past prefixPatternLimit prefixes it starts over.
var prefixPatterns struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

const prefixPatternLimit = 1024

// prefixPattern is compilePrefixPattern through prefixPatterns.
func prefixPattern(prefix string) *regexp.Regexp {
	prefixPatterns.mu.Lock()
	re := prefixPatterns.m[prefix]
	prefixPatterns.mu.Unlock()
	if re != nil {
		return re
	}
	re = compilePrefixPattern(prefix)
	prefixPatterns.mu.Lock()
	if prefixPatterns.m == nil || len(prefixPatterns.m) >= prefixPatternLimit {
		prefixPatterns.m = map[string]*regexp.Regexp{}
	}
	prefixPatterns.m[prefix] = re
	prefixPatterns.mu.Unlock()
	return re
}

// compilePrefixPattern matches the trimmed prefix, any number in place of
// its number verb, case-insensitively, with the blanks after it.
func compilePrefixPattern(prefix string) *regexp.Regexp {
	p := strings.TrimSpace(prefix)
	var b strings.Builder
	b.WriteString("(?i)")
	last := 0
	for _, loc := range numberVerb.FindAllStringIndex(p, -1) {
		b.WriteString(quotePrefix(p[last:loc[0]]))
		b.WriteString(`[ \t]*\d+[ \t]*`)
		last = loc[1]
	}
	b.WriteString(quotePrefix(p[last:]))
	b.WriteString(`[ \t]*`)
	return regexp.MustCompile(b.String()) // quoted: always compiles
}

// quotePrefix quotes literal prefix text for a pattern; "%%" stands for "%".
func quotePrefix(s string) string {
	return regexp.QuoteMeta(strings.ReplaceAll(s, "%%", "%"))
}

// expandPrefix puts postID in place of the prefix's number verbs, honouring
// width and zero padding ("%05d"); "%%" becomes "%".
func expandPrefix(prefix string, postID int) string {
	var b strings.Builder
	last := 0
	for _, loc := range numberVerb.FindAllStringIndex(prefix, -1) {
		b.WriteString(strings.ReplaceAll(prefix[last:loc[0]], "%%", "%"))
		verb := prefix[loc[0]+1 : loc[1]-1] // "05", "3" or ""
		n := strconv.Itoa(postID)
		if w, err := strconv.Atoi(verb); err == nil && w > len(n) && w <= 20 {
			pad := " "
			if verb[0] == '0' {
				pad = "0"
			}
			n = strings.Repeat(pad, w-len(n)) + n
		}
		b.WriteString(n)
		last = loc[1]
	}
	b.WriteString(strings.ReplaceAll(prefix[last:], "%%", "%"))
	return b.String()
}
