package delivery

import (
	"context"
	"strings"
	"time"

	"herald/internal/delivery/smtpclient"
	"herald/internal/store"
)

// Failure is a recipient that could not be delivered: refused with a 5xx
// reply, or still failing temporarily when the retry period ran out.
type Failure struct {
	ListID       int64 // 0 when the entry's list is unknown
	List, Domain string
	Recipient    string
	// Reply is the SMTP reply or the reason.
	Reply    string
	Code     int
	Enhanced string
	// Reason is Classify's class of the reply.
	Reason string
	// Expired marks a temporary failure given up after the retry period.
	Expired bool
	At      time.Time
}

// FailureSink records permanent failures.
type FailureSink interface {
	RecordFailure(ctx context.Context, f Failure) error
}

// BounceSink records failures as store bounce events with Source "smtp",
// for bounce processing to score. Failures of mail without a list are
// dropped (there is no member to score).
type BounceSink struct {
	Store store.BounceEvents
}

var _ FailureSink = BounceSink{}

// RecordFailure implements FailureSink.
func (b BounceSink) RecordFailure(ctx context.Context, f Failure) error {
	if f.ListID == 0 {
		return nil
	}
	return b.Store.RecordBounce(ctx, &store.BounceEvent{ListID: f.ListID, Email: f.Recipient, Permanent: true,
		Reason: f.Reason, Detail: f.Reply, Source: "smtp", At: f.At})
}

// Classify names the cause of a failed reply with the classes of
// store.BounceEvent.Reason: unknown_user, mailbox_full, policy, too_large,
// temporary, other. The enhanced status code (RFC 3463) decides when there
// is one; else the reply text.
func Classify(r smtpclient.Reply) string {
	if r.Enhanced != "" {
		sub := r.Enhanced[strings.IndexByte(r.Enhanced, '.')+1:]
		switch {
		case sub == "1.1" || sub == "1.0" || sub == "1.2" || sub == "1.3" || sub == "1.6" || sub == "1.10" || sub == "2.1":
			return "unknown_user"
		case sub == "2.2":
			return "mailbox_full"
		case sub == "3.4" || sub == "2.3":
			return "too_large"
		case strings.HasPrefix(sub, "7."):
			return "policy"
		}
	}
	t := strings.ToLower(r.Text)
	switch {
	case containsAny(t, "user unknown", "unknown user", "no such user", "does not exist", "mailbox unavailable", "recipient rejected", "invalid recipient", "no mailbox"):
		return "unknown_user"
	case containsAny(t, "quota", "mailbox full", "over quota", "insufficient storage"):
		return "mailbox_full"
	case containsAny(t, "too large", "too big", "size limit"):
		return "too_large"
	case containsAny(t, "spam", "blocked", "policy", "blacklist", "blocklist", "dmarc", "denied"):
		return "policy"
	case r.Temporary():
		return "temporary"
	}
	return "other"
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
