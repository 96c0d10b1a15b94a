package archive

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hmime "herald/internal/mime"
	"herald/internal/store"
)

func TestEntry(t *testing.T) {
	raw := []byte("From: =?utf-8?q?Ann_Caf=C3=A9?= <ann@example.com>\r\nSubject: Re: [dev]\r\n  folded subject\r\n" +
		"Date: Tue, 10 Mar 2026 09:00:00 +0100\r\nMessage-ID: <2@example.com> (comment)\r\n" +
		"References: <0@example.com>\r\n <1@example.com>\r\n\r\nbody\r\n")
	e := Entry(3, 7, raw)
	if e.ListID != 3 || e.PostID != 7 || e.MessageID != "<2@example.com>" || e.InReplyTo != "<1@example.com>" ||
		e.Subject != "Re: [dev] folded subject" || e.Sender != "Ann Café <ann@example.com>" ||
		!e.Date.Equal(time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)) || !bytes.Equal(e.Message, raw) {
		t.Errorf("Entry = %+v", e)
	}
	for _, tc := range []struct{ in, msgID, inReplyTo string }{
		{"Message-ID: bare@example.com\r\nIn-Reply-To: <a@x> <b@x>\r\n\r\n", "<bare@example.com>", "<a@x>"},
		{"Message-ID: two words\r\nDate: yesterday\r\n\r\n", "", ""},
		{"not a message", "", ""},
	} {
		e := Entry(1, 0, []byte(tc.in))
		if e.MessageID != tc.msgID || e.InReplyTo != tc.inReplyTo || !e.Date.IsZero() {
			t.Errorf("Entry(%q) = %q %q %v", tc.in, e.MessageID, e.InReplyTo, e.Date)
		}
	}
}

// roundTrip writes msgs as one mbox and reads it back.
func roundTrip(t *testing.T, msgs ...string) ([]string, string) {
	t.Helper()
	var mbox bytes.Buffer
	for _, m := range msgs {
		e := Entry(1, 0, []byte(m))
		if err := WriteMbox(&mbox, e); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := ReadMbox(bytes.NewReader(mbox.Bytes()), func(raw []byte) error {
		got = append(got, string(raw))
		return nil
	}); err != nil {
		t.Fatalf("ReadMbox: %v", err)
	}
	return got, mbox.String()
}

func TestMboxRoundTrip(t *testing.T) {
	hostile := "From: Bob <bob@example.net>\r\nSubject: froms\r\nDate: Tue, 10 Mar 2026 09:00:00 +0000\r\n\r\n" +
		"From the start of a line\r\n\r\nFrom after a blank line\r\n>From quoted once\r\n>>From quoted twice\r\n" +
		"From\r\n\r\n"
	plain := "Subject: two\r\n\r\nno Date, no From\r\n"
	got, mbox := roundTrip(t, hostile, plain)
	if len(got) != 2 || got[0] != hostile || got[1] != plain {
		t.Fatalf("round trip:\n%q\nwant\n%q", got, []string{hostile, plain})
	}
	for _, want := range []string{"From bob@example.net Tue Mar 10 09:00:00 2026\n", "\n>From the start", "\n>From after a blank",
		"\n>>From quoted once", "\n>>>From quoted twice", "\nFrom\n", "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"} {
		if !strings.Contains(mbox, want) {
			t.Errorf("mbox lacks %q:\n%s", want, mbox)
		}
	}
	if strings.Contains(mbox, "\r") {
		t.Error("mbox has CR line ends")
	}
	if got, _ := roundTrip(t, "Subject: no final newline\r\n\r\nlast"); len(got) != 1 || got[0] != "Subject: no final newline\r\n\r\nlast\r\n" {
		t.Errorf("no final newline: %q", got)
	}
}

func TestReadMbox(t *testing.T) {
	// An mboxo file (from a mail client): LF, and a body line "From "
	// that is not after a blank line is text.
	in := "\nFrom a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom here on, text\n\n" +
		"From b@x Mon Jan  1 00:00:01 2024\nSubject: two\n\n>From quoted\n"
	var got []string
	if err := ReadMbox(strings.NewReader(in), func(raw []byte) error { got = append(got, string(raw)); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"Subject: one\r\n\r\nbody\r\nFrom here on, text\r\n", "Subject: two\r\n\r\nFrom quoted\r\n"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ReadMbox = %q, want %q", got, want)
	}
	if err := ReadMbox(strings.NewReader("Subject: not an mbox\n\nx\n"), func([]byte) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "not an mbox") {
		t.Errorf("a plain message: %v", err)
	}
	n := 0
	if err := ReadMbox(strings.NewReader(""), func([]byte) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("empty input: %v, %d messages", err, n)
	}
}

// FuzzMboxRoundTrip: any message in wire form comes back from an mbox as
// written, in CRLF form, never split, merged or changed.
func FuzzMboxRoundTrip(f *testing.F) {
	f.Add([]byte("From: a@x\r\nSubject: s\r\n\r\nFrom x\r\n\r\nFrom y\r\n>From z\r\n"))
	f.Add([]byte("\n\nFrom \n"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
			t.Skip("a bare CR: not wire form (RFC 5322 allows CR only before LF), and mbox files have none")
		}
		var mbox bytes.Buffer
		e := &store.ArchivedMessage{Sender: "a@x", Message: msg}
		if err := WriteMbox(&mbox, e); err != nil {
			t.Fatal(err)
		}
		if err := WriteMbox(&mbox, e); err != nil {
			t.Fatal(err)
		}
		// The archive keeps CRLF wire form, ending in a line end.
		whole := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\n")) {
			whole = append(bytes.Clone(msg), '\n')
		}
		want := hmime.CRLF(whole)
		var got [][]byte
		if err := ReadMbox(&mbox, func(raw []byte) error { got = append(got, raw); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !bytes.Equal(got[0], want) || !bytes.Equal(got[1], want) {
			t.Fatalf("round trip of %q: %q", msg, got)
		}
	})
}
