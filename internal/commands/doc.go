// Package commands is the command runner's processor: it takes mail from
// the command queue — LIST-request (commands in the Subject and body),
// LIST-join/-subscribe, LIST-leave/-unsubscribe and LIST-confirm[+TOKEN] —
// carries the commands out through package membership and answers with
// one reply that lists each command's result.
//
// Commands: join|subscribe [digest=no|mime|plain], leave|unsubscribe,
// confirm TOKEN, help, who, echo TEXT, end|stop. They act for the sender
// (the From address) only; nobody can subscribe a third party by mail.
//
// Invariants:
//   - Automated mail is neither answered nor acted on (RFC 3834 §2): mail
//     with a null envelope sender, Auto-Submitted other than "no",
//     Precedence bulk/junk/list, a List-Id, the X-Autoreply family, or
//     from mailer-daemon/postmaster/-request/-bounces/-owner addresses.
//     An out-of-office reply to a confirmation must not confirm it.
//   - No reply goes to a banned address or one whose delivery is
//     disabled by bounces. Every reply is charged to the sender's daily
//     auto-response quota and the list's and site's hourly quotas
//     (membership.ChargeReply); over quota no reply goes out.
//   - A command whose result already went to the sender by mail (the
//     confirmation itself, the welcome message) needs no reply on the
//     -join, -leave and -confirm addresses. Mail to -request (or -confirm
//     without a token) without one known command, spam mostly, gets no
//     reply at all: no backscatter.
//   - Replies echo each command line cleaned and cut to MaxLineBytes, and
//     are marked "Auto-Submitted: auto-replied".
//   - One claim ends with one Forward of every mail the message caused,
//     so the store changes come first and the mail is durable together.
package commands
