package handlers

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// hostile returns messages built to hurt a MIME rewriter.
func hostile() map[string]string {
	const head = "From: x@example.com\r\nTo: dev@lists.example.org\r\nSubject: hostile\r\nMessage-ID: <h@example.com>\r\nMIME-Version: 1.0\r\n"
	var many strings.Builder
	many.WriteString(head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := range 100000 {
		fmt.Fprintf(&many, "--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	many.WriteString("--b--\r\n")
	var deep strings.Builder
	deep.WriteString(head)
	for i := range 5000 {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=d%d\r\n\r\n--d%d\r\n", i, i)
	}
	deep.WriteString("Content-Type: text/plain\r\n\r\nbottom\r\n")
	var rfc822 strings.Builder
	rfc822.WriteString(head)
	for range 2000 {
		rfc822.WriteString("Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n")
	}
	rfc822.WriteString("\r\nbottom\r\n")
	return map[string]string{
		"100k parts":          many.String(),
		"deep multipart":      deep.String(),
		"deep rfc822":         rfc822.String(),
		"long header line":    head + "X-Long: " + strings.Repeat("a", 90<<10) + "\r\n\r\nbody\r\n",
		"long body line":      head + "Content-Type: text/plain\r\n\r\n" + strings.Repeat("b", 1<<20) + "\r\n",
		"unknown charset":     head + "Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xff\xfe caf\xe9\r\n",
		"utf-16 charset":      head + "Content-Type: text/plain; charset=utf-16\r\n\r\n\xff\xfeh\x00i\x00\r\n",
		"invalid utf-8":       head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80\r\n",
		"unclosed multipart":  head + "Content-Type: multipart/mixed; boundary=u\r\n\r\n--u\r\nContent-Type: text/html\r\n\r\n<p>open",
		"no delimiter":        head + "Content-Type: multipart/mixed; boundary=zzz\r\n\r\njust text\r\n",
		"empty boundary":      head + "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
		"bad base64":          head + "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64===\r\n",
		"bad qp":              head + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=4\r\n",
		"part without header": head + "Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\nno header\r\n--p\r\nbroken header line\r\n\r\nx\r\n--p--\r\n",
		"nul bytes":           head + "Content-Type: text/plain\r\n\r\n\x00\x00approved: secret-password\x00\r\n",
		"bare LF and CR":      strings.ReplaceAll(head, "\r\n", "\n") + "Content-Type: multipart/alternative; boundary=q\n\n--q\rContent-Type: text/plain\n\nx\n--q--\n",
	}
}

// hostileSettings turn on every rewriting handler.
func hostileSettings(s *store.Settings) {
	s.FilterContent = true
	s.FilterTypes = []string{"image"}
	s.FilterExtensions = []string{"exe"}
	s.ConvertHTMLToPlaintext = true
	s.Footer = "-- \nfooter ü"
	s.Header = "header"
	s.DMARCMitigateAction = "wrap_message"
	s.DMARCMitigateUnconditionally = true
	s.ReplyGoesToList = "point_to_list"
	s.SubjectPrefix = "[dev %d] "
}

// TestHostileInput runs every handler over hostile messages: no panic,
// bounded time, and either success (the output parses) or an error that
// says the structure is past a limit or malformed (the post runner
// shunts those with the reason) or a content filter Stop.
func TestHostileInput(t *testing.T) {
	for name, raw := range hostile() {
		t.Run(name, func(t *testing.T) {
			msg, err := mime.Parse([]byte(raw))
			if err != nil {
				if !errors.Is(err, mime.ErrLimit) && !errors.Is(err, mime.ErrMalformed) {
					t.Fatalf("parse: unclassified error %v", err)
				}
				return // the post runner shunts it before any handler
			}
			_ = msg
			m := newPost(t, []byte(raw), hostileSettings)
			m.SetMeta(pipeline.MetaApprovedPassword, "secret-password")
			start := time.Now()
			err = New(Options{BaseURL: "https://lists.example.org"}).Run(t.Context(), m)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			_, stop := pipeline.AsStop(err)
			switch {
			case err == nil:
				if _, perr := mime.Parse(m.Msg.Bytes()); perr != nil {
					t.Errorf("output does not parse: %v", perr)
				}
			case stop:
			case errors.Is(err, mime.ErrLimit), errors.Is(err, mime.ErrMalformed):
				t.Logf("refused: %v", err)
			default:
				t.Errorf("unclassified error: %v", err)
			}
		})
	}
}

// FuzzRewrite feeds arbitrary messages through every rewriting handler
// with the settings that exercise them most. Seeds: the testdata
// messages, the hostile ones above, and testdata/fuzz/FuzzRewrite.
func FuzzRewrite(f *testing.F) {
	for _, name := range []string{"plain.eml", "latin1-qp.eml", "alternative.eml", "mixed.eml", "signed.eml",
		"flowed.eml", "html-only.eml", "approved-body.eml", "utf8-subject.eml"} {
		m := loadPost(f, name, nil)
		f.Add(m.Msg.Bytes())
	}
	for name, raw := range hostile() {
		if len(raw) < 4096 {
			f.Add([]byte(raw))
		} else {
			_ = name // too big to be a useful seed
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := mime.Parse(raw); err != nil {
			return
		}
		m := newPost(t, raw, hostileSettings)
		m.SetMeta(pipeline.MetaApprovedPassword, "secret-password")
		err := New(Options{BaseURL: "https://lists.example.org"}).Run(t.Context(), m)
		if _, stop := pipeline.AsStop(err); err != nil && !stop && !errors.Is(err, mime.ErrLimit) && !errors.Is(err, mime.ErrMalformed) {
			t.Fatalf("unclassified error: %v", err)
		}
		if err == nil {
			if _, perr := mime.Parse(m.Msg.Bytes()); perr != nil {
				t.Fatalf("output does not parse: %v", perr)
			}
		}
	})
}
