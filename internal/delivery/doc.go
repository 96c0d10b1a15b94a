// Package delivery is the out runner's processor: it hands posts back to
// the MTA over SMTP and accounts for every recipient.
//
// Recipients are grouped by domain and sent in transactions of at most
// Options.MaxRecipients, over a pool of persistent connections. Per
// recipient: 2xx is done; 4xx (and 552, RFC 5321 §4.5.3.1.10) goes to the
// retry queue with backoff; 5xx is a permanent failure, recorded for bounce
// processing. A connection failure retries every recipient not yet
// accepted. After Options.RetryPeriod a temporary failure becomes
// permanent. The entry leaves the out queue with one Forward, so what was
// delivered and what must be retried change together.
package delivery
