package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"herald/internal/store"
)

// PutDKIMKey implements store.DKIMKeys.
func (db *DB) PutDKIMKey(ctx context.Context, k *store.DKIMKey) error {
	k.Domain = norm(k.Domain)
	op := "put dkim key of " + k.Domain
	switch {
	case k.Domain == "":
		return db.wrap(op, errEmpty("domain"))
	case k.Selector == "":
		return db.wrap(op, errEmpty("selector"))
	case k.PrivateKey == "":
		return db.wrap(op, errEmpty("private key"))
	}
	if k.Created.IsZero() {
		k.Created = now()
	}
	k.Created = k.Created.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM domains WHERE name = ?`), k.Domain).Scan(&n); err != nil {
			return db.wrap(op, err)
		}
		if n == 0 {
			return db.notFound(op + ": domain")
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM dkim_keys WHERE domain = ?`), k.Domain); err != nil {
			return db.wrap(op, err)
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created)
			VALUES (?, ?, ?, ?, ?)`), k.Domain, k.Selector, k.Algorithm, k.PrivateKey, timeArg(k.Created))
		return db.wrapParent(op, "domain", err)
	})
}

// GetDKIMKey implements store.DKIMKeys.
func (db *DB) GetDKIMKey(ctx context.Context, domain string) (*store.DKIMKey, error) {
	domain = norm(domain)
	var k store.DKIMKey
	err := db.R.QueryRowContext(ctx, db.q(`SELECT domain, selector, algorithm, private_key, created
		FROM dkim_keys WHERE domain = ?`), domain).Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, timeCol{&k.Created})
	if err != nil {
		return nil, db.wrap("get dkim key of "+domain, err)
	}
	return &k, nil
}

// DeleteDKIMKey implements store.DKIMKeys.
func (db *DB) DeleteDKIMKey(ctx context.Context, domain string) error {
	domain = norm(domain)
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM dkim_keys WHERE domain = ?`), domain)
	return db.affected("delete dkim key of "+domain, res, err)
}
