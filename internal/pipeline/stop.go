package pipeline

import (
	"errors"
	"fmt"
)

// Two more outcomes, open to handlers only (content filtering's
// filter_action): forward the post to the list's owners instead of the
// members, or keep it in the shunt queue for the operator.
const (
	Forward  Action = "forward"
	Preserve Action = "preserve"
)

// Stop is the error a handler returns to end an accepted post's pipeline
// with another outcome: Discard, Reject (the poster gets Reason), Hold,
// Forward or Preserve. Notices the handlers left are still sent.
type Stop struct {
	Action Action
	Reason string
}

func (s *Stop) Error() string { return fmt.Sprintf("%s: %s", s.Action, s.Reason) }

// AsStop returns the Stop in err's chain, if any.
func AsStop(err error) (*Stop, bool) {
	var s *Stop
	ok := errors.As(err, &s)
	return s, ok
}
