package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"time"

	"herald/internal/store"
)

const listCols = `id, name, domain, settings, created, post_id, last_post_at`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func (db *DB) scanList(r rowScanner) (*store.List, error) {
	var l store.List
	var settings []byte
	if err := r.Scan(&l.ID, &l.Name, &l.Domain, &settings, timeCol{&l.Created}, &l.PostID, timeCol{&l.LastPostAt}); err != nil {
		return nil, err
	}
	s, err := db.settings.decode(l.Address(), l.Name, settings)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", l.Address(), err)
	}
	l.Settings = s
	return &l, nil
}

// CreateList implements store.Lists. A zero l.Settings is replaced by
// store.DefaultSettings(l.Name).
func (db *DB) CreateList(ctx context.Context, l *store.List) error {
	l.Name, l.Domain = norm(l.Name), norm(l.Domain)
	op := "create list " + l.Address()
	if l.Name == "" || l.Domain == "" {
		return db.wrap(op, errEmpty("list name or domain"))
	}
	if reflect.ValueOf(l.Settings).IsZero() {
		l.Settings = store.DefaultSettings(l.Name)
	}
	settings, err := encodeSettings(l.Settings)
	if err != nil {
		return db.wrap(op, err)
	}
	created := now()
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		// Checked first: a failed statement would abort a PostgreSQL
		// transaction, and the FK error alone does not say which key.
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM domains WHERE name = ?`), l.Domain).Scan(&n); err != nil {
			return db.wrap(op, err)
		}
		if n == 0 {
			return db.notFound(op + ": domain " + l.Domain)
		}
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO lists (name, domain, settings, created, post_id)
			VALUES (?, ?, ?, ?, 0) RETURNING id`), l.Name, l.Domain, settings, timeArg(created)).Scan(&l.ID)
		if err != nil {
			return db.wrapParent(op, "domain "+l.Domain, err)
		}
		l.Created, l.PostID, l.LastPostAt = created, 0, time.Time{}
		return nil
	})
}

// GetList implements store.Lists.
func (db *DB) GetList(ctx context.Context, name, domain string) (*store.List, error) {
	name, domain = norm(name), norm(domain)
	return db.memoList(name+"@"+domain, func() (*store.List, error) {
		l, err := db.scanList(db.queryRow(ctx, db.R,
			`SELECT `+listCols+` FROM lists WHERE name = ? AND domain = ?`, name, domain))
		if err != nil {
			return nil, db.wrap("get list "+name+"@"+domain, err)
		}
		return l, nil
	})
}

// GetListByID implements store.Lists.
func (db *DB) GetListByID(ctx context.Context, id int64) (*store.List, error) {
	return db.memoListByID(id, func() (*store.List, error) {
		l, err := db.scanList(db.queryRow(ctx, db.R, `SELECT `+listCols+` FROM lists WHERE id = ?`, id))
		if err != nil {
			return nil, db.wrap(fmt.Sprintf("get list %d", id), err)
		}
		return l, nil
	})
}

// ListLists implements store.Lists.
func (db *DB) ListLists(ctx context.Context, domain string) ([]store.List, error) {
	domain = norm(domain)
	query, args := `SELECT `+listCols+` FROM lists ORDER BY domain, name`, []any{}
	if domain != "" {
		query, args = `SELECT `+listCols+` FROM lists WHERE domain = ? ORDER BY name`, []any{domain}
	}
	op := "list lists"
	rows, err := db.R.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.List
	for rows.Next() {
		l, err := db.scanList(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, *l)
	}
	return out, db.wrap(op, rows.Err())
}

// UpdateSettings implements store.Lists; ErrNotFound for an unknown list.
func (db *DB) UpdateSettings(ctx context.Context, listID int64, s store.Settings) error {
	op := fmt.Sprintf("update settings of list %d", listID)
	settings, err := encodeSettings(s)
	if err != nil {
		return db.wrap(op, err)
	}
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE lists SET settings = ? WHERE id = ?`), settings, listID)
	db.wrote()
	return db.affected(op, res, err)
}

// DeleteList implements store.Lists; members and held messages go with
// it (ON DELETE CASCADE). ErrNotFound for an unknown list.
func (db *DB) DeleteList(ctx context.Context, listID int64) error {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM lists WHERE id = ?`), listID)
	db.wrote()
	return db.affected(fmt.Sprintf("delete list %d", listID), res, err)
}

// NextPostID implements store.Lists atomically, in one statement.
func (db *DB) NextPostID(ctx context.Context, listID int64, at time.Time) (int64, error) {
	var id int64
	err := db.W.QueryRowContext(ctx, db.q(`UPDATE lists SET post_id = post_id + 1, last_post_at = ?
		WHERE id = ? RETURNING post_id`), timeArg(at), listID).Scan(&id)
	if err != nil {
		return 0, db.wrap(fmt.Sprintf("next post id of list %d", listID), err)
	}
	return id, nil
}
