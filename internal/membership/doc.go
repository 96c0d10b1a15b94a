// Package membership carries out subscriptions and unsubscriptions, the
// way GNU Mailman 3's workflows do, for every front end: the email command
// runner, the web pages, the CLI and (later) the REST API.
//
// # Workflow
//
// A request to join runs these checks in order; the first that needs
// someone's answer stores the request in the store and stops:
//
//	refuse      banned address (list or global ban)          → Banned
//	            already a member / already pending           → AlreadyMember / AlreadyPending
//	verify      address never verified and not PreVerified   ┐
//	confirm     policy confirm|confirm_then_moderate and     ├→ StateConfirm: confirmation mail → Confirm(token)
//	            not PreConfirmed                             ┘
//	moderate    policy moderate|confirm_then_moderate and    → StateModerate: moderators told → Approve/Reject/Discard
//	            not PreApproved (invitations are approved)
//	subscribe   AddMember, welcome message, owner notice     → Subscribed
//
// Leaving runs confirm (policy confirm, or any request from the web form)
// and moderate (policy moderate) the same way, then removes the member
// with a goodbye message and an owner notice. RFC 8058 one-click
// unsubscription (OneClick) skips both: the member's own token is proof
// enough, and RFC 8058 §3.2 requires the POST alone to unsubscribe.
//
// # Invariants
//
//   - An address has at most one pending request per list (the store's
//     unique key), so repeating a request never multiplies mail.
//   - Confirmation tokens are 160 bits from crypto/rand, lower-case base32
//     (MTAs may fold the case of the local part that carries them). The
//     store keeps only their SHA-256; a token is bound to one request, so
//     to one list, address and action, and it dies when used (a
//     compare-and-swap on the stored state) or when it expires.
//   - Every mail to a requester who has not proved anything yet
//     (confirmations, command replies) is charged to sliding-window quotas
//     in the store: per list and per site per hour, and per address per
//     day for command replies. Over quota, nothing is sent.
//   - No mail goes to an address that is banned or has delivery disabled
//     by bounces. Confirmation mails carry no text from the requester
//     beyond the bare address.
//
// Methods return an Outcome whose Mail the caller makes durable (a runner
// with its claim's Forward, the web and CLI with the spool's EnqueueAll);
// the store changes come first, so a crash between the two can lose a
// notice but never a membership change.
package membership
