package bounce

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Result is what Scan found in one message. Addresses are lower-cased,
// deduplicated and sorted; an address is never in both lists (a permanent
// failure wins).
type Result struct {
	// Permanent lists the addresses that failed permanently.
	Permanent []string
	// Temporary lists the addresses whose delivery was delayed or failed
	// for a transient reason.
	Temporary []string
	// Reasons gives the cause per address, where one could be told; nil
	// when nothing was found.
	Reasons map[string]Reason
	// Format names the detector that matched: "verp", "dsn", "exim",
	// "postfix", "qmail", "sendmail", "exchange", "gmail", "yahoo",
	// "smtpsvc", "domino", "groupwise", "courier" or "generic"; empty when
	// none did.
	Format string
}

// Empty reports whether r names no address.
func (r Result) Empty() bool {
	return len(r.Permanent) == 0 && len(r.Temporary) == 0
}

// Reason is the cause of a failure, as far as the notice tells it.
type Reason string

// The reasons a failure is classified into.
const (
	// ReasonUnknownUser: the mailbox does not exist, is gone or disabled
	// (x.1.1, x.1.2, x.1.6, x.1.10, x.2.1; "user unknown", "no such user").
	ReasonUnknownUser Reason = "unknown_user"
	// ReasonMailboxFull: the mailbox is over quota (x.2.2, "mailbox full").
	ReasonMailboxFull Reason = "mailbox_full"
	// ReasonPolicy: refused for policy (x.7.x; blocklists, spam, DMARC,
	// SPF, DKIM, reputation).
	ReasonPolicy Reason = "policy"
	// ReasonTooLarge: the message is too big (x.3.4, x.2.3).
	ReasonTooLarge Reason = "too_large"
	// ReasonTemporary: a transient failure without a more specific cause.
	ReasonTemporary Reason = "temporary"
	// ReasonOther: a permanent failure without a more specific cause.
	ReasonOther Reason = "other"
)

// ErrNotMessage is returned by Scan for input that is not a mail message
// at all: empty, or without a single header field.
var ErrNotMessage = errors.New("bounce: input is not a mail message")

// dontRecover lets tests see a panic instead of an error.
var dontRecover = false

// finding is one address as a detector reports it.
type finding struct {
	addr      string
	permanent bool
	reason    Reason
}

// detector recognizes one kind of notice. matched is true when the notice
// is of its kind, even if it names no failed address (a success report);
// later detectors are then not asked.
type detector struct {
	name string
	fn   func(n *notice) (fs []finding, matched bool)
}

// detectors in the order they are tried: the standard format first, then
// the text formats, most specific first.
var detectors = []detector{
	{"dsn", detectDSN},
	{"exim", detectExim},
	{"postfix", detectPostfix},
	{"qmail", detectQmail},
	{"yahoo", detectYahoo},
	{"sendmail", detectSendmail},
	{"exchange", detectExchange},
	{"gmail", detectGmail},
	{"smtpsvc", detectSMTPSVC},
	{"domino", detectDomino},
	{"groupwise", detectGroupWise},
	{"courier", detectCourier},
	{"generic", detectGeneric},
}

// Scan finds the addresses that a non-delivery notice reports as failed.
// It tries VERP (the To, Delivered-To, Envelope-To and X-Original-To
// headers, decoded with DecodeVERP), then RFC 3464 delivery status
// notifications, then the text formats of common MTAs. An auto-reply or an
// ordinary message yields an empty Result. The error is ErrNotMessage for
// input that is not a message; Scan never panics.
func Scan(msg []byte) (Result, error) {
	return ScanWithVERP(msg, "", nil)
}

