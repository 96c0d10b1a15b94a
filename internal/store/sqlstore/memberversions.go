package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"herald/internal/store"
)

// MembersVersion returns the list's membership version, which changes in
// the same transaction as any change to what the plain recipient walk
// yields, by whatever process or tool makes it (triggers, migration
// 0006); ok is false when the list has none (it does not exist).
// Delivery keeps big lists' recipients in memory under it.
func (db *DB) MembersVersion(ctx context.Context, listID int64) (v int64, ok bool, err error) {
	err = db.queryRow(ctx, db.R, `SELECT version FROM member_versions WHERE list_id = ?`, listID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return v, err == nil, db.wrap(fmt.Sprintf("membership version of list %d", listID), err)
}

// BigLists returns the lists with at least min recipients (members who
// get posts), for delivery to fill its memory at start.
func (db *DB) BigLists(ctx context.Context, min int) ([]int64, error) {
	const op = "find big lists"
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT list_id FROM members
		WHERE role = ? AND delivery_status = ? AND delivery_mode = ?
		GROUP BY list_id HAVING count(*) >= ?`), string(store.RoleMember), store.DeliveryEnabled, store.ModeRegular, min)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, db.wrap(op, err)
		}
		ids = append(ids, id)
	}
	return ids, db.wrap(op, rows.Err())
}
