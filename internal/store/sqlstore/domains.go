package sqlstore

import (
	"context"
	"database/sql"

	"herald/internal/store"
)

// CreateDomain implements store.Domains.
func (db *DB) CreateDomain(ctx context.Context, d store.Domain) error {
	name := norm(d.Name)
	op := "create domain " + name
	if name == "" {
		return db.wrap(op, errEmpty("domain name"))
	}
	_, err := db.W.ExecContext(ctx, db.q(`INSERT INTO domains (name, description, created) VALUES (?, ?, ?)`),
		name, d.Description, timeArg(now()))
	return db.wrap(op, err)
}

// GetDomain implements store.Domains.
func (db *DB) GetDomain(ctx context.Context, name string) (*store.Domain, error) {
	name = norm(name)
	var d store.Domain
	err := db.R.QueryRowContext(ctx, db.q(`SELECT name, description, created FROM domains WHERE name = ?`), name).
		Scan(&d.Name, &d.Description, timeCol{&d.Created})
	if err != nil {
		return nil, db.wrap("get domain "+name, err)
	}
	return &d, nil
}

// ListDomains implements store.Domains.
func (db *DB) ListDomains(ctx context.Context) ([]store.Domain, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT name, description, created FROM domains ORDER BY name`)
	if err != nil {
		return nil, db.wrap("list domains", err)
	}
	defer rows.Close()
	var out []store.Domain
	for rows.Next() {
		var d store.Domain
		if err := rows.Scan(&d.Name, &d.Description, timeCol{&d.Created}); err != nil {
			return nil, db.wrap("list domains", err)
		}
		out = append(out, d)
	}
	return out, db.wrap("list domains", rows.Err())
}

// DeleteDomain implements store.Domains: ErrConflict while lists use it.
func (db *DB) DeleteDomain(ctx context.Context, name string) error {
	name = norm(name)
	op := "delete domain " + name
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM lists WHERE domain = ?`), name).Scan(&n); err != nil {
			return db.wrap(op, err)
		}
		if n > 0 {
			return db.conflict(op, "domain has %d lists", n)
		}
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM domains WHERE name = ?`), name)
		if err == nil || !db.d.IsForeignKey(err) {
			return db.affected(op, res, err)
		}
		return db.conflict(op, "domain still has lists")
	})
}
