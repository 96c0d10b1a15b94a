package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"herald/internal/store"
)

var (
	_ store.Requests     = (*DB)(nil)
	_ store.MemberLookup = (*DB)(nil)
)

const requestCols = `id, list_id, email, display_name, kind, state, token_hash, expires, sent,
	delivery_mode, invited, pre_approved, source, created`

func scanRequest(r rowScanner) (*store.Request, error) {
	var q store.Request
	var kind, state string
	var hash sql.NullString
	err := r.Scan(&q.ID, &q.ListID, &q.Email, &q.DisplayName, &kind, &state, &hash,
		timeCol{&q.Expires}, timeCol{&q.Sent}, &q.DeliveryMode, &q.Invited, &q.PreApproved,
		&q.Source, timeCol{&q.Created})
	if err != nil {
		return nil, err
	}
	q.Kind, q.State, q.TokenHash = store.RequestKind(kind), store.RequestState(state), hash.String
	return &q, nil
}

// nullHash stores "" as NULL, so the UNIQUE index only covers real hashes.
func nullHash(h string) sql.NullString { return sql.NullString{String: h, Valid: h != ""} }

// AddRequest implements store.Requests.
func (db *DB) AddRequest(ctx context.Context, r *store.Request) error {
	r.Email = norm(r.Email)
	op := fmt.Sprintf("add %s request of %s on list %d", r.Kind, r.Email, r.ListID)
	if r.Email == "" {
		return db.wrap(op, errEmpty("email"))
	}
	if r.Created.IsZero() {
		r.Created = now()
	}
	r.Created = r.Created.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		// An expired request no longer blocks a new one.
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM sub_requests WHERE list_id = ? AND email = ?
			AND expires IS NOT NULL AND expires <= ?`), r.ListID, r.Email, timeArg(r.Created)); err != nil {
			return db.wrap(op, err)
		}
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO sub_requests (list_id, email, display_name, kind,
			state, token_hash, expires, sent, delivery_mode, invited, pre_approved, source, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.ListID, r.Email, r.DisplayName, string(r.Kind), string(r.State), nullHash(r.TokenHash),
			timeArg(r.Expires), timeArg(r.Sent), r.DeliveryMode, r.Invited, r.PreApproved, r.Source,
			timeArg(r.Created)).Scan(&r.ID)
		return db.wrapParent(op, "list", err)
	})
}

// GetRequest implements store.Requests.
func (db *DB) GetRequest(ctx context.Context, listID, id int64) (*store.Request, error) {
	r, err := scanRequest(db.R.QueryRowContext(ctx, db.q(`SELECT `+requestCols+
		` FROM sub_requests WHERE list_id = ? AND id = ?`), listID, id))
	if err != nil {
		return nil, db.wrap(fmt.Sprintf("get request %d of list %d", id, listID), err)
	}
	return r, nil
}

// RequestByToken implements store.Requests.
func (db *DB) RequestByToken(ctx context.Context, tokenHash string) (*store.Request, error) {
	if tokenHash == "" {
		return nil, db.notFound("get request by token: empty token")
	}
	r, err := scanRequest(db.R.QueryRowContext(ctx, db.q(`SELECT `+requestCols+
		` FROM sub_requests WHERE token_hash = ?`), tokenHash))
	if err != nil {
		return nil, db.wrap("get request by token", err)
	}
	return r, nil
}

// PendingRequest implements store.Requests.
func (db *DB) PendingRequest(ctx context.Context, listID int64, email string) (*store.Request, error) {
	email = norm(email)
	r, err := scanRequest(db.R.QueryRowContext(ctx, db.q(`SELECT `+requestCols+
		` FROM sub_requests WHERE list_id = ? AND email = ?`), listID, email))
	if err != nil {
		return nil, db.wrap(fmt.Sprintf("get request of %s on list %d", email, listID), err)
	}
	return r, nil
}

// ListRequests implements store.Requests.
func (db *DB) ListRequests(ctx context.Context, listID int64) ([]store.Request, error) {
	op := fmt.Sprintf("list requests of list %d", listID)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+requestCols+
		` FROM sub_requests WHERE list_id = ? ORDER BY created, id`), listID)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, *r)
	}
	return out, db.wrap(op, rows.Err())
}

// UpdateRequest implements store.Requests: a compare-and-swap on the
// request's state and token hash.
func (db *DB) UpdateRequest(ctx context.Context, r *store.Request, prev store.RequestState, prevHash string) error {
	op := fmt.Sprintf("update request %d of list %d", r.ID, r.ListID)
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE sub_requests SET state = ?, token_hash = ?, expires = ?,
		sent = ?, delivery_mode = ?, pre_approved = ?
		WHERE list_id = ? AND id = ? AND state = ? AND COALESCE(token_hash, '') = ?`),
		string(r.State), nullHash(r.TokenHash), timeArg(r.Expires), timeArg(r.Sent), r.DeliveryMode,
		r.PreApproved, r.ListID, r.ID, string(prev), prevHash)
	return db.affected(op, res, err)
}

// DeleteRequest implements store.Requests.
func (db *DB) DeleteRequest(ctx context.Context, listID, id int64, prev store.RequestState, prevHash string) error {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM sub_requests
		WHERE list_id = ? AND id = ? AND state = ? AND COALESCE(token_hash, '') = ?`),
		listID, id, string(prev), prevHash)
	return db.affected(fmt.Sprintf("delete request %d of list %d", id, listID), res, err)
}

// DeleteExpiredRequests implements store.Requests.
func (db *DB) DeleteExpiredRequests(ctx context.Context, at time.Time) (int, error) {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM sub_requests WHERE expires IS NOT NULL AND expires <= ?`),
		timeArg(at))
	if err != nil {
		return 0, db.wrap("delete expired requests", err)
	}
	n, err := res.RowsAffected()
	return int(n), db.wrap("delete expired requests", err)
}

// MemberByToken implements store.MemberLookup.
func (db *DB) MemberByToken(ctx context.Context, token string) (*store.Member, error) {
	if token == "" {
		return nil, db.notFound("get member by token: empty token")
	}
	m, err := scanMember(db.R.QueryRowContext(ctx, db.q(`SELECT `+memberCols+memberFrom+
		`WHERE m.token = ?`), token))
	if err != nil {
		return nil, db.wrap("get member by token", err)
	}
	return m, nil
}

// SetAddressVerified implements store.MemberLookup.
func (db *DB) SetAddressVerified(ctx context.Context, email string, at time.Time) error {
	email = norm(email)
	op := "verify address " + email
	if email == "" {
		return db.wrap(op, errEmpty("email"))
	}
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := db.ensureAddress(ctx, tx, email, "", now()); err != nil {
			return db.wrap(op, err)
		}
		_, err := tx.ExecContext(ctx, db.q(`UPDATE addresses SET verified = ? WHERE email = ?`), timeArg(at), email)
		return db.wrap(op, err)
	})
}

// BounceDisabled implements store.MemberLookup.
func (db *DB) BounceDisabled(ctx context.Context, email string) (bool, error) {
	email = norm(email)
	var n int
	err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*)`+memberFrom+
		`WHERE a.email = ? AND m.delivery_status = ?`), email, store.DeliveryByBounces).Scan(&n)
	if err != nil {
		return false, db.wrap("bounce status of "+email, err)
	}
	return n > 0, nil
}
