// Package bouncer is herald's bounce handling around the classifier in
// package bounce: the bounce runner's Processor, which turns mail to
// LIST-bounces[+…] into store bounce events, and the Policy, a periodic
// pass that scores members from those events (and from the SMTP-time
// failures the delivery engine records), probes, disables, warns and
// removes them, with GNU Mailman 3's semantics and settings as the base.
//
// # The bounce runner (Processor)
//
// Each entry of the bounces queue is scanned with VERP first (the envelope
// recipient's extension, address.VERPDecode, then the Delivered-To,
// Envelope-To, X-Original-To and To headers), then as a delivery status
// notification or a known MTA's text. An extension that is no VERP
// address may be a probe token (LIST-bounces+TOKEN@DOMAIN): the bounce of
// a probe is recorded with Source "probe". Every failed address that is a
// member of the list becomes one event (permanent or temporary, with the
// reason the classifier tells); other addresses are ignored. An
// auto-reply is dropped. A message in which nothing is recognized goes,
// per forward_unrecognized_bounces_to, to the list's administrators
// (owners and moderators), to the site owner, or nowhere. The entry ends
// with Done, or with one Forward to the out queue, so a crash replays it
// at most: duplicate events are harmless (a member scores once per day).
//
// # The policy pass (Policy.Pass)
//
// Events are scored oldest first, once they are older than the circuit
// breaker's window (Options.Window), so a burst is seen whole before
// anyone in it is scored. Per event, for a member whose delivery is
// enabled (Mailman 3's BounceProcessor.process_event):
//
//   - temporary failures, and permanent ones whose reason is policy or
//     too_large, never score: a blocklisted server, a DMARC rejection of
//     the author's domain or an oversized post is not the member's fault;
//   - while the list's circuit breaker holds, nothing scores;
//   - at most one score per member per day (UTC date of the event); the
//     score starts again from 1 when the last bounce is older than
//     bounce_info_stale_after days;
//   - at bounce_score_threshold, with verp_probes on, a probe goes out
//     with the envelope sender LIST-bounces+TOKEN@DOMAIN and the score is
//     reset; delivery is disabled (by_bounces) only when the probe bounces
//     or, after the probe was sent, the member's address is refused at
//     SMTP time (evidence nobody can forge: a forged VERP bounce cannot
//     confirm a probe). With verp_probes off, delivery is disabled at once.
//
// The owners hear of each disable (bounce_notify_owner_on_disable). A
// member disabled by bounces gets bounce_you_are_disabled_warnings
// warnings, one every bounce_you_are_disabled_warnings_interval days
// (the first at the next pass), and is removed one interval after the
// last, with an owner notice (bounce_notify_owner_on_removal).
//
// # The circuit breaker
//
// When, within one window, at least bounce_circuit_breaker_percent of the
// list's members (and at least bounce_circuit_breaker_minimum addresses)
// bounce with the same kind of policy rejection (blocklist, DMARC, sender
// authentication, spam, other policy), the problem is the list, not the
// members: scoring is held for the list from one window before the burst
// to Options.Hold after it, and the administrators are told once per
// hold. Events dated inside a hold are marked processed without scoring.
//
// # Invariants
//
//   - An event is marked processed in the same transaction that saves what
//     it did to the member's record (store.BounceScores), so a crash never
//     scores an event twice; a crash between sending a probe or notice and
//     that transaction repeats the message at worst.
//   - Only events of members whose delivery is enabled ever score, and a
//     disable needs a score at the threshold (and, with probes, proof).
//   - Run one policy pass at a time per store: `herald serve` runs one
//     every [bounces] interval; set interval = "0s" on other nodes.
package bouncer
