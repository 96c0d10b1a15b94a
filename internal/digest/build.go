package digest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	hmime "herald/internal/mime"
	"herald/internal/notice"
	"herald/internal/pipeline/handlers"
	"herald/internal/store"
)

// Issue is one digest to build: the list, its number and its posts.
type Issue struct {
	List          *store.List
	Volume, Issue int
	Posts         []store.DigestMessage
	Date          time.Time

	posts []post // Posts parsed, once for both formats (parsed)
}

// parsed returns the posts as the digest shows them, parsing them on the
// first call: a list with both MIME and plain digest members needs both.
func (d *Issue) parsed() []post {
	if d.posts == nil {
		d.posts = make([]post, len(d.Posts))
		for i, p := range d.Posts {
			d.posts[i] = parsePost(p.Message)
		}
	}
	return d.posts
}

// title is "Dev Digest, Vol 3, Issue 12".
func (d *Issue) title() string {
	return fmt.Sprintf("%s Digest, Vol %d, Issue %d", d.List.Settings.DisplayName, d.Volume, d.Issue)
}

// vars are the template variables of digest_header and digest_footer.
func (d *Issue) vars() map[string]string { return handlers.ListTemplateVars(d.List) }

// masthead is the digest's opening text (Mailman's).
func (d *Issue) masthead() string {
	l := d.List
	var b strings.Builder
	if h := strings.TrimSpace(handlers.Expand(l.Settings.DigestHeader, d.vars())); h != "" {
		b.WriteString(h + "\n\n")
	}
	fmt.Fprintf(&b, "Send %s mailing list submissions to\n\t%s\n\n", l.Settings.DisplayName, l.Address())
	fmt.Fprintf(&b, "To subscribe or unsubscribe, send a message with subject or body 'help' to\n\t%s\n\n", l.SubAddress("request"))
	fmt.Fprintf(&b, "You can reach the person managing the list at\n\t%s\n\n", l.SubAddress("owner"))
	fmt.Fprintf(&b, "When replying, please edit your Subject line so it is more specific\nthan \"Re: Contents of %s digest...\"\n",
		l.Settings.DisplayName)
	return b.String()
}

// post is what a digest shows of one post.
type post struct {
	raw                            []byte
	subject, from, date, messageID string
	to, cc                         string
	text                           string // the plain-text rendering (RFC 1153 digests)
}

func parsePost(raw []byte) post {
	p := post{raw: raw, subject: "(no subject)"}
	m, err := hmime.Parse(raw)
	if err != nil {
		p.text = "[this message could not be read]"
		return p
	}
	h := m.Header
	if s := strings.TrimSpace(hmime.DecodeWords(h.Get("Subject"))); s != "" {
		p.subject = s
	}
	p.from = strings.TrimSpace(hmime.DecodeWords(h.Get("From")))
	p.date = strings.TrimSpace(h.Get("Date"))
	p.messageID = strings.TrimSpace(h.Get("Message-ID"))
	p.to = strings.TrimSpace(hmime.DecodeWords(h.Get("To")))
	p.cc = strings.TrimSpace(hmime.DecodeWords(h.Get("Cc")))
	p.text = hmime.TextBody(m)
	if p.text == "" {
		p.text = "[non-text content not shown: see the MIME digest or the archive]"
	}
	return p
}

// topics is the table of contents: "   1. Subject (Sender)".
func topics(posts []post) string {
	var b strings.Builder
	b.WriteString("Today's Topics:\n\n")
	for i, p := range posts {
		who := p.from
		if a, err := parseFrom(p.from); err == nil {
			who = a
		}
		if who = oneLine(who); who != "" {
			who = " (" + who + ")"
		}
		fmt.Fprintf(&b, "%4d. %s%s\n", i+1, oneLine(p.subject), who)
	}
	return b.String()
}

