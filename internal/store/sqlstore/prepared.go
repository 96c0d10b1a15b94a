package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements for the queries on herald's hot
// paths (resolving a recipient, a post's rules, numbering, recipient
// walks). Preparing is most of the cost of a small SQLite query: the SQL
// parser and planner run on every unprepared call. database/sql prepares
// a *sql.Stmt once per pooled connection and reuses it.
type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// prepared returns the cached statement for query (written with "?") on
// pool, preparing it on first use. The lock is not held while preparing:
// preparing waits for a connection, and a connection's holder (a write
// transaction) may itself be waiting here for another statement.
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	db.stmts.mu.Lock()
	st, ok := db.stmts.m[k]
	db.stmts.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if first, ok := db.stmts.m[k]; ok {
		// Prepared meanwhile by another caller: that one serves, and a
		// failure to close this duplicate changes nothing for the query.
		_ = st.Close()
		return first, nil
	}
	if db.stmts.m == nil {
		db.stmts.m = map[stmtKey]*sql.Stmt{}
	}
	db.stmts.m[k] = st
	return st, nil
}

// queryRow is pool.QueryRowContext through the statement cache. If the
// statement cannot be prepared, the query runs unprepared so that its
// *sql.Row carries the error.
func (db *DB) queryRow(ctx context.Context, pool *sql.DB, query string, args ...any) *sql.Row {
	st, err := db.prepared(ctx, pool, query)
	if err != nil {
		return pool.QueryRowContext(ctx, db.q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query is pool.QueryContext through the statement cache.
func (db *DB) query(ctx context.Context, pool *sql.DB, query string, args ...any) (*sql.Rows, error) {
	st, err := db.prepared(ctx, pool, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// prepareW prepares queries on the write pool. Call it before inTx: the
// SQLite write pool has one connection, which a transaction holds, so a
// statement cannot be prepared on the pool from inside one.
func (db *DB) prepareW(ctx context.Context, queries ...string) {
	for _, q := range queries {
		// An error here shows again, unprepared, in txQueryRow.
		_, _ = db.prepared(ctx, db.W, q)
	}
}

// txQueryRow is tx.QueryRowContext through the write pool's statement
// cache (filled by prepareW): within a transaction database/sql reuses
// the statement already prepared on the transaction's connection.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	db.stmts.mu.Lock()
	st := db.stmts.m[stmtKey{db.W, query}]
	db.stmts.mu.Unlock()
	if st == nil {
		return tx.QueryRowContext(ctx, db.q(query), args...)
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// closeStmts closes every cached statement.
func (db *DB) closeStmts() error {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	var first error
	for k, st := range db.stmts.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(db.stmts.m, k)
	}
	return first
}
