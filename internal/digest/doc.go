// Package digest collects a list's posts for its digest members and sends
// them as one message, the way GNU Mailman does: a MIME digest
// (multipart/digest of the posts, delivery mode mime_digests) or an
// RFC 1153 plain-text one (plaintext_digests), numbered by volume and
// issue. The post runner keeps each post of a list with digest members
// (store.Digests); Sender sends a list's digest once its posts reach
// digest_size_threshold KiB, or daily (digest_send_periodic), or when an
// operator asks (`herald digests send`).
//
// A digest is queued in the spool's out queue before its posts are
// dropped from the store: a crash between the two sends it again, never
// loses it. Nodes sharing a database send a list's digest under a lease
// (store.Digests.ClaimDigest), so only one of them sends it.
package digest
