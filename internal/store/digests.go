package store

import (
	"context"
	"time"
)

// DigestMessage is a post kept for a list's next digest.
type DigestMessage struct {
	ID      int64
	ListID  int64
	PostID  int64
	Created time.Time
	Message []byte
}

// DigestState is where a list's digests are: the volume and issue of the
// last digest sent (0, 0 before the first) and when it went out.
type DigestState struct {
	Volume, Issue int
	LastSent      time.Time
}

// DigestPending is a list with posts waiting for a digest.
type DigestPending struct {
	ListID int64
	Count  int
	Bytes  int64
	Oldest time.Time // the first waiting post's Created
	State  DigestState
}

// Digests keeps the posts of lists with digest members until their digest
// goes out. Sending is two steps, so that a crash between them repeats a
// digest rather than losing one: read the posts (DigestMessages), queue
// the digests, then DigestSent.
type Digests interface {
	// AddDigestMessage keeps m for its list's next digest, setting ID and
	// Created. ErrNotFound for an unknown list.
	AddDigestMessage(ctx context.Context, m *DigestMessage) error
	// PendingDigests returns every list with posts waiting, by list id.
	PendingDigests(ctx context.Context) ([]DigestPending, error)
	// DigestMessages returns a list's waiting posts in post number order
	// (the order the runners numbered them, as the list shows them), with
	// their bytes.
	DigestMessages(ctx context.Context, listID int64) ([]DigestMessage, error)
	// DigestSent records that the digest of the list's posts with ids up
	// to upTo (the highest id it held) went out as st: those posts are
	// dropped and st saved.
	DigestSent(ctx context.Context, listID, upTo int64, st DigestState) error
	// ClaimDigest takes the lease on sending the list's digest at now, so
	// that of several nodes only one sends it: false when another holds a
	// lease younger than stale. DigestSent and ReleaseDigest end it.
	ClaimDigest(ctx context.Context, listID int64, now time.Time, stale time.Duration) (bool, error)
	// ReleaseDigest ends the lease without a digest sent.
	ReleaseDigest(ctx context.Context, listID int64) error
	// DigestState returns a list's state (zero before its first digest).
	DigestState(ctx context.Context, listID int64) (DigestState, error)
	// HasDigestMembers reports whether the list has a member in a digest
	// delivery mode with delivery enabled.
	HasDigestMembers(ctx context.Context, listID int64) (bool, error)
	// DigestRecipients returns the addresses of the list's members in
	// delivery mode with delivery enabled.
	DigestRecipients(ctx context.Context, listID int64, mode string) ([]string, error)
}
