package store

import "context"

// Recipient is what delivery needs of a member who gets a list's posts.
type Recipient struct {
	Email              string
	ReceiveOwnPostings bool
	ReceiveListCopy    bool
	// DisplayName, Token and Language are filled by the personal walk
	// only (personalized posts).
	DisplayName, Token, Language string
}

// Recipients is the walk delivery expands a post with: what EachMember
// gives, cut down to who gets posts and what delivering needs, so a
// 100,000-member list expands in a fraction of the time.
type Recipients interface {
	// EachRecipient calls fn for every member (RoleMember) of the list
	// whose DeliveryStatus is DeliveryEnabled and DeliveryMode
	// ModeRegular, in no particular order, streaming from the database.
	// personal also fills DisplayName, Token and Language. r is reused
	// between calls (its strings are not): copy what you keep. fn's error
	// stops the walk.
	EachRecipient(ctx context.Context, listID int64, personal bool, fn func(r *Recipient) error) error
}
