// Package smtpclient is a small SMTP client for handing mail to the local
// MTA at line rate. It pipelines (RFC 2920) when the server offers
// PIPELINING and falls back to lock-step otherwise.
//
// One Conn is one connection, used by one goroutine at a time. Send writes a
// transaction's MAIL, all its RCPTs and DATA in one flush and reads their
// replies; on 354 it writes the body but does not wait for the final reply.
// That reply is read by the next Send (whose envelope goes out in the same
// flush as the previous body: "the actual transfer of message content is
// explicitly allowed to be the first command in a group", RFC 2920 §3.1) or
// by Flush. So a steady stream of transactions costs one round trip each.
//
// Invariants:
//   - Every Tx given to Send gets its Done callback exactly once, with its
//     replies or with Err set when the connection failed before its outcome
//     was known. Replies are matched to commands strictly in order.
//   - A Tx whose body went out but whose final reply was not read when the
//     connection broke is reported with Err: the server may have accepted
//     it, so the caller must treat it as undelivered (a possible duplicate
//     is better than a loss).
//   - At most Options.Window commands are written before their replies are
//     read, so the server never blocks writing replies the client does not
//     read (RFC 2920 §3.1's deadlock).
//   - The body is never copied: Tx.Body is written as it is (see Wire).
//
// Per-command costs are kept off the hot path: commands are written into
// one buffer per connection and flushed once per pipelined batch; the
// connection's read and write deadlines are refreshed at most every
// Timeout/16 (not per command); replies are parsed from the read buffer,
// and positive single-line replies to MAIL, RCPT and DATA, whose texts
// nothing reads, without allocating.
package smtpclient
