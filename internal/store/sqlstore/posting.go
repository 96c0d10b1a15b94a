package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// recordPostSQL counts one post of an address.
const recordPostSQL = `INSERT INTO post_counts (list_id, email, count, last_post)
	VALUES (?, ?, 1, ?) ON CONFLICT (list_id, email) DO UPDATE
	SET count = post_counts.count + 1, last_post = excluded.last_post RETURNING count`

// RecordPost implements store.Posting in one statement.
func (db *DB) RecordPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error) {
	email = norm(email)
	op := fmt.Sprintf("record post of %s on list %d", email, listID)
	if email == "" {
		return 0, db.wrap(op, errEmpty("email"))
	}
	var n int64
	err := db.W.QueryRowContext(ctx, db.q(recordPostSQL), listID, email, timeArg(at)).Scan(&n)
	if err != nil {
		return 0, db.wrapParent(op, "list", err)
	}
	return n, nil
}

const numberPostSQL = `UPDATE lists SET post_id = post_id + 1, last_post_at = ? WHERE id = ? RETURNING post_id`

// NumberPost implements store.Posting in one transaction.
func (db *DB) NumberPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error) {
	email = norm(email)
	op := fmt.Sprintf("number post of %q on list %d", email, listID)
	var id int64
	db.prepareW(ctx, numberPostSQL, recordPostSQL)
	// Every post takes this write: committed in groups (groupcommit.go).
	err := db.inGroupTx(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		err := db.txQueryRow(ctx, tx, numberPostSQL, timeArg(at), listID).Scan(&id)
		if err != nil {
			return db.wrap(op, err)
		}
		if email == "" {
			return nil
		}
		var n int64
		return db.wrap(op, db.txQueryRow(ctx, tx, recordPostSQL, listID, email, timeArg(at)).Scan(&n))
	})
	return id, err
}

// PostCount implements store.Posting.
func (db *DB) PostCount(ctx context.Context, listID int64, email string) (int64, error) {
	email = norm(email)
	var n int64
	err := db.R.QueryRowContext(ctx, db.q(`SELECT count FROM post_counts WHERE list_id = ? AND email = ?`),
		listID, email).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.wrap(fmt.Sprintf("post count of %s on list %d", email, listID), err)
	}
	return n, nil
}

// AllowAutoresponse implements store.Posting. The grace period is checked
// by reading first; the daily limit by the conditional upsert itself, so
// concurrent callers never exceed it.
func (db *DB) AllowAutoresponse(ctx context.Context, listID int64, email, kind string, at time.Time, perDay int, grace time.Duration) (bool, error) {
	email = norm(email)
	op := fmt.Sprintf("autoresponse %s to %s on list %d", kind, email, listID)
	if email == "" || kind == "" {
		return false, db.wrap(op, errEmpty("email or kind"))
	}
	at = at.UTC().Truncate(time.Microsecond)
	if grace > 0 {
		var last time.Time
		err := db.R.QueryRowContext(ctx, db.q(`SELECT last_sent FROM autoresponses
			WHERE list_id = ? AND email = ? AND kind = ?`), listID, email, kind).Scan(timeCol{&last})
		switch {
		case err == nil && at.Sub(last) < grace:
			return false, nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return false, db.wrap(op, err)
		}
	}
	limit := int64(perDay)
	if perDay <= 0 {
		limit = 1 << 62
	}
	var n int64
	err := db.W.QueryRowContext(ctx, db.q(`INSERT INTO autoresponses (list_id, email, kind, day, count, last_sent)
		VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (list_id, email, kind) DO UPDATE
		SET count = CASE WHEN autoresponses.day = excluded.day THEN autoresponses.count + 1 ELSE 1 END,
			day = excluded.day, last_sent = excluded.last_sent
		WHERE autoresponses.day <> excluded.day OR autoresponses.count < ?
		RETURNING count`), listID, email, kind, at.Format("2006-01-02"), timeArg(at), limit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // today's limit reached: the update did not happen
	}
	if err != nil {
		return false, db.wrapParent(op, "list", err)
	}
	return true, nil
}

// GetHeldByToken implements store.Posting.
func (db *DB) GetHeldByToken(ctx context.Context, listID int64, token string) (*store.Held, error) {
	op := fmt.Sprintf("get held message by token on list %d", listID)
	if token == "" {
		return nil, db.notFound(op)
	}
	var msg []byte
	h, err := scanHeld(db.R.QueryRowContext(ctx, db.q(`SELECT `+heldCols+`, message FROM held
		WHERE list_id = ? AND token = ?`), listID, token), &msg)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	h.Message = msg
	return h, nil
}
