// Package lmtp is herald's LMTP server (RFC 2033) on emersion/go-smtp.
//
// It speaks the protocol and nothing else: recipients are checked and
// messages accepted through the Backend interface this package defines,
// which ingress implements. Invariants:
//   - LHLO only (go-smtp refuses HELO/EHLO in LMTP mode).
//   - A recipient is checked at RCPT time; an unknown one gets 550 5.1.1
//     and never reaches DATA.
//   - After DATA, one reply per accepted RCPT, in RCPT order (RFC 2033
//     §4.2), and a recipient gets 250 only when Backend.Deliver reported
//     its entry durable.
//   - Failures map to codes only here: temporary 451 4.3.0, disk full
//     452 4.3.1, too big 552 5.3.4, malformed 554 5.6.0.
//   - Replies to a pipelined group go in one write, once the session has
//     handled every command it has received (replies.go); a reply is
//     never held while the server waits for the client.
//   - A panic in a session is recovered by go-smtp, which answers 421 to
//     the recipients still waiting; it is counted in Panics.
package lmtp
