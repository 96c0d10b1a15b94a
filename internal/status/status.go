// Package status classifies failures once, where they are known, as
// temporary or as one of the permanent kinds; only the protocol edges
// (lmtp, cli inject) turn a kind into a reply code or an exit status.
//
// The rule is "temporary unless proven permanent": an unclassified error is
// temporary, so trouble we did not foresee makes the MTA retry instead of
// bouncing mail.
package status

import "errors"

// Kind is the class of a failure.
type Kind int

// The kinds of failure.
const (
	// KindTemporary: try again later (store down, I/O trouble).
	KindTemporary Kind = iota
	// KindNoSpace: the disk is (nearly) full; try again later.
	KindNoSpace
	// KindUnknownRecipient: no such list or sub-address.
	KindUnknownRecipient
	// KindTooBig: the message exceeds a size limit.
	KindTooBig
	// KindMalformed: the input is not a message we can take.
	KindMalformed
	// KindPermanent: any other failure that retrying cannot fix.
	KindPermanent
)

// Error carries a failure and its kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// Temporary marks err as temporary.
func Temporary(err error) error { return wrap(KindTemporary, err) }

// NoSpace marks err as a full-disk condition.
func NoSpace(err error) error { return wrap(KindNoSpace, err) }

// UnknownRecipient marks err as "no such list address".
func UnknownRecipient(err error) error { return wrap(KindUnknownRecipient, err) }

// TooBig marks err as a size-limit violation.
func TooBig(err error) error { return wrap(KindTooBig, err) }

// Malformed marks err as unacceptable input.
func Malformed(err error) error { return wrap(KindMalformed, err) }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return wrap(KindPermanent, err) }

// KindOf returns err's kind; unclassified errors are temporary.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTemporary
}

// IsTemporary reports whether err should be retried.
func IsTemporary(err error) bool {
	k := KindOf(err)
	return k == KindTemporary || k == KindNoSpace
}
