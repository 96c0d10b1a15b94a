package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"herald/internal/store"
)

// ArchiveMessage implements store.Archive. It runs in the group commit
// (groupcommit.go), so concurrent callers (an import's workers) share one
// commit.
func (db *DB) ArchiveMessage(ctx context.Context, m *store.ArchivedMessage) error {
	op := fmt.Sprintf("archive %q on list %d", m.MessageID, m.ListID)
	m.Archived = now()
	if m.Date.IsZero() {
		m.Date = m.Archived
	}
	m.Date = m.Date.UTC().Truncate(time.Microsecond)
	msg := m.Message
	if msg == nil {
		msg = []byte{}
	}
	return db.inGroupTx(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO archive (list_id, post_id, message_id, in_reply_to, subject, sender,
			date, archived, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			m.ListID, m.PostID, m.MessageID, m.InReplyTo, m.Subject, m.Sender, m.Date, m.Archived, msg).Scan(&m.ID)
		return db.wrapParent(op, "list", err)
	})
}

// ArchivedMessages implements store.Archive.
func (db *DB) ArchivedMessages(ctx context.Context, listID, after int64, limit int) ([]store.ArchivedMessage, error) {
	op := fmt.Sprintf("read the archive of list %d", listID)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT id, list_id, post_id, message_id, in_reply_to, subject, sender,
		date, archived, message FROM archive WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?`), listID, after, limit)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.ArchivedMessage
	for rows.Next() {
		var m store.ArchivedMessage
		if err := rows.Scan(&m.ID, &m.ListID, &m.PostID, &m.MessageID, &m.InReplyTo, &m.Subject, &m.Sender,
			&m.Date, &m.Archived, &m.Message); err != nil {
			return nil, db.wrap(op, err)
		}
		m.Date, m.Archived = m.Date.UTC(), m.Archived.UTC()
		out = append(out, m)
	}
	return out, db.wrap(op, rows.Err())
}

// ArchiveCount implements store.Archive.
func (db *DB) ArchiveCount(ctx context.Context, listID int64) (int, error) {
	var n int
	err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM archive WHERE list_id = ?`), listID).Scan(&n)
	return n, db.wrap(fmt.Sprintf("count the archive of list %d", listID), err)
}
