// Package archive keeps lists' archives: `herald archive import|export`
// move them in and out as mbox files (mboxrd, the form Mailman's
// pipermail and mailbox tools read), so an operator can bring a list's
// pipermail archive over. The post runner does not archive posts yet:
// storing each post in the database cost a third of end-to-end
// throughput as an insert on the post's path, and 28% through an archive
// queue and runner (bench/sustained.sh 15); the feed waits for a design
// that keeps message bytes out of the database (README, "Archives").
package archive

import (
	"bytes"
	"net/mail"
	"strings"
	"time"

	hmime "herald/internal/mime"
	"herald/internal/store"
)

// Entry returns the archive entry for message raw of list listID (post
// postID, 0 for an imported message): the header fields a listing and
// threading need, read best effort (a field that does not parse is
// left empty; a message with no usable Date gets the time it is archived).
func Entry(listID, postID int64, raw []byte) *store.ArchivedMessage {
	e := &store.ArchivedMessage{ListID: listID, PostID: postID, Message: raw}
	m, err := hmime.Parse(raw)
	if err != nil {
		return e
	}
	h := m.Header
	e.MessageID = firstID(h.Get("Message-ID"))
	e.InReplyTo = firstID(h.Get("In-Reply-To"))
	if e.InReplyTo == "" {
		if refs := strings.Fields(h.Get("References")); len(refs) > 0 {
			e.InReplyTo = firstID(refs[len(refs)-1])
		}
	}
	e.Subject = oneLine(hmime.DecodeWords(h.Get("Subject")))
	e.Sender = oneLine(hmime.DecodeWords(h.Get("From")))
	if d, err := mail.ParseDate(strings.TrimSpace(h.Get("Date"))); err == nil {
		e.Date = d.UTC()
	}
	return e
}

// firstID returns the first <id> in v, or "" (a Message-ID with no angle
// brackets is taken whole, trimmed, as some mailers write them).
func firstID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i : i+j+1]
		}
	}
	if v == "" || strings.ContainsAny(v, " \t") {
		return ""
	}
	return "<" + v + ">"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lf turns CRLF line ends into LF (mbox files use the local convention).
func lf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// fromLineDate is the date format of an mbox From_ line (asctime).
const fromLineDate = "Mon Jan _2 15:04:05 2006"

// fromLine is an mbox separator for e: "From sender date".
func fromLine(e *store.ArchivedMessage) string {
	sender := "MAILER-DAEMON"
	if a, err := mail.ParseAddress(e.Sender); err == nil && !strings.ContainsAny(a.Address, " \t") {
		sender = a.Address
	}
	date := e.Date
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	return "From " + sender + " " + date.UTC().Format(fromLineDate) + "\n"
}
