package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// ArchiveMessages implements store.Archive: one transaction, and a
// duplicate Message-ID is skipped by the insert itself (ON CONFLICT on
// the partial unique index), so the order of ms decides which copy stays.
func (db *DB) ArchiveMessages(ctx context.Context, ms []*store.ArchivedMessage) ([]bool, error) {
	op := fmt.Sprintf("archive %d message(s)", len(ms))
	added := make([]bool, len(ms))
	at := now()
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, db.q(`INSERT INTO archive (list_id, post_id, message_id, in_reply_to, subject,
			sender, date, archived, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (list_id, message_id) WHERE message_id <> '' DO NOTHING RETURNING id`))
		if err != nil {
			return db.wrap(op, err)
		}
		defer stmt.Close()
		for i, m := range ms {
			m.Archived = at
			if m.Date.IsZero() {
				m.Date = at
			}
			m.Date = m.Date.UTC().Truncate(time.Microsecond)
			msg := m.Message
			if msg == nil {
				msg = []byte{}
			}
			err := stmt.QueryRowContext(ctx, m.ListID, m.PostID, m.MessageID, m.InReplyTo, m.Subject, m.Sender,
				m.Date, m.Archived, msg).Scan(&m.ID)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				m.ID = 0 // a duplicate
			case err != nil:
				return db.wrapParent(op, "list", err)
			default:
				added[i] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
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
