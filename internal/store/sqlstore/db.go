// Package sqlstore implements store.Store on database/sql, shared by the
// SQLite and PostgreSQL packages. Those own connecting, pooling, schema
// migrations and the Dialect that says how their driver differs: bind
// parameters and how a constraint violation looks.
//
// Queries are written once with "?" parameters and RETURNING clauses
// (SQLite ≥ 3.35 and PostgreSQL both have them). Times are stored in UTC
// at microsecond precision (PostgreSQL's), list settings as a JSON object
// keyed by setting name, emails, list and domain names lower-cased.
//
// Writes go to the W pool and reads to the R pool; they may be the same
// *sql.DB. SQLite gives W a single connection, so a store method never
// uses W while it holds a W transaction.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"herald/internal/store"
)

// Dialect describes how a database differs from the shared SQL.
type Dialect struct {
	// Name is the store's name in error messages ("sqlite", "postgres").
	Name string
	// DollarParams makes "?" parameters "$1", "$2", … (PostgreSQL).
	DollarParams bool
	// IsUnique reports whether err is a unique or primary key violation.
	IsUnique func(err error) bool
	// IsForeignKey reports whether err is a foreign key violation.
	IsForeignKey func(err error) bool
}

// DB is a store.Store over a write pool W and a read pool R.
type DB struct {
	W, R     *sql.DB
	d        Dialect
	stmts    stmtCache
	settings settingsMemo
	memo     readMemo    // memo.go
	group    groupCommit // shared transactions of small writes (groupcommit.go)
}

var _ store.Store = (*DB)(nil)

// New returns a store on the given pools; the schema must be migrated.
func New(w, r *sql.DB, d Dialect) *DB {
	return &DB{W: w, R: r, d: d}
}

// Close closes both pools.
func (db *DB) Close() error {
	err := errors.Join(db.closeStmts(), db.W.Close())
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// q turns a query written with "?" into the dialect's form. Queries here
// never contain "?" inside string literals.
func (db *DB) q(query string) string {
	if !db.d.DollarParams {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wrap maps driver errors to the store sentinels and adds context: op is
// the operation and object ("create list dev@example.org").
func (db *DB) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %s: %w", db.d.Name, op, store.ErrNotFound)
	case db.d.IsUnique(err):
		return fmt.Errorf("%s %s: %w (%v)", db.d.Name, op, store.ErrConflict, err)
	}
	return fmt.Errorf("%s %s: %w", db.d.Name, op, err)
}

// wrapParent is wrap for an insert whose parent row (named by parent)
// may vanish concurrently: a foreign key violation means ErrNotFound.
func (db *DB) wrapParent(op, parent string, err error) error {
	if err != nil && db.d.IsForeignKey(err) {
		return db.notFound(op + ": " + parent)
	}
	return db.wrap(op, err)
}

// notFound is the error for an absent object.
func (db *DB) notFound(op string) error {
	return fmt.Errorf("%s %s: %w", db.d.Name, op, store.ErrNotFound)
}

// affected turns "no rows changed" into ErrNotFound.
func (db *DB) affected(op string, res sql.Result, err error) error {
	if err != nil {
		return db.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrap(op, err)
	}
	if n == 0 {
		return db.notFound(op)
	}
	return nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	defer db.wrote() // after the commit (memo.go)
	return db.runTx(ctx, op, fn)
}

// runTx is inTx for writes that leave the read memo valid: the per-post
// counters (groupcommit.go).
func (db *DB) runTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the one that matters
		return err
	}
	return db.wrap(op, tx.Commit())
}

// now is the store's clock: UTC at the precision every dialect keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// norm lower-cases and trims an email, list or domain name.
func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// newToken returns 128 random bits as 32 hex characters.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// conflict is the ErrConflict error for op, with a reason.
func (db *DB) conflict(op, format string, args ...any) error {
	return fmt.Errorf("%s %s: %w: %s", db.d.Name, op, store.ErrConflict, fmt.Sprintf(format, args...))
}

// errEmpty reports a missing required value.
func errEmpty(what string) error { return fmt.Errorf("empty %s", what) }
