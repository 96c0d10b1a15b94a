// Package postgres is herald's multi-node store: store.Store on
// PostgreSQL through pgx's database/sql driver, registered with
// store.Open as "postgres" (URLs postgres://… and postgresql://…).
//
// The SQL is shared with the SQLite store (internal/store/sqlstore); this
// package adds the connection pool, the error codes and its own schema
// (identity columns, TIMESTAMPTZ, JSONB, BYTEA, "C" collation for names
// so ordering matches SQLite's). Open applies the embedded migrations
// while holding a PostgreSQL advisory lock, so several herald nodes
// starting at once migrate exactly once.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"herald/internal/store"
	"herald/internal/store/migrate"
	"herald/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// MaxConns bounds the pool. EachMember holds one connection for the
// whole walk.
const MaxConns = 20

// migrationLockKey is the pg_advisory_lock key that serializes
// migrations (an arbitrary constant: "herald" in ASCII).
const migrationLockKey int64 = 0x68657261_6c64

// DB is a PostgreSQL store; it implements store.Store.
type DB struct {
	*sqlstore.DB
}

var _ store.Store = (*DB)(nil)

func init() {
	store.Register("postgres", func(ctx context.Context, url string) (store.Store, error) {
		return Open(ctx, url)
	})
}

// Open connects to the database at url (a postgres:// URL or a
// keyword/value DSN) and brings its schema up to date.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if _, err := migrate.Up(ctx, db, Migrations(), Dialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{sqlstore.New(db, db, dialect)}, nil
}

// Dialect is the migration runner's view of PostgreSQL.
var Dialect = migrate.Dialect{
	Name:        "postgres",
	Lock:        advisoryLock,
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
}

// advisoryLock takes the session-level migration lock on conn. If it
// cannot be released, the connection is discarded so the lock dies with
// its session instead of staying in the pool.
func advisoryLock(ctx context.Context, conn *sql.Conn) (func() error, error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		if err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the session
		}
		return err
	}, nil
}

// PostgreSQL error codes (Appendix A of its manual).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

var dialect = sqlstore.Dialect{
	Name:         "postgres",
	DollarParams: true,
	IsUnique:     func(err error) bool { return hasCode(err, codeUniqueViolation) },
	IsForeignKey: func(err error) bool { return hasCode(err, codeForeignKeyViolation) },
}

func hasCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}
