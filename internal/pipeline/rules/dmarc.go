package rules

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
)

// DMARCMitigation refuses posts whose author's domain publishes a DMARC
// policy of quarantine or reject, when the list's dmarc_mitigate_action is
// reject or discard (munge_from and wrap_message are the dmarc handler's).
// dmarc_mitigate_unconditionally does not widen reject and discard (as in
// Mailman). A failed lookup never refuses a post: the policy is unknown.
// Anonymous lists are exempt: their posts go out From the list.
type DMARCMitigation struct{}

// Name is the rule's name.
func (DMARCMitigation) Name() string { return "dmarc-mitigation" }

// Check looks the author's policy up.
func (DMARCMitigation) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	act := m.List.Settings.DMARCMitigateAction
	if act != "reject" && act != "discard" || m.List.Settings.AnonymousList {
		return pipeline.Verdict{}, nil // an anonymous list sends posts From itself
	}
	p, err := m.AuthorPolicy(ctx)
	if err != nil || (p != "quarantine" && p != "reject") {
		return pipeline.Verdict{}, nil // an unknown policy lets the post through
	}
	return pipeline.Verdict{Hit: true, Action: pipeline.Action(act), Reason: fmt.Sprintf(
		"the author's domain publishes the DMARC policy p=%s, so the list cannot deliver the post; "+
			"please post from another address", p)}, nil
}
