package bounce

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeVERP(t *testing.T) {
	valid := []struct{ name, in, want string }{
		{"plain", "dev-bounces+alice=example.org", "alice@example.org"},
		{"whole address", "dev-bounces+alice=example.org@lists.example.org", "alice@example.org"},
		{"angle brackets", "<dev-bounces+bob=mail.example.net@lists.example.org>", "bob@mail.example.net"},
		{"equals in local part", "dev-bounces+a=b=example.org", "a=b@example.org"},
		{"plus in local part", "dev-bounces+carol+tag=example.org", "carol+tag@example.org"},
		{"upper case tag", "Dev-Bounces+Dan=Example.org", "Dan@Example.org"},
		{"list with hyphen", "my-list-bounces+eve=example.co.uk", "eve@example.co.uk"},
		{"utf-8 domain", "dev-bounces+jörg=exämple.de", "jörg@exämple.de"},
		{"bytes not UTF-8 in the list name", "\x80d\xffev-Bounces+alice=example.org", "alice@example.org"},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			got, ok := DecodeVERP(c.in)
			if !ok || got != c.want {
				t.Errorf("DecodeVERP(%q) = %q, %v; want %q", c.in, got, ok, c.want)
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"no tag", "dev-bounces"},
		{"no list", "-bounces+alice=example.org"},
		{"no equals", "dev-bounces+alice"},
		{"empty local", "dev-bounces+=example.org"},
		{"empty domain", "dev-bounces+alice="},
		{"one label", "dev-bounces+alice=localhost"},
		{"bad domain", "dev-bounces+alice=exa_mple.org"},
		{"request address", "dev-request+alice=example.org"},
		{"empty", ""},
		{"bytes not UTF-8 before a tag at the end", "\x80\x80\x80\x80x-bounces+"},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			if got, ok := DecodeVERP(c.in); ok {
				t.Errorf("DecodeVERP(%q) = %q, true; want false", c.in, got)
			}
		})
	}
}

func TestScanNotMessage(t *testing.T) {
	for _, in := range []string{"", "\n\n", "   \r\n", "just some words\nand more", "\x00\x01\x02binary"} {
		if _, err := Scan([]byte(in)); !errors.Is(err, ErrNotMessage) {
			t.Errorf("Scan(%q) error %v, want ErrNotMessage", in, err)
		}
	}
	if _, err := Scan([]byte("Subject: x\n\nbody")); err != nil {
		t.Errorf("Scan of a minimal message: %v", err)
	}
}

const dsnForVERP = "From: MAILER-DAEMON@mx.example.net\nTo: %s\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; other@forward.example\nAction: %s\nStatus: %s\n\n--b--\n"

