// Package rules holds the post rules, one per file, and the default
// posting chain. A rule is a pure predicate: it reads the post and, through
// pipeline.Roster and pipeline.DMARCLookup, the list's roster and DNS; it
// never sends mail or writes to the store (the only thing a rule may
// change is the post's pipeline.Message: Sender and Meta notes for the
// post runner and the handlers).
package rules

import "herald/internal/pipeline"

// DefaultChain is Mailman 3's default posting chain: a moderator's
// approval accepts, emergency holds, loops are discarded, DMARC-protected
// authors are refused when the list says so, banned posters discarded,
// header_matches decide, members and nonmembers get their moderation
// action (accept skips the rest, defer goes on), and then every hold check
// runs and a post that hits any of them is held with all the reasons.
func DefaultChain() pipeline.Chain {
	return pipeline.Chain{
		{Rule: Approved{}, Action: pipeline.Accept},
		{Rule: Emergency{}, Action: pipeline.Hold},
		{Rule: Loop{}, Action: pipeline.Discard},
		{Rule: DMARCMitigation{}},
		{Rule: Banned{}, Action: pipeline.Discard},
		{Rule: HeaderMatch{}},
		{Rule: MemberModeration{}},
		{Rule: NonmemberModeration{}},
		{Rule: NewMemberModeration{}, Action: pipeline.Hold, Group: true},
		{Rule: Administrivia{}, Action: pipeline.Hold, Group: true},
		{Rule: ImplicitDestination{}, Action: pipeline.Hold, Group: true},
		{Rule: MaxRecipients{}, Action: pipeline.Hold, Group: true},
		{Rule: MaxSize{}, Action: pipeline.Hold, Group: true},
		{Rule: NoSubject{}, Action: pipeline.Hold, Group: true},
		{Rule: NoSenders{}, Action: pipeline.Hold, Group: true},
		{Rule: SuspiciousHeader{}, Action: pipeline.Hold, Group: true},
		{Rule: DigestReply{}, Action: pipeline.Hold, Group: true},
	}
}