// ScanWithVERP is Scan with the envelope recipient the message was
// delivered to and a VERP decoder. verp is called with each candidate
// recipient address, the envelope recipient first, then those in the
// Delivered-To, Envelope-To, X-Original-To and To headers, and returns the
// member address encoded in it; nil means DecodeVERP on the local part.
//
// When a VERP address decodes, the member is the only address reported;
// whether it failed permanently or temporarily is read from the notice
// (a delay warning is temporary; a notice in no known format counts as a
// permanent failure only when it comes from a mail system).
func ScanWithVERP(msg []byte, envelopeRcpt string, verp func(addr string) (member string, ok bool)) (res Result, err error) {
	if !dontRecover {
		defer func() {
			if r := recover(); r != nil {
				res, err = Result{}, fmt.Errorf("bounce: internal error: %v", r)
			}
		}()
	}
	top, ok := parseMessage(msg)
	if !ok {
		return Result{}, ErrNotMessage
	}
	n := newNotice(top, envelopeRcpt)
	if n.autoReply() {
		return Result{}, nil
	}
	fs, format, matched := n.detect()
	if member, ok := n.verpMember(envelopeRcpt, verp); ok {
		return verpResult(n, member, fs, matched), nil
	}
	var b builder
	for _, f := range fs {
		if !n.own[f.addr] && !isMailerLocal(localPart(f.addr)) {
			b.add(f)
		}
	}
	r := b.result()
	if !r.Empty() {
		r.Format = format
	}
	return r, nil
}

// detect runs the detectors in order; the first that matches decides.
func (n *notice) detect() ([]finding, string, bool) {
	for _, d := range detectors {
		if fs, ok := d.fn(n); ok {
			return fs, d.name, true
		}
	}
	return nil, "", false
}

// verpResult reports the VERP member, with the failure kind the notice
// tells.
func verpResult(n *notice, member string, fs []finding, matched bool) Result {
	addr, ok := normAddr(member)
	if !ok {
		return Result{}
	}
	var f finding
	switch {
	case matched && len(fs) == 0:
		return Result{} // a success report or a notice that names no failure
	case matched:
		f = fs[0]
		for _, g := range fs {
			if g.permanent {
				f = g
				break
			}
		}
	case !n.mailer:
		return Result{} // mail to a VERP address that is no notice at all
	default:
		c := scanCodes(n.body())
		perm := c.permanentFrom(!n.isWarning())
		f = finding{permanent: perm, reason: classify(c.enhanced, n.body(), perm)}
	}
	f.addr = addr
	var b builder
	b.add(f)
	r := b.result()
	r.Format = "verp"
	return r
}

// builder collects findings into a Result.
type builder struct {
	perm, temp map[string]Reason
}

// add records f; a permanent failure replaces a temporary one.
func (b *builder) add(f finding) {
	if f.addr == "" {
		return
	}
	if b.perm == nil {
		b.perm, b.temp = map[string]Reason{}, map[string]Reason{}
	}
	if f.reason == "" {
		f.reason = ReasonOther
		if !f.permanent {
			f.reason = ReasonTemporary
		}
	}
	if f.permanent {
		delete(b.temp, f.addr)
		if _, ok := b.perm[f.addr]; !ok || b.perm[f.addr] == ReasonOther {
			b.perm[f.addr] = f.reason
		}
		return
	}
	if _, ok := b.perm[f.addr]; ok {
		return
	}
	if _, ok := b.temp[f.addr]; !ok || b.temp[f.addr] == ReasonTemporary {
		b.temp[f.addr] = f.reason
	}
}

// result returns the sorted lists.
func (b *builder) result() Result {
	var r Result
	if len(b.perm)+len(b.temp) == 0 {
		return r
	}
	r.Reasons = map[string]Reason{}
	for a, why := range b.perm {
		r.Permanent = append(r.Permanent, a)
		r.Reasons[a] = why
	}
	for a, why := range b.temp {
		r.Temporary = append(r.Temporary, a)
		r.Reasons[a] = why
	}
	slices.Sort(r.Permanent)
	slices.Sort(r.Temporary)
	return r
}

// newFinding makes a finding for addr from the text that describes its
// failure. final says whether the notice reports a final failure (as
// opposed to a delay); the status codes in text can still make it
// temporary (see codes.permanentFrom). ok is false when the text reports a
// success (2.x.x codes only).
func newFinding(addr, text string, final bool) (finding, bool) {
	c := scanCodes(text)
	if c.success && !c.perm && !c.temp {
		return finding{}, false
	}
	perm := c.permanentFrom(final)
	return finding{addr: addr, permanent: perm, reason: classify(c.enhanced, text, perm)}, true
}

// lower is strings.ToLower, named for brevity in the detectors.
func lower(s string) string { return strings.ToLower(s) }
