package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"

	"herald/internal/mime"
)

func TestSenders(t *testing.T) {
	raw := "From: Alice <Alice@Example.COM>, bob@example.net\r\nSender: list-bot@example.org\r\nReply-To: carol@example.org\r\n\r\nx"
	msg, err := mime.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		headers []string
		env     string
		want    []string
	}{
		{nil, "Bounce@Example.com", []string{"alice@example.com", "bob@example.net", "bounce@example.com"}},
		{[]string{"from"}, "x@example.com", []string{"alice@example.com", "bob@example.net"}},
		{[]string{"envelope", "from"}, "ALICE@example.com", []string{"alice@example.com", "bob@example.net"}},
		{[]string{"from", "envelope", "sender", "reply-to"}, "", []string{"alice@example.com", "bob@example.net", "list-bot@example.org", "carol@example.org"}},
		{[]string{"from", "envelope"}, "not an address", []string{"alice@example.com", "bob@example.net"}},
	}
	for _, c := range cases {
		if got := Senders(msg, c.env, c.headers); !slices.Equal(got, c.want) {
			t.Errorf("Senders(%v, %q) = %v, want %v", c.headers, c.env, got, c.want)
		}
	}
}

type countingDMARC struct {
	n   int
	err error
}

func (c *countingDMARC) Policy(context.Context, string) (string, error) {
	c.n++
	return "reject", c.err
}

func TestAuthorPolicyMemo(t *testing.T) {
	msg, _ := mime.Parse([]byte("From: a@strict.example\r\n\r\nx"))
	d := &countingDMARC{}
	m := &Message{Msg: msg, DMARC: d}
	for range 3 {
		if p, err := m.AuthorPolicy(t.Context()); p != "reject" || err != nil {
			t.Fatalf("AuthorPolicy = %q, %v", p, err)
		}
	}
	if d.n != 1 {
		t.Errorf("%d lookups for one message", d.n)
	}
	failing := &countingDMARC{err: errors.New("timeout")}
	m = &Message{Msg: msg, DMARC: failing}
	for range 2 {
		if _, err := m.AuthorPolicy(t.Context()); err == nil {
			t.Fatal("lookup error lost")
		}
	}
	if failing.n != 1 {
		t.Errorf("%d lookups after a failure", failing.n)
	}
	m = &Message{Msg: msg}
	if p, err := m.AuthorPolicy(t.Context()); p != "" || err != nil {
		t.Errorf("no lookup: %q, %v", p, err)
	}
}
