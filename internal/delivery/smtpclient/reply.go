package smtpclient

import (
	"fmt"
	"strings"
)

// Reply is one SMTP reply.
type Reply struct {
	// Code is the three-digit reply code; 0 means no reply was read (the
	// connection failed first, or the command was never sent).
	Code int
	// Enhanced is the RFC 3463 enhanced status code ("5.1.1"), if the
	// server sent one.
	Enhanced string
	// Text is the reply text without the codes; lines joined by "; ".
	Text string
}

// String renders the reply as "550 5.1.1 text".
func (r Reply) String() string {
	if r.Code == 0 {
		return "no reply"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Code)
	if r.Enhanced != "" {
		b.WriteString(" " + r.Enhanced)
	}
	if r.Text != "" {
		b.WriteString(" " + r.Text)
	}
	return b.String()
}

// Positive reports a 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Temporary reports a reply that is worth retrying: 4xx, no reply at all,
// and 552, which RFC 5321 §4.5.3.1.10 says to treat as temporary.
func (r Reply) Temporary() bool {
	return r.Code == 0 || r.Code/100 == 4 || r.Code == 552
}

// parseReply turns a reply's code and text lines (joined by "\n") into a
// Reply.
func parseReply(code int, msg string) Reply {
	lines := strings.Split(msg, "\n")
	r := Reply{Code: code}
	for i, l := range lines {
		if enh, rest, ok := cutEnhanced(l, code); ok {
			if i == 0 {
				r.Enhanced = enh
			}
			lines[i] = rest
		}
	}
	r.Text = strings.Join(lines, "; ")
	return r
}

// cutEnhanced splits "5.1.1 text" when the class matches the reply code.
func cutEnhanced(l string, code int) (enh, rest string, ok bool) {
	f, rest, _ := strings.Cut(l, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || int(parts[0][0]-'0') != code/100 {
		return "", l, false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return "", l, false
		}
	}
	return f, rest, true
}
