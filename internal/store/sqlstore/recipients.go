package sqlstore

import (
	"context"
	"fmt"

	"herald/internal/store"
)

// EachRecipient implements store.Recipients: one indexed scan of the
// list's members (members_list_role) joined to their addresses by primary
// key, filtered in SQL, with no ORDER BY (no sort) and only the columns
// delivery reads.
func (db *DB) EachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error {
	op := fmt.Sprintf("walk recipients of list %d", listID)
	cols := `a.email, m.receive_own_postings, m.receive_list_copy`
	if personal {
		cols += `, m.display_name, m.token, m.language`
	}
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+cols+memberFrom+
		`WHERE m.list_id = ? AND m.role = ? AND m.delivery_status = ? AND m.delivery_mode = ?`),
		listID, string(store.RoleMember), store.DeliveryEnabled, store.ModeRegular)
	if err != nil {
		return db.wrap(op, err)
	}
	defer rows.Close()
	var r store.Recipient
	dest := []any{&r.Email, &r.ReceiveOwnPostings, &r.ReceiveListCopy}
	if personal {
		dest = append(dest, &r.DisplayName, &r.Token, &r.Language)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return db.wrap(op, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return db.wrap(op, rows.Err())
}