func TestScanWithVERP(t *testing.T) {
	msg := []byte(fmt.Sprintf(dsnForVERP, "dev-bounces@lists.example.org", "failed", "5.1.1"))
	var asked []string
	verp := func(a string) (string, bool) {
		asked = append(asked, a)
		if a == "dev-bounces+x1@lists.example.org" {
			return "Member@Example.org", true
		}
		return "", false
	}
	r, err := ScanWithVERP(msg, "<dev-bounces+x1@lists.example.org>", verp)
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "verp" || !slices.Equal(r.Permanent, []string{"member@example.org"}) || len(r.Temporary) != 0 {
		t.Errorf("got %+v", r)
	}
	if r.Reasons["member@example.org"] != ReasonUnknownUser {
		t.Errorf("reason %q", r.Reasons["member@example.org"])
	}
	if len(asked) == 0 || asked[0] != "dev-bounces+x1@lists.example.org" {
		t.Errorf("envelope recipient not asked first: %q", asked)
	}

	// Without a decoder the header is decoded with DecodeVERP; a delay stays temporary.
	msg = []byte(fmt.Sprintf(dsnForVERP, "dev-bounces+bob=example.net@lists.example.org", "delayed", "4.4.1"))
	r, _ = Scan(msg)
	if r.Format != "verp" || !slices.Equal(r.Temporary, []string{"bob@example.net"}) || len(r.Permanent) != 0 {
		t.Errorf("delay to VERP address: got %+v", r)
	}

	// A decoder that refuses everything: the DSN itself decides.
	r, _ = ScanWithVERP(msg, "", func(string) (string, bool) { return "", false })
	if r.Format != "dsn" || !slices.Equal(r.Temporary, []string{"other@forward.example"}) {
		t.Errorf("refusing decoder: got %+v", r)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		code, text string
		perm       bool
		want       Reason
	}{
		{"5.1.1", "", true, ReasonUnknownUser},
		{"5.1.10", "", true, ReasonUnknownUser},
		{"5.2.1", "account disabled", true, ReasonUnknownUser},
		{"5.2.2", "", true, ReasonMailboxFull},
		{"4.2.2", "", false, ReasonMailboxFull},
		{"5.3.4", "", true, ReasonTooLarge},
		{"5.7.1", "user unknown", true, ReasonPolicy},
		{"5.7.26", "unauthenticated email is not accepted due to DMARC", true, ReasonPolicy},
		{"5.0.0", "550 No such user here", true, ReasonUnknownUser},
		{"", "Mailbox is full", true, ReasonMailboxFull},
		{"", "blocked using zen.spamhaus.org", true, ReasonPolicy},
		{"", "message too large", true, ReasonTooLarge},
		{"4.4.1", "connection timed out", false, ReasonTemporary},
		{"5.4.0", "routing loop", true, ReasonOther},
	}
	for _, c := range cases {
		if got := classify(c.code, c.text, c.perm); got != c.want {
			t.Errorf("classify(%q, %q) = %q, want %q", c.code, c.text, got, c.want)
		}
	}
}

