// Package delivery is the out runner's processor: it hands posts back to
// the MTA over SMTP and accounts for every recipient.
//
// # Shape
//
// Deliverer runs Options.Connections workers, each owning at most one
// persistent connection to the MTA (package smtpclient: RFC 2920
// pipelining, lock-step fallback). Process turns an out entry into a job —
// its recipients (Envelope.Recipients, or the list's members streamed from
// the store when the envelope says so, see MemberEnvelope), its mode and
// its body — and queues the job's transactions on a scheduler that hands
// them to the workers round robin over destination domains, honouring the
// per-domain Limits (transactions in flight, recipients per second).
//
//   - bulk: recipients grouped by domain, at most MaxRecipients per
//     transaction, one wire copy of the (DKIM-signed) body shared by all;
//   - VERP (list setting verp_delivery_interval): one transaction per
//     recipient, sender LIST-bounces+local=domain@DOMAIN, same body;
//     with Options.XVERP and an MTA that offers XVERP, bulk transactions
//     with MAIL FROM … XVERP=+= instead;
//   - personalized (personalize individual/full): one transaction per
//     member with a body rendered for that member (To:, footer variables,
//     RFC 8058 one-click URL) and signed last.
//
// # Results
//
// Per recipient: 2xx is done; 4xx, 552 (RFC 5321 §4.5.3.1.10) and any
// transaction cut by a connection failure go to the retry queue with
// exponential backoff and jitter; 5xx is a permanent failure, handed to
// the FailureSink (BounceSink: a store bounce event with Source "smtp").
// After Options.RetryPeriod, temporary failures become permanent ones.
// While the MTA cannot be reached, dials back off (1 s doubling to a
// minute) and transactions fail at once, so the entry goes to the retry
// queue instead of looping. The entry leaves the out queue with one
// Forward (retry entry for the deferred, out entry for the never sent),
// so what was delivered and what must be retried change together.
//
// # Crash safety
//
// Accepted recipients are appended to a per-entry journal (progress.go)
// that one goroutine fsyncs in rounds; a connection sends a transaction's
// body only after the previous transaction's record is durable. A crash
// therefore resends at most the transaction in flight on each connection;
// nothing is lost, because the spool gives the claimed entry back and
// the journal tells who already has it. Stop (at shutdown) lets the
// transactions in flight finish and requeues what was not sent.
package delivery
