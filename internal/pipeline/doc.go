// Package pipeline is the engine of the post runner, in GNU Mailman 3's
// vocabulary: rules are predicates over a post, a chain of links turns
// rule hits into a moderation decision (accept, hold, reject, discard),
// and handlers rewrite an accepted post and compute its recipients.
//
// The engine knows no concrete rule or handler (see subpackages rules and
// handlers) and no queue: the post runner (package post) feeds it and acts
// on the decision. Store lookups reach rules through the small Roster
// interface on Message and DNS through DMARCLookup, so rules stay pure and
// testable; handlers write bookkeeping through Ledger and leave what must
// be sent (recipients, Notices, OutMeta) on the Message. A handler ends a
// post early by returning a *Stop.
//
// Invariants: Decide evaluates links in order and the first non-defer hit
// decides, except that a run of Group links collects every hit's reason
// and holds; a post nobody decides on is accepted. Handlers run in order
// and the first error ends the run.
package pipeline
