package pipeline

import (
	"context"
	"errors"
	"strings"

	"herald/internal/address"
	"herald/internal/mime"
)

// DefaultSenderHeaders are the identities checked when a list names none:
// From and the envelope sender. Mailman also accepts Reply-To and Sender,
// which lets a nonmember pass as a member by setting them.
var DefaultSenderHeaders = []string{"from", "envelope"}

// Senders returns the identities a post claims, normalized, without
// duplicates, in the order of headers ("from", "envelope", "reply-to",
// "sender"; empty means DefaultSenderHeaders).
func Senders(msg *mime.Message, envSender string, headers []string) []string {
	if len(headers) == 0 {
		headers = DefaultSenderHeaders
	}
	var out []string
	add := func(a string) {
		n, err := address.Normalize(a)
		if err != nil || n == "" {
			return
		}
		for _, x := range out {
			if x == n {
				return
			}
		}
		out = append(out, n)
	}
	for _, h := range headers {
		switch strings.ToLower(h) {
		case "envelope":
			add(envSender)
		case "from", "reply-to", "sender":
			for _, a := range mime.AddressList(msg.Header, h) {
				add(a)
			}
		}
	}
	return out
}

// Author returns the post's first From address, normalized, or "".
func (m *Message) Author() string {
	a, _, ok := mime.FirstAddress(m.Msg.Header, "From")
	if !ok {
		return ""
	}
	n, err := address.Normalize(a)
	if err != nil {
		return ""
	}
	return n
}

// errNoDMARC marks a message whose DMARC lookup failed before.
var errNoDMARC = errors.New("dmarc lookup failed")

// AuthorPolicy returns the DMARC policy of the author's domain ("" when
// none is published or there is no lookup), looked up once per message.
// An error means the policy is unknown (temporary DNS trouble).
func (m *Message) AuthorPolicy(ctx context.Context) (string, error) {
	if p, ok := m.Meta[MetaDMARCPolicy]; ok {
		return p, nil
	}
	if e, ok := m.Meta[MetaDMARCError]; ok {
		return "", errors.Join(errNoDMARC, errors.New(e))
	}
	author := m.Author()
	_, domain, ok := strings.Cut(author, "@")
	if m.DMARC == nil || !ok {
		m.SetMeta(MetaDMARCPolicy, "")
		return "", nil
	}
	p, err := m.DMARC.Policy(ctx, domain)
	if err != nil {
		m.SetMeta(MetaDMARCError, err.Error())
		return "", err
	}
	m.SetMeta(MetaDMARCPolicy, p)
	return p, nil
}
