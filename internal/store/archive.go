package store

import (
	"context"
	"time"
)

// ArchivedMessage is one message in a list's archive (imported from an
// mbox; posts, once the post runner archives them).
type ArchivedMessage struct {
	ID     int64
	ListID int64
	PostID int64 // 0 for an imported message
	// From the message's header, for listing and threading.
	MessageID, InReplyTo, Subject, Sender string
	Date                                  time.Time // the Date field; Archived when it has none
	Archived                              time.Time // set by ArchiveMessage
	Message                               []byte
}

// Archive keeps lists' archived messages.
type Archive interface {
	// ArchiveMessages adds ms in order, in one transaction (on an error
	// none is added), setting ID and Archived. added[i] is false when the
	// list's archive already held ms[i]'s Message-ID (an earlier message
	// of ms included): it is not added again. ErrNotFound for an unknown
	// list.
	ArchiveMessages(ctx context.Context, ms []*ArchivedMessage) (added []bool, err error)
	// ArchivedMessages returns up to limit of the list's archived
	// messages with ids above after, in id order (the order they were
	// archived), with their bytes.
	ArchivedMessages(ctx context.Context, listID, after int64, limit int) ([]ArchivedMessage, error)
	// ArchiveCount returns how many messages the list's archive holds.
	ArchiveCount(ctx context.Context, listID int64) (int, error)
}
