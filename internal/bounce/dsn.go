package bounce

import (
	"strconv"
	"strings"
)

// RFC 3464 delivery status notifications and their RFC 6533 variant for
// internationalized addresses.

// isStatusType reports whether a media type carries delivery status fields.
func isStatusType(mt string) bool {
	switch mt {
	case "message/delivery-status", "message/global-delivery-status", "text/delivery-status":
		return true
	}
	return false
}

// detectDSN reads every delivery-status part of the message, at any
// nesting, except inside the returned content of a report. It matches when
// at least one per-recipient block with an action or a status was found.
func detectDSN(n *notice) ([]finding, bool) {
	var fs []finding
	matched := false
	var visit func(e *entity)
	visit = func(e *entity) {
		if e.returned {
			return
		}
		if len(e.children) == 0 && isStatusType(e.mediaType) {
			f, ok := parseDSN(strayFields(e.hdr) + e.text())
			fs, matched = append(fs, f...), matched || ok
		}
		// RFC 6522 §3: the second part of a delivery-status report is the
		// status, whatever (wrong) type a broken MTA labelled it with.
		if e.mediaType == "multipart/report" && len(e.children) >= 2 && isStatusType("message/"+lower(e.params["report-type"])) {
			if c := e.children[1]; len(c.children) == 0 && !isStatusType(c.mediaType) && strings.HasPrefix(c.mediaType, "text/") {
				f, ok := parseDSN(c.text())
				fs, matched = append(fs, f...), matched || ok
			}
		}
		for _, c := range e.children {
			visit(c)
		}
	}
	visit(n.top)
	return fs, matched
}

// strayFields returns the status fields that a part without a blank line
// after its Content-Type got parsed into its header, as text.
func strayFields(h header) string {
	var b strings.Builder
	for _, f := range h {
		if !strings.HasPrefix(f.name, "content-") && f.name != "mime-version" {
			b.WriteString(f.name + ": " + f.value + "\n")
		}
	}
	return b.String()
}

// parseDSN parses the fields of a delivery-status body (RFC 3464 §2.1):
// per-message fields, then groups of per-recipient fields, separated by
// blank lines. A group that repeats Final-Recipient without a blank line
// in between is split too. ok is true when a recipient group had an Action
// or a Status.
func parseDSN(body string) (fs []finding, ok bool) {
	var groups []header
	var cur header
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(cur) > 0 {
			if last := &cur[len(cur)-1]; len(last.value) < maxFieldLen {
				last.value += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		name = lower(strings.TrimSpace(name))
		if (name == "final-recipient" && cur.has("final-recipient")) || (name == "original-recipient" && cur.has("original-recipient")) {
			flush()
		}
		if len(groups) < maxParts {
			cur = append(cur, field{name: name, value: strings.TrimSpace(value)})
		}
	}
	flush()
	for _, g := range groups {
		if !g.has("final-recipient") && !g.has("original-recipient") {
			continue
		}
		f, failure, matched := recipientFinding(g)
		ok = ok || matched
		if failure {
			fs = append(fs, f) // an empty address still counts for VERP
		}
	}
	return fs, ok
}

// recipientFinding turns one per-recipient group into a finding. failure
// is false when the recipient did not fail (delivered, relayed, expanded);
// the address is empty when the group names none that is usable. matched
// is false when the group has neither Action nor Status.
func recipientFinding(g header) (f finding, failure, matched bool) {
	action := lower(strings.TrimSpace(g.get("action")))
	if i := strings.IndexAny(action, " \t;("); i >= 0 {
		action = action[:i]
	}
	class, code := statusClass(g.get("status"))
	diag := g.get("diagnostic-code")
	if action == "" && class == 0 {
		return finding{}, false, false
	}
	var final bool
	switch action {
	case "failed", "failure":
		final = true
	case "delayed":
		final = false
	case "delivered", "relayed", "expanded":
		return finding{}, false, true
	default:
		switch class {
		case '5':
			final = true
		case '4':
			final = false
		default:
			return finding{}, false, true
		}
	}
	// A catch-all status (Exim sends 5.0.0 for every failure, also when it
	// gave up on a "452 4.2.2") says less than the remote server's own
	// enhanced code in the diagnostic: that one decides then.
	if dc := scanCodes(diag); dc.enhanced != "" && (code == "" || strings.HasSuffix(code, ".0.0")) {
		class, code = dc.enhanced[0], dc.enhanced
	}
	var perm bool
	switch class {
	case '5', '2':
		perm = final
	case '4':
		perm = false
	default:
		perm = scanCodes(diag).permanentFrom(final)
	}
	addr := dsnAddress(g.get("original-recipient"), true)
	if addr == "" {
		addr = dsnAddress(g.get("final-recipient"), false)
	}
	if addr == "" {
		addr = dsnAddress(g.get("x-actual-recipient"), false)
	}
	return finding{addr: addr, permanent: perm, reason: classify(code, diag, perm)}, true, true
}

// dsnAddress extracts the address of a recipient field, "rfc822;a@b"
// (RFC 3464 §2.3.2) or "utf-8;a@b" (RFC 6533 §3). Original-Recipient keeps
// the xtext encoding of the ORCPT parameter (RFC 3461 §4.2), which is
// undone for "+" and "=".
func dsnAddress(v string, xtext bool) string {
	typ, addr, found := strings.Cut(v, ";")
	if !found {
		addr, typ = typ, "rfc822"
	}
	typ = lower(strings.TrimSpace(typ))
	switch typ {
	case "rfc822", "utf-8", "utf8", "unknown", "smtp", "internet":
	default:
		return ""
	}
	addr = strings.TrimSpace(addr)
	if typ == "utf-8" || typ == "utf8" {
		addr = decodeUnicodeEscapes(addr)
	}
	if xtext {
		for _, r := range [][2]string{{"+2B", "+"}, {"+2b", "+"}, {"+3D", "="}, {"+3d", "="}} {
			addr = strings.ReplaceAll(addr, r[0], r[1])
		}
	}
	// Some MTAs add a display name or comment; keep the address part.
	if a, ok := normAddr(addr); ok {
		return a
	}
	if a, ok := firstAddr(addr); ok {
		return a
	}
	return ""
}

// decodeUnicodeEscapes undoes the \x{HHHH} escapes of RFC 6533 §3
// (utf-8-addr-xtext and utf-8-addr-unitext).
func decodeUnicodeEscapes(s string) string {
	if !strings.Contains(s, `\x{`) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, `\x{`)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		r, err := strconv.ParseUint(s[i+3:i+j], 16, 32)
		b.WriteString(s[:i])
		if err != nil || r > 0x10ffff {
			b.WriteString(s[i : i+j+1])
		} else {
			b.WriteRune(rune(r))
		}
		s = s[i+j+1:]
	}
}
