// Package delivery is the out runner's processor: it hands posts back to
// the MTA over SMTP and accounts for every recipient.
//
// # Shape
//
// Deliverer runs Options.Connections workers, each owning at most one
// persistent connection to the MTA (package smtpclient: RFC 2920
// pipelining, lock-step fallback, one buffered write per pipelined batch).
// Process turns an out entry into a job — its recipients
// (Envelope.Recipients, or the list's members walked from the store when
// the envelope says so, see MemberEnvelope: the post pipeline leaves posts
// to this expansion, so a post is one small spool entry however big the
// list, and the store's Recipients walk reads only what delivery needs),
// its mode and its body, shaped and signed once — and queues the job's
// transactions, while the recipients are still being walked (a big list's
// next posts skip the walk: its roster, the recipients grouped by domain,
// is kept while the list's membership version stands, see roster.go), on
// a scheduler that hands them to the workers round robin
// over destination domains, honouring the per-domain Limits (transactions
// in flight, recipients per second). Each transaction is logged at debug
// level (warn when recipients were refused), each entry at info.
//
//   - bulk: at most MaxRecipients per transaction, one wire copy of the
//     (DKIM-signed) body shared by all; each domain's recipients side by
//     side: a domain with a transaction's worth has its own transactions,
//     small unthrottled domains share full ones (feed.go);
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
// Accepted recipients are appended to a journal (progress.go: a log
// shared by all entries, and an entry's own file once an attempt ends
// unfinished) with one write(2) per transaction, as soon as its final
// reply is read and before the next body goes out on that connection; one
// goroutine fsyncs the logs every Options.ProgressSync (default 50 ms),
// for all connections and entries at once, never on a connection's path. A
// recipient is journaled only after the MTA accepted it, and the entry
// leaves the spool only when every recipient is settled, so nothing is
// ever lost; what a crash can cost is duplicates:
//
//   - process crash (SIGKILL, panic): written records are in the page
//     cache, so at most the transaction in flight on each connection is
//     sent again: Options.Connections transactions (recipients: that many
//     times MaxRecipients in bulk, one each in VERP);
//   - power loss or kernel crash: also the transactions journaled since
//     the last fsync round, i.e. those finished in the last ProgressSync
//     plus the round's own duration (at 10,000 VERP transactions a second
//     and the default 50 ms, about 500 recipients more; a new log's
//     directory entry is synced in the same round).
//
// A journal record that cannot be written stops that connection from
// sending another body (the connection is closed and the transaction
// that would have followed goes to the retry queue), so the process-crash
// bound holds on a failing disk too. The spool gives
// a claimed entry back after a crash and the journal (named in the
// envelope by the post runner, or by the first attempt's Update) tells who
// already has it. Stop (at shutdown) lets the transactions in flight
// finish and requeues what was not sent.
package delivery