func TestNormAddr(t *testing.T) {
	good := map[string]string{
		"<Bob@Example.NET>":   "bob@example.net",
		"bob@example.net.":    "bob@example.net",
		"'bob@example.net'":   "bob@example.net",
		"mailto:x@example.io": "x@example.io",
		"a@[192.0.2.1]":       "a@[192.0.2.1]",
	}
	for in, want := range good {
		if got, ok := normAddr(in); !ok || got != want {
			t.Errorf("normAddr(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "bob", "bob@", "@example.net", "bob@localhost", "a b@example.net", "bob@exa..mple.net"} {
		if got, ok := normAddr(in); ok {
			t.Errorf("normAddr(%q) = %q, want failure", in, got)
		}
	}
}

// checkResult fails when r breaks the documented invariants.
func checkResult(t testing.TB, r Result) {
	t.Helper()
	for _, list := range [][]string{r.Permanent, r.Temporary} {
		if !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
			t.Fatalf("not sorted and unique: %q", list)
		}
		for _, a := range list {
			if a != strings.ToLower(a) || !strings.Contains(a, "@") {
				t.Fatalf("bad address %q", a)
			}
			if _, ok := r.Reasons[a]; !ok {
				t.Fatalf("no reason for %q", a)
			}
		}
	}
	for _, a := range r.Permanent {
		if slices.Contains(r.Temporary, a) {
			t.Fatalf("%q both permanent and temporary", a)
		}
	}
	if len(r.Reasons) != len(r.Permanent)+len(r.Temporary) {
		t.Fatalf("reasons %v do not match the lists", r.Reasons)
	}
	if r.Empty() != (r.Format == "") {
		t.Fatalf("format %q with result %+v", r.Format, r)
	}
}

// TestHostile feeds input built to be expensive or confusing; each must
// be handled quickly and without panicking.
func TestHostile(t *testing.T) {
	dontRecover = true
	bounceHead := "From: MAILER-DAEMON@mx.example.net\nTo: dev-bounces@lists.example.org\n"
	nested := func(depth int) []byte {
		var b bytes.Buffer
		b.WriteString(bounceHead)
		for i := range depth {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i)
		}
		b.WriteString("Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@example.net\nAction: failed\nStatus: 5.1.1\n")
		return b.Bytes()
	}
	manyParts := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bounceHead + "Content-Type: multipart/report; report-type=delivery-status; boundary=p\n\n")
		for range n {
			b.WriteString("--p\nContent-Type: text/plain\n\nx\n")
		}
		b.WriteString("--p--\n")
		return b.Bytes()
	}
	rfc822Chain := func(depth int) []byte {
		var b bytes.Buffer
		for range depth {
			b.WriteString("From: a@example.net\nContent-Type: message/rfc822\n\n")
		}
		b.WriteString("Subject: end\n\nbody\n")
		return b.Bytes()
	}
	cases := []struct {
		name string
		msg  []byte
		want []string // permanent
	}{
		{"huge header line", []byte(bounceHead + "Subject: " + strings.Repeat("x", 4<<20) + "\n\nbody\n"), nil},
		{"huge folded header", []byte(bounceHead + "X-Failed-Recipients: a@example.net," + strings.Repeat("\n b@example.net,", 200000/raceScale) + "\n\n"), []string{"a@example.net", "b@example.net"}},
		{"many header fields", []byte(strings.Repeat("X-A: b\n", 200000/raceScale) + bounceHead + "\nbody"), nil},
		{"deep nesting capped", nested(5000), nil},
		{"shallow nesting found", nested(5), []string{"deep@example.net"}},
		{"100k parts (10k under -race)", manyParts(100000 / raceScale), nil},
		{"message/rfc822 chain", rfc822Chain(10000), nil},
		{"no separator", []byte(bounceHead + "X-Failed-Recipients: ns@example.net"), []string{"ns@example.net"}},
		{"invalid charset", []byte(bounceHead + "Content-Type: text/plain; charset=\"\xff\xfe\"\nContent-Transfer-Encoding: base64\n\n!!!!\n"), nil},
		{"bad content type", []byte(bounceHead + "Content-Type: ;;;===\"\n\n<x@example.net>: 550 5.1.1 user unknown\n"), nil},
		{"boundary everywhere", []byte(bounceHead + "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n----\n"), nil},
		{"long address run", []byte(bounceHead + "\n" + strings.Repeat("a", 1<<20) + "@" + strings.Repeat("b.", 1<<18) + "com\n"), nil},
		{"many at signs", []byte(bounceHead + "\n" + strings.Repeat("@a.b ", 200000/raceScale)), nil},
		{"long qmail paragraph", []byte(bounceHead + "\nHi. This is the qmail-send program at x.\n<a@b.example>:\n" + strings.Repeat("more text (#5.1.1)\n", 400000/raceScale)), []string{"a@b.example"}},
		{"long exchange section", []byte(bounceHead + "\nDelivery has failed to these recipients or groups:\n" + strings.Repeat("u1@x.example\n#550 5.1.1 ##\nx\n", 100000/raceScale)), []string{"u1@x.example"}},
		{"many distinct addresses", []byte(bounceHead + "\nDelivery has failed to these recipients or groups:\n" + manyAddrs(50000/raceScale)), nil},
		{"failed header and big body", []byte(bounceHead + "X-Failed-Recipients: " + manyAddrs(60) + "\n\n" + strings.Repeat("user unknown quota 550 5.1.1 blah\n", 100000/raceScale)), nil},
		{"nul bytes", []byte(bounceHead + "\n\x00\x00<y@example.net>:\x00 550 5.1.1\n"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r, err := Scan(c.msg)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkResult(t, r)
			if c.want != nil && !slices.Equal(r.Permanent, c.want) {
				t.Errorf("permanent %q, want %q", r.Permanent, c.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			IsAutoReply(c.msg)
		})
	}
}

func TestCorpusInvariants(t *testing.T) {
	for _, c := range loadCorpus(t) {
		r, err := Scan(c.msg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkResult(t, r)
	}
}

// manyAddrs returns n distinct addresses, comma separated.
func manyAddrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "u%d@x.example, ", i)
	}
	return b.String()
}
