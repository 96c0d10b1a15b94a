package sqlstore

import (
	"context"
	"fmt"
	"time"

	"herald/internal/store"
)

// RecordBounce implements store.BounceEvents; a zero e.At becomes now.
// ErrNotFound for an unknown list.
func (db *DB) RecordBounce(ctx context.Context, e *store.BounceEvent) error {
	e.Email = norm(e.Email)
	op := fmt.Sprintf("record bounce of %s on list %d", e.Email, e.ListID)
	if e.Email == "" {
		return db.wrap(op, errEmpty("email"))
	}
	if e.At.IsZero() {
		e.At = now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	err := db.W.QueryRowContext(ctx, db.q(`INSERT INTO bounce_events (list_id, email, permanent, reason,
		detail, source, at, processed) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		e.ListID, e.Email, e.Permanent, e.Reason, e.Detail, e.Source, timeArg(e.At), e.Processed).Scan(&e.ID)
	return db.wrapParent(op, "list", err)
}

// UnprocessedBounces implements store.BounceEvents.
func (db *DB) UnprocessedBounces(ctx context.Context, limit int) ([]store.BounceEvent, error) {
	op := "list unprocessed bounces"
	if limit <= 0 {
		return nil, nil
	}
	return db.queryBounceEvents(ctx, op, `WHERE processed = ? ORDER BY at, id LIMIT ?`, false, limit)
}

// queryBounceEvents returns the bounce events that where (a WHERE clause
// with its ORDER BY) selects.
func (db *DB) queryBounceEvents(ctx context.Context, op, where string, args ...any) ([]store.BounceEvent, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT id, list_id, email, permanent, reason, detail, source,
		at, processed FROM bounce_events `+where), args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.BounceEvent
	for rows.Next() {
		var e store.BounceEvent
		if err := rows.Scan(&e.ID, &e.ListID, &e.Email, &e.Permanent, &e.Reason, &e.Detail, &e.Source,
			timeCol{&e.At}, &e.Processed); err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, e)
	}
	return out, db.wrap(op, rows.Err())
}

// MarkBounceProcessed implements store.BounceEvents; ErrNotFound for an
// unknown id.
func (db *DB) MarkBounceProcessed(ctx context.Context, id int64) error {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE bounce_events SET processed = ? WHERE id = ?`), true, id)
	return db.affected(fmt.Sprintf("mark bounce %d processed", id), res, err)
}