// parseFrom returns the display name of a From value, else its address.
func parseFrom(v string) (string, error) {
	h := hmime.NewHeader("\n")
	h.Add("From", v)
	addr, name, ok := hmime.FirstAddress(h, "From")
	if !ok {
		return "", fmt.Errorf("no address in %q", v)
	}
	if name != "" {
		return name, nil
	}
	return addr, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// headerFields are the digest's own header fields.
func (d *Issue) headerFields(ctype string) []string {
	l := d.List
	return []string{
		"From: " + l.SubAddress("request"),
		"To: " + l.Address(),
		hmime.FoldHeader("Subject", hmime.EncodeWords(d.title())),
		"Date: " + d.Date.Format(time.RFC1123Z),
		"Message-ID: " + notice.MessageID(l.Domain),
		"MIME-Version: 1.0",
		ctype,
		"List-Id: <" + l.Name + "." + l.Domain + ">",
		"List-Post: <mailto:" + l.Address() + ">",
		"List-Unsubscribe: <mailto:" + l.SubAddress("leave") + ">",
		"Precedence: list",
	}
}

// randomID makes MIME boundaries.
func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// crlf turns the parts' LF line ends (they are built with "\n") into CRLF.
func crlf(s string) string { return string(hmime.CRLF([]byte(s))) }

const textPart = "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n"

// MIME builds the digest for mime_digests members: a multipart/mixed of
// the masthead, the table of contents, a multipart/digest holding each
// post as it went to the list, and the footer.
func (d *Issue) MIME() []byte {
	posts := d.parsed()
	outer, inner := "digest-"+randomID(), "posts-"+randomID()
	var b bytes.Buffer
	for _, f := range d.headerFields("Content-Type: multipart/mixed; boundary=\"" + outer + "\"") {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	part := func(desc, text string) {
		b.WriteString("--" + outer + "\r\n" + textPart)
		b.WriteString("Content-Description: " + mime.QEncoding.Encode("utf-8", desc) + "\r\n\r\n")
		b.WriteString(crlf(text))
		if !strings.HasSuffix(text, "\n") {
			b.WriteString("\r\n")
		}
	}
	part(d.title(), d.masthead())
	part(fmt.Sprintf("Today's Topics (%d messages)", len(posts)), topics(posts))
	b.WriteString("--" + outer + "\r\nContent-Type: multipart/digest; boundary=\"" + inner + "\"\r\n\r\n")
	for _, p := range posts {
		b.WriteString("--" + inner + "\r\nContent-Type: message/rfc822\r\n\r\n")
		b.Write(p.raw)
		if !bytes.HasSuffix(p.raw, []byte("\n")) {
			b.WriteString("\r\n")
		}
	}
	b.WriteString("--" + inner + "--\r\n")
	part("Digest Footer", d.footer())
	b.WriteString("--" + outer + "--\r\n")
	return b.Bytes()
}

func (d *Issue) footer() string {
	var b strings.Builder
	if f := strings.TrimSpace(handlers.Expand(d.List.Settings.DigestFooter, d.vars())); f != "" {
		b.WriteString(f + "\n\n")
	}
	end := "End of " + d.title()
	b.WriteString(end + "\n" + strings.Repeat("*", len(end)) + "\n")
	return b.String()
}

// rfc1153Separator ends each message of a plain-text digest; the first
// one (70 dashes) ends the table of contents.
const rfc1153Separator = "------------------------------"

// Plain builds the RFC 1153 digest for plaintext_digests members: the
// masthead, the table of contents, then each post's main header fields
// and its text.
func (d *Issue) Plain() []byte {
	posts := d.parsed()
	var t strings.Builder
	t.WriteString(d.masthead() + "\n")
	t.WriteString(topics(posts) + "\n")
	t.WriteString(strings.Repeat("-", 70) + "\n\n")
	for i, p := range posts {
		fmt.Fprintf(&t, "Message: %d\n", i+1)
		for _, f := range []struct{ name, value string }{{"Date", p.date}, {"From", p.from}, {"To", p.to},
			{"Cc", p.cc}, {"Subject", p.subject}, {"Message-ID", p.messageID}} {
			if f.value != "" {
				fmt.Fprintf(&t, "%s: %s\n", f.name, oneLine(f.value))
			}
		}
		t.WriteString("\n" + escapeSeparators(strings.TrimRight(p.text, "\n")) + "\n\n" + rfc1153Separator + "\n\n")
	}
	t.WriteString("Subject: Digest Footer\n\n" + d.footer())
	var b bytes.Buffer
	for _, f := range d.headerFields("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit") {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n" + crlf(t.String()))
	return b.Bytes()
}

// escapeSeparators keeps a post's text from ending the message early: a
// line of exactly 30 dashes is what RFC 1153 readers split on.
func escapeSeparators(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.TrimRight(l, "\r") == rfc1153Separator {
			lines[i] = " " + l
		}
	}
	return strings.Join(lines, "\n")
}
