// Package notice composes the messages herald writes itself: moderator
// notices, rejections, confirmations, welcome and goodbye messages. Every
// notice is marked Auto-Submitted (RFC 3834) so well-behaved responders
// never answer it, and carries its own Date and Message-ID.
package notice

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"herald/internal/mime"
)

// Notice is a message to compose.
type Notice struct {
	From    string   // header From address
	To      []string // header To addresses
	Subject string   // UTF-8; encoded as needed
	Body    string   // UTF-8 plain text
	// AutoSubmitted is "auto-generated" (default) or "auto-replied".
	AutoSubmitted string
	InReplyTo     string
	// Attach, when set, is attached as message/rfc822.
	Attach []byte
	// Extra fields added as they are (name → value).
	Extra [][2]string
}

// MessageID returns a new Message-ID for domain.
func MessageID(domain string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// Compose renders n as an RFC 5322 message with CRLF line ends.
func Compose(n Notice, now time.Time) []byte {
	var b bytes.Buffer
	domain := "localhost"
	if i := strings.LastIndexByte(n.From, '@'); i >= 0 {
		domain = n.From[i+1:]
	}
	auto := n.AutoSubmitted
	if auto == "" {
		auto = "auto-generated"
	}
	field := func(name, value string) { b.WriteString(mime.FoldHeader(name, value)); b.WriteString("\r\n") }
	field("From", n.From)
	field("To", strings.Join(n.To, ", "))
	field("Subject", mime.EncodeWords(n.Subject))
	field("Date", now.Format(time.RFC1123Z))
	field("Message-ID", MessageID(domain))
	if n.InReplyTo != "" {
		field("In-Reply-To", n.InReplyTo)
		field("References", n.InReplyTo)
	}
	field("Auto-Submitted", auto)
	field("Precedence", "bulk")
	field("MIME-Version", "1.0")
	for _, kv := range n.Extra {
		field(kv[0], kv[1])
	}
	body := strings.ReplaceAll(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n", "\r\n")
	if len(n.Attach) == 0 {
		field("Content-Type", `text/plain; charset="utf-8"`)
		field("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.WriteString(body)
		return b.Bytes()
	}
	boundary := "herald-" + strings.Trim(MessageID("x")[1:17], "@")
	field("Content-Type", fmt.Sprintf(`multipart/mixed; boundary="%s"`, boundary))
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
	b.Write(n.Attach)
	if !bytes.HasSuffix(n.Attach, []byte("\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// IsAutomated reports whether a message must not be answered
// automatically (RFC 3834 §2: Auto-Submitted other than "no"; and the
// Precedence values bulk, junk and list, which mailing lists and
// responders use).
func IsAutomated(h *mime.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list":
		return true
	}
	return false
}
