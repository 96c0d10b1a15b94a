// Package mime is herald's raw-preserving message model: the list pipeline
// parses a post once, edits a few header fields and decorates the body, and
// writes everything else back exactly as it arrived.
//
// Invariants:
//
//   - Round trip. For any input that Parse accepts, Bytes returns the input
//     byte for byte as long as nothing was modified. A header field keeps its
//     raw bytes (name spelling, folding, line ends, 8-bit bytes, NULs) until it
//     is replaced, so untouched fields stay DKIM-verifiable.
//   - Line ends. Parse accepts CRLF and bare LF. Fields and parts written by
//     this package use the line end of the input's first line (CRLF when the
//     input has none), so a message never ends up with a mix it did not have.
//   - Header safety. Set, Add and Prepend never produce a header injection:
//     CR and LF in a value are unfolded, and invalid name bytes are dropped.
//     New fields are folded at 78 columns (RFC 5322 §2.1.1); encoded words
//     are at most 75 characters (RFC 2047 §2) and are never split by folding.
//   - Signed and encrypted content is opaque. Decorate never changes a byte
//     inside multipart/signed, multipart/encrypted or application/pkcs7-mime;
//     it wraps such messages in a new multipart/mixed instead.
//   - Bounded work. A header field is at most MaxFieldBytes, a header at most
//     MaxFields fields, MIME nesting at most MaxDepth levels and a message at
//     most MaxParts parts; past a limit functions return an error wrapping
//     ErrLimit rather than doing more work. Every function is linear in the
//     input size times MaxDepth at worst. The caller bounds the total size.
//   - No panics on hostile input. Malformed input yields an error wrapping
//     ErrMalformed that says what and where (line or part number); functions
//     documented as best effort (DecodeWords, TextBody, AddressList) skip
//     what they cannot read instead.
//
// The package does no I/O and imports no other herald package. It uses
// go-message's charset tables (github.com/emersion/go-message/charset) for
// decoding and golang.org/x/text for encoding into legacy charsets; RFC 2047
// encoding and header folding are its own, because go-message folds a long
// encoded Subject into one overlong line.
package mime
