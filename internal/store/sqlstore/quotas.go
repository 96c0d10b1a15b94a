package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"herald/internal/store"
)

var _ store.Quotas = (*DB)(nil)

// errQuotaFull rolls back a charge when a quota is at its limit.
var errQuotaFull = errors.New("quota full")

// ChargeQuotas implements store.Quotas. Each scope's row in quota_scopes
// is updated first, in scope order: on PostgreSQL that row lock makes
// concurrent chargers of a scope take turns, so the count they read
// includes every use committed before them (READ COMMITTED takes a new
// snapshot per statement); on SQLite the write transaction is exclusive
// anyway. Uses are then counted over the window and recorded.
func (db *DB) ChargeQuotas(ctx context.Context, at time.Time, qs []store.Quota) (bool, error) {
	var live []store.Quota
	for _, q := range qs {
		if q.Limit > 0 && q.Window > 0 && q.Scope != "" {
			live = append(live, q)
		}
	}
	if len(live) == 0 {
		return true, nil
	}
	slices.SortFunc(live, func(a, b store.Quota) int {
		switch {
		case a.Scope < b.Scope:
			return -1
		case a.Scope > b.Scope:
			return 1
		}
		return 0
	})
	at = at.UTC().Truncate(time.Microsecond)
	op := fmt.Sprintf("charge quota %s", live[0].Scope)
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		for _, q := range live {
			if err := db.chargeOne(ctx, tx, at, q); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errQuotaFull) {
		return false, nil
	}
	return err == nil, err
}

func (db *DB) chargeOne(ctx context.Context, tx *sql.Tx, at time.Time, q store.Quota) error {
	op := "charge quota " + q.Scope
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO quota_scopes (scope, uses) VALUES (?, 0)
		ON CONFLICT (scope) DO NOTHING`), q.Scope); err != nil {
		return db.wrap(op, err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE quota_scopes SET uses = uses + 1 WHERE scope = ?`), q.Scope); err != nil {
		return db.wrap(op, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM quota_uses WHERE scope = ? AND at > ?`),
		q.Scope, timeArg(at.Add(-q.Window))).Scan(&n); err != nil {
		return db.wrap(op, err)
	}
	if n >= q.Limit {
		return errQuotaFull
	}
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO quota_uses (scope, at) VALUES (?, ?)`), q.Scope, timeArg(at))
	return db.wrap(op, err)
}

// QuotasAvailable implements store.Quotas.
func (db *DB) QuotasAvailable(ctx context.Context, at time.Time, qs []store.Quota) (bool, error) {
	at = at.UTC().Truncate(time.Microsecond)
	for _, q := range qs {
		if q.Limit <= 0 || q.Window <= 0 || q.Scope == "" {
			continue
		}
		var n int
		if err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM quota_uses WHERE scope = ? AND at > ?`),
			q.Scope, timeArg(at.Add(-q.Window))).Scan(&n); err != nil {
			return false, db.wrap("check quota "+q.Scope, err)
		}
		if n >= q.Limit {
			return false, nil
		}
	}
	return true, nil
}

// PruneQuotas implements store.Quotas.
func (db *DB) PruneQuotas(ctx context.Context, before time.Time) error {
	_, err := db.W.ExecContext(ctx, db.q(`DELETE FROM quota_uses WHERE at < ?`), timeArg(before))
	return db.wrap("prune quotas", err)
}
