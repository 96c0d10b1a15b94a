package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// bounceInfoCols reads a member (m, a) with its LEFT JOINed record b.
const bounceInfoCols = `m.id, m.list_id, a.email, m.delivery_status, COALESCE(b.score, 0), b.last_bounce,
	b.probe_sent, b.disabled_at, b.last_warning, COALESCE(b.warnings_sent, 0)`

const bounceInfoFrom = ` FROM members m JOIN addresses a ON a.id = m.address_id
	LEFT JOIN bounce_info b ON b.member_id = m.id `

func scanBounceInfo(r rowScanner) (int64, *store.BounceInfo, error) {
	var id int64
	var bi store.BounceInfo
	err := r.Scan(&id, &bi.ListID, &bi.Email, &bi.DeliveryStatus, &bi.Score, timeCol{&bi.LastBounce},
		timeCol{&bi.ProbeSent}, timeCol{&bi.DisabledAt}, timeCol{&bi.LastWarning}, &bi.WarningsSent)
	return id, &bi, err
}

// BounceInfo implements store.BounceScores.
func (db *DB) BounceInfo(ctx context.Context, listID int64, email string) (*store.BounceInfo, error) {
	email = norm(email)
	op := fmt.Sprintf("bounce info of %s on list %d", email, listID)
	_, bi, err := scanBounceInfo(db.R.QueryRowContext(ctx, db.q(`SELECT `+bounceInfoCols+bounceInfoFrom+
		`WHERE m.list_id = ? AND a.email = ? AND m.role = ?`), listID, email, string(store.RoleMember)))
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return bi, nil
}

// memberID finds the id of email's member role on the list inside tx.
func (db *DB) memberID(ctx context.Context, tx *sql.Tx, listID int64, email string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, db.q(`SELECT m.id FROM members m JOIN addresses a ON a.id = m.address_id
		WHERE m.list_id = ? AND a.email = ? AND m.role = ?`), listID, email, string(store.RoleMember)).Scan(&id)
	return id, err
}

// upsertBounceInfo writes the record of member id inside tx.
func (db *DB) upsertBounceInfo(ctx context.Context, tx *sql.Tx, id int64, bi *store.BounceInfo) error {
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO bounce_info (member_id, score, last_bounce, probe_sent,
		disabled_at, last_warning, warnings_sent) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (member_id) DO UPDATE SET score = excluded.score, last_bounce = excluded.last_bounce,
		probe_sent = excluded.probe_sent, disabled_at = excluded.disabled_at,
		last_warning = excluded.last_warning, warnings_sent = excluded.warnings_sent`),
		id, bi.Score, timeArg(bi.LastBounce), timeArg(bi.ProbeSent), timeArg(bi.DisabledAt),
		timeArg(bi.LastWarning), bi.WarningsSent)
	return err
}

// markProcessed flags event id processed inside tx; 0 is no event.
func (db *DB) markProcessed(ctx context.Context, tx *sql.Tx, op string, id int64) error {
	if id == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, db.q(`UPDATE bounce_events SET processed = ? WHERE id = ?`), true, id)
	return db.affected(fmt.Sprintf("%s: mark bounce %d processed", op, id), res, err)
}

// SaveBounceInfo implements store.BounceScores.
func (db *DB) SaveBounceInfo(ctx context.Context, info *store.BounceInfo, eventID int64) error {
	info.Email = norm(info.Email)
	op := fmt.Sprintf("save bounce info of %s on list %d", info.Email, info.ListID)
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		id, err := db.memberID(ctx, tx, info.ListID, info.Email)
		if err != nil {
			return db.wrap(op, err)
		}
		var disabled time.Time
		err = tx.QueryRowContext(ctx, db.q(`SELECT disabled_at FROM bounce_info WHERE member_id = ?`), id).
			Scan(timeCol{&disabled})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return db.wrap(op, err)
		}
		rec := *info
		rec.DisabledAt = disabled
		if err := db.upsertBounceInfo(ctx, tx, id, &rec); err != nil {
			return db.wrap(op, err)
		}
		return db.markProcessed(ctx, tx, op, eventID)
	})
}

// DisableByBounces implements store.BounceScores.
func (db *DB) DisableByBounces(ctx context.Context, listID int64, email string, at time.Time, eventID int64) (bool, error) {
	email = norm(email)
	op := fmt.Sprintf("disable %s on list %d by bounces", email, listID)
	var disabled bool
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		id, err := db.memberID(ctx, tx, listID, email)
		if err != nil {
			return db.wrap(op, err)
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE members SET delivery_status = ?
			WHERE id = ? AND delivery_status = ?`), store.DeliveryByBounces, id, store.DeliveryEnabled)
		if err != nil {
			return db.wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return db.wrap(op, err)
		}
		if disabled = n == 1; disabled {
			// Keep the date of the last bounce (the staleness of the
			// score counts from it); everything else starts afresh.
			var last time.Time
			err := tx.QueryRowContext(ctx, db.q(`SELECT last_bounce FROM bounce_info WHERE member_id = ?`), id).
				Scan(timeCol{&last})
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return db.wrap(op, err)
			}
			rec := store.BounceInfo{LastBounce: last, DisabledAt: at.UTC().Truncate(time.Microsecond)}
			if err := db.upsertBounceInfo(ctx, tx, id, &rec); err != nil {
				return db.wrap(op, err)
			}
		}
		return db.markProcessed(ctx, tx, op, eventID)
	})
	return disabled, err
}

