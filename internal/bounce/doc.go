// Package bounce recognizes non-delivery notices ("bounces") and tells
// which addresses failed, permanently or temporarily, and why.
//
// It is the classification half of herald's bounce handling: the bounce
// runner feeds it what arrives at LIST-bounces[+VERP], and keeps the member
// scores itself. The package is a leaf: it imports no other herald package
// and does no I/O.
//
// # Detection
//
// Scan and ScanWithVERP try, in order:
//
//  1. Auto-replies (vacation, out-of-office, ticket acknowledgements; see
//     IsAutoReply) yield nothing, even when sent to a VERP address.
//  2. VERP: a recipient LIST-bounces+local=domain@... (envelope recipient,
//     Delivered-To, Envelope-To, X-Original-To, To) names the member. The
//     notice is still read to tell a delay from a failure; a message in no
//     known format counts only when it comes from a mail system.
//  3. RFC 3464 delivery status notifications, and their RFC 6533 form
//     message/global-delivery-status with UTF-8 addresses, at any nesting
//     (a DSN forwarded as message/rfc822 counts), except inside the
//     returned content of a report (RFC 6522 §3).
//  4. Text formats, most specific first: Exim (X-Failed-Recipients and its
//     text), Postfix, qmail (QSBMF), Yahoo/AOL, Sendmail, Exchange/Office
//     365 in English, German, French, Spanish, Italian, Dutch and
//     Portuguese, Gmail, Windows SMTPSVC, Lotus Domino, GroupWise, Courier,
//     and generic wordings ("the following addresses failed", "<addr>...
//     User unknown").
//
// The first detector that recognizes the notice decides, also when it
// finds no failure (a DSN with only "delivered" or "relayed" actions).
//
// # Permanent or temporary
//
// A delay warning (Action: delayed, "THIS IS A WARNING ONLY", Exim's "has
// not yet been delivered") yields temporary failures only. A final failure
// is permanent unless its status is 4.x.x: a notice that gave up after
// transient errors (Postfix "Action: failed, Status: 4.2.2" after the
// queue lifetime, qmail "(#4.4.1) ... in the queue too long") reports the
// address as temporary, with the reason the code names. So a full mailbox
// is permanent only with a 5.x.x status, as in Mailman. Where the Status is
// a catch-all x.0.0 (Exim sends 5.0.0 for every failure) the remote
// server's enhanced code in the Diagnostic-Code decides.
//
// Reasons come from the enhanced status code (RFC 3463) where it is
// specific (x.1.1 unknown_user, x.2.2 mailbox_full, x.3.4 too_large, x.7.x
// policy) and otherwise from the wording.
//
// # Precision before recall
//
// A wrongly reported address costs a member their subscription, a missed
// one only delays that. So text formats are read only in notices that come
// from a mail system (null return path, MAILER-DAEMON or postmaster,
// multipart/report, X-Failed-Recipients, or a non-delivery subject that is
// not a reply or forward); only the part of the text before the returned
// message is read; addresses the notice was sent to or from (the list's
// own addresses) and mailer addresses are never reported; and the generic
// wordings need a status code or a named cause next to the address.
//
// # Limits
//
// Input is parsed leniently and never panics: at most 16 MiB of a message,
// 12 levels of MIME nesting, 1000 parts, 1000 header fields per part and
// 512 KiB of decoded text per part are looked at. Charsets: UTF-8,
// US-ASCII, ISO-8859-1/15, Windows-1252 and UTF-16 are decoded; text in
// any other charset is read as if it were ASCII-compatible, which finds
// addresses, codes and English wordings but not localized ones. Text
// formats other than those above, localized templates of Postfix, qmail and
// Sendmail (where no DSN part or X-Failed-Recipients header comes along),
// quoted local parts ("john doe"@example.net), and notices that name the
// recipient only by display name are not recognized. A notice in no known
// format that reaches a VERP address counts as a permanent failure unless
// its text reads as a delay warning or only 4xx codes appear in it.
package bounce
