// Package pipeline is the engine of the post runner, in GNU Mailman 3's
// vocabulary: rules are predicates over a post, a chain of links turns
// rule hits into a moderation decision (accept, hold, reject, discard),
// and handlers rewrite an accepted post and compute its recipients.
//
// The engine knows no concrete rule or handler (see subpackages rules and
// handlers) and no queue: the post runner (package post) feeds it and acts
// on the decision. Store lookups reach rules through the small Roster
// interface on Message, so rules stay pure and testable.
package pipeline