// BounceInfos implements store.BounceScores.
func (db *DB) BounceInfos(ctx context.Context, listID int64, disabledOnly bool) ([]store.BounceInfo, error) {
	op := fmt.Sprintf("bounce infos of list %d", listID)
	where := `WHERE m.role = ? AND (m.delivery_status = ?`
	args := []any{string(store.RoleMember), store.DeliveryByBounces}
	if !disabledOnly {
		where += ` OR b.member_id IS NOT NULL`
	}
	where += `)`
	if listID != 0 {
		where += ` AND m.list_id = ?`
		args = append(args, listID)
	}
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+bounceInfoCols+bounceInfoFrom+where+
		` ORDER BY m.list_id, a.email`), args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.BounceInfo
	for rows.Next() {
		_, bi, err := scanBounceInfo(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, *bi)
	}
	return out, db.wrap(op, rows.Err())
}

// hashProbeToken is what the store keeps of a probe token.
func hashProbeToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// AddBounceProbe implements store.BounceScores.
func (db *DB) AddBounceProbe(ctx context.Context, p *store.BounceProbe) error {
	p.Email = norm(p.Email)
	op := fmt.Sprintf("add bounce probe of %s on list %d", p.Email, p.ListID)
	if p.Email == "" {
		return db.wrap(op, errEmpty("email"))
	}
	if p.Sent.IsZero() {
		p.Sent = now()
	}
	p.Sent = p.Sent.UTC().Truncate(time.Microsecond)
	token := newToken()
	_, err := db.W.ExecContext(ctx, db.q(`INSERT INTO bounce_probes (token_hash, list_id, email, sent)
		VALUES (?, ?, ?, ?)`), hashProbeToken(token), p.ListID, p.Email, timeArg(p.Sent))
	if err := db.wrapParent(op, "list", err); err != nil {
		return err
	}
	p.Token = token
	return nil
}

// GetBounceProbe implements store.BounceScores.
func (db *DB) GetBounceProbe(ctx context.Context, token string) (*store.BounceProbe, error) {
	op := "get bounce probe"
	if token == "" {
		return nil, db.notFound(op)
	}
	p := store.BounceProbe{Token: token}
	err := db.R.QueryRowContext(ctx, db.q(`SELECT list_id, email, sent FROM bounce_probes WHERE token_hash = ?`),
		hashProbeToken(token)).Scan(&p.ListID, &p.Email, timeCol{&p.Sent})
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return &p, nil
}

// DeleteBounceProbes implements store.BounceScores.
func (db *DB) DeleteBounceProbes(ctx context.Context, before time.Time) (int, error) {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM bounce_probes WHERE sent < ?`), timeArg(before))
	if err != nil {
		return 0, db.wrap("delete bounce probes", err)
	}
	n, err := res.RowsAffected()
	return int(n), db.wrap("delete bounce probes", err)
}

// BouncesBetween implements store.BounceScores.
func (db *DB) BouncesBetween(ctx context.Context, listID int64, from, to time.Time) ([]store.BounceEvent, error) {
	op := fmt.Sprintf("bounces of list %d between %s and %s", listID, from.Format(time.RFC3339), to.Format(time.RFC3339))
	return db.queryBounceEvents(ctx, op, `WHERE list_id = ? AND at >= ? AND at < ? ORDER BY at, id`,
		listID, timeArg(from), timeArg(to))
}

// AddBounceHold implements store.BounceScores.
func (db *DB) AddBounceHold(ctx context.Context, h *store.BounceHold) error {
	op := fmt.Sprintf("add bounce hold on list %d", h.ListID)
	h.Created = now()
	h.Start, h.Until = h.Start.UTC().Truncate(time.Microsecond), h.Until.UTC().Truncate(time.Microsecond)
	err := db.W.QueryRowContext(ctx, db.q(`INSERT INTO bounce_holds (list_id, starts, ends, reason, created)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), h.ListID, timeArg(h.Start), timeArg(h.Until), h.Reason,
		timeArg(h.Created)).Scan(&h.ID)
	return db.wrapParent(op, "list", err)
}

// UpdateBounceHold implements store.BounceScores.
func (db *DB) UpdateBounceHold(ctx context.Context, h *store.BounceHold) error {
	h.Start, h.Until = h.Start.UTC().Truncate(time.Microsecond), h.Until.UTC().Truncate(time.Microsecond)
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE bounce_holds SET starts = ?, ends = ?, reason = ? WHERE id = ?`),
		timeArg(h.Start), timeArg(h.Until), h.Reason, h.ID)
	return db.affected(fmt.Sprintf("update bounce hold %d", h.ID), res, err)
}

// BounceHolds implements store.BounceScores.
func (db *DB) BounceHolds(ctx context.Context, listID int64, after time.Time) ([]store.BounceHold, error) {
	op := fmt.Sprintf("bounce holds of list %d", listID)
	if after.IsZero() {
		after = time.Unix(0, 0)
	}
	query := `SELECT id, list_id, starts, ends, reason, created FROM bounce_holds WHERE ends > ?`
	args := []any{timeArg(after)}
	if listID != 0 {
		query += ` AND list_id = ?`
		args = append(args, listID)
	}
	rows, err := db.R.QueryContext(ctx, db.q(query+` ORDER BY list_id, starts, id`), args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.BounceHold
	for rows.Next() {
		var h store.BounceHold
		if err := rows.Scan(&h.ID, &h.ListID, timeCol{&h.Start}, timeCol{&h.Until}, &h.Reason,
			timeCol{&h.Created}); err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, h)
	}
	return out, db.wrap(op, rows.Err())
}
