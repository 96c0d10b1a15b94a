// Package rules holds the post rules, one per file, and the default
// posting chain. A rule is a pure predicate: it reads the post and, through
// pipeline.Roster, the list's roster; it never sends mail or writes.
package rules

import "herald/internal/pipeline"

// DefaultChain is Mailman 3's default-posting-chain as far as herald
// implements it: a moderator's approval accepts, loops are discarded,
// members and nonmembers get their moderation action.
func DefaultChain() pipeline.Chain {
	return pipeline.Chain{
		{Rule: Approved{}, Action: pipeline.Accept},
		{Rule: Loop{}, Action: pipeline.Discard},
		{Rule: MemberModeration{}},
		{Rule: NonmemberModeration{}},
	}
}
