package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// AddDigestMessage implements store.Digests.
func (db *DB) AddDigestMessage(ctx context.Context, m *store.DigestMessage) error {
	op := fmt.Sprintf("keep post %d of list %d for its digest", m.PostID, m.ListID)
	m.Created = now()
	msg := m.Message
	if msg == nil {
		msg = []byte{}
	}
	var id int64
	err := db.W.QueryRowContext(ctx, db.q(`INSERT INTO digest_messages (list_id, post_id, created, message)
		VALUES (?, ?, ?, ?) RETURNING id`), m.ListID, m.PostID, m.Created, msg).Scan(&id)
	if err != nil {
		return db.wrapParent(op, "list", err)
	}
	m.ID = id
	return nil
}

// PendingDigests implements store.Digests: one query, the oldest post's
// Created read from its row (a column keeps its type in every dialect,
// where MIN over it would not).
func (db *DB) PendingDigests(ctx context.Context) ([]store.DigestPending, error) {
	const op = "list pending digests"
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT g.list_id, g.n, g.bytes, m.created,
			COALESCE(s.volume, 0), COALESCE(s.issue, 0), s.last_sent
		FROM (SELECT list_id, COUNT(*) AS n, SUM(LENGTH(message)) AS bytes, MIN(id) AS first
			FROM digest_messages GROUP BY list_id) g
		JOIN digest_messages m ON m.id = g.first
		LEFT JOIN digest_state s ON s.list_id = g.list_id
		ORDER BY g.list_id`))
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.DigestPending
	for rows.Next() {
		var p store.DigestPending
		var last sql.NullTime
		if err := rows.Scan(&p.ListID, &p.Count, &p.Bytes, &p.Oldest, &p.State.Volume, &p.State.Issue, &last); err != nil {
			return nil, db.wrap(op, err)
		}
		p.Oldest = p.Oldest.UTC()
		if last.Valid {
			p.State.LastSent = last.Time.UTC()
		}
		out = append(out, p)
	}
	return out, db.wrap(op, rows.Err())
}

// DigestMessages implements store.Digests.
func (db *DB) DigestMessages(ctx context.Context, listID int64) ([]store.DigestMessage, error) {
	op := fmt.Sprintf("read the digest posts of list %d", listID)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT id, list_id, post_id, created, message FROM digest_messages
		WHERE list_id = ? ORDER BY post_id, id`), listID)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.DigestMessage
	for rows.Next() {
		var m store.DigestMessage
		if err := rows.Scan(&m.ID, &m.ListID, &m.PostID, &m.Created, &m.Message); err != nil {
			return nil, db.wrap(op, err)
		}
		m.Created = m.Created.UTC()
		out = append(out, m)
	}
	return out, db.wrap(op, rows.Err())
}

// DigestSent implements store.Digests.
func (db *DB) DigestSent(ctx context.Context, listID, upTo int64, st store.DigestState) error {
	op := fmt.Sprintf("record digest %d/%d of list %d", st.Volume, st.Issue, listID)
	last := st.LastSent.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM digest_messages WHERE list_id = ? AND id <= ?`), listID, upTo); err != nil {
			return db.wrap(op, err)
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO digest_state (list_id, volume, issue, last_sent, sending_since)
			VALUES (?, ?, ?, ?, NULL) ON CONFLICT (list_id) DO UPDATE SET volume = excluded.volume,
			issue = excluded.issue, last_sent = excluded.last_sent, sending_since = NULL`),
			listID, st.Volume, st.Issue, last)
		return db.wrapParent(op, "list", err)
	})
}

// ClaimDigest implements store.Digests: the state row is made if missing,
// then taken by one conditional update, atomic in both dialects.
func (db *DB) ClaimDigest(ctx context.Context, listID int64, at time.Time, stale time.Duration) (bool, error) {
	op := fmt.Sprintf("claim the digest of list %d", listID)
	at = at.UTC().Truncate(time.Microsecond)
	claimed := false
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO digest_state (list_id, volume, issue) VALUES (?, 0, 0)
			ON CONFLICT (list_id) DO NOTHING`), listID); err != nil {
			return db.wrapParent(op, "list", err)
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE digest_state SET sending_since = ?
			WHERE list_id = ? AND (sending_since IS NULL OR sending_since < ?)`), at, listID, at.Add(-stale))
		if err != nil {
			return db.wrap(op, err)
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return db.wrap(op, err)
	})
	return claimed, err
}

// ReleaseDigest implements store.Digests.
func (db *DB) ReleaseDigest(ctx context.Context, listID int64) error {
	_, err := db.W.ExecContext(ctx, db.q(`UPDATE digest_state SET sending_since = NULL WHERE list_id = ?`), listID)
	return db.wrap(fmt.Sprintf("release the digest of list %d", listID), err)
}

// DigestState implements store.Digests.
func (db *DB) DigestState(ctx context.Context, listID int64) (store.DigestState, error) {
	var st store.DigestState
	var last sql.NullTime
	err := db.R.QueryRowContext(ctx, db.q(`SELECT volume, issue, last_sent FROM digest_state WHERE list_id = ?`), listID).
		Scan(&st.Volume, &st.Issue, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DigestState{}, nil
	}
	if last.Valid {
		st.LastSent = last.Time.UTC()
	}
	return st, db.wrap(fmt.Sprintf("digest state of list %d", listID), err)
}

// digestMemberWhere selects a list's members who get digests.
const digestMemberWhere = `WHERE m.list_id = ? AND m.role = ? AND m.delivery_status = ?`

// HasDigestMembers implements store.Digests.
//
// The post runner asks for every post, so the answer is in the read memo.
func (db *DB) HasDigestMembers(ctx context.Context, listID int64) (bool, error) {
	return db.memoDigests(listID, func() (bool, error) {
		var n int
		err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM (SELECT 1 FROM members m `+digestMemberWhere+`
			AND m.delivery_mode IN (?, ?) LIMIT 1) AS x`), listID, store.RoleMember, store.DeliveryEnabled,
			store.ModeMIMEDigest, store.ModePlaintextDigest).Scan(&n)
		return n > 0, db.wrap(fmt.Sprintf("look for digest members of list %d", listID), err)
	})
}

// DigestRecipients implements store.Digests.
func (db *DB) DigestRecipients(ctx context.Context, listID int64, mode string) ([]string, error) {
	op := fmt.Sprintf("list %s members of list %d", mode, listID)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT a.email FROM members m JOIN addresses a ON a.id = m.address_id
		`+digestMemberWhere+` AND m.delivery_mode = ? ORDER BY a.email`), listID, store.RoleMember, store.DeliveryEnabled, mode)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, e)
	}
	return out, db.wrap(op, rows.Err())
}
