// Package sqlite is herald's embedded store: store.Store on SQLite through
// the pure-Go modernc.org/sqlite driver (no cgo), registered with
// store.Open as "sqlite:PATH".
//
// The database runs in WAL mode with foreign keys on and a 10 s busy
// timeout, so several processes (the CLI while `herald serve` runs) share
// one file safely: readers never block writers, and a writer waits for
// another process's write instead of failing with SQLITE_BUSY.
//
// Each DB has two pools on the file. Writes use a pool of one connection
// whose transactions start with BEGIN IMMEDIATE (_txlock=immediate): the
// write lock is taken up front, so a transaction never has to upgrade a
// read lock (the deadlock SQLite answers with SQLITE_BUSY regardless of
// the timeout), and goroutines of one process queue in Go instead of
// spinning in the busy handler. Reads use a separate pool of query-only
// connections that run in parallel with the writer.
//
// Open applies the embedded migrations (migrations/NNNN_name.sql) with
// internal/store/migrate before returning.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"herald/internal/store"
	"herald/internal/store/migrate"
	"herald/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations, for tools that inspect them.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// ReadConns is the size of the read pool. EachMember holds one read
// connection for the whole walk.
const ReadConns = 8

// BusyTimeoutMS is how long a connection waits for another's lock.
const BusyTimeoutMS = 10000

// DB is a SQLite store; it implements store.Store.
type DB struct {
	*sqlstore.DB
	signal *signalFile // nil: none (signal.go)
}

// Close closes the database and its change signal.
func (db *DB) Close() error {
	err := db.DB.Close()
	if db.signal != nil {
		err = errors.Join(err, db.signal.close())
	}
	return err
}

var _ store.Store = (*DB)(nil)

func init() {
	store.Register("sqlite", func(ctx context.Context, u string) (store.Store, error) {
		path, ok := strings.CutPrefix(u, "sqlite:")
		if !ok {
			return nil, fmt.Errorf("open sqlite: %q is not a sqlite: url", u)
		}
		path = strings.TrimPrefix(path, "//") // accept sqlite://PATH too
		return Open(ctx, path)
	})
}

// Open opens (creating it if needed) the database file at path and brings
// its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("open sqlite %q: need a plain file path", path)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := migrateUp(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(ReadConns)
	r.SetMaxIdleConns(ReadConns)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db := &DB{DB: sqlstore.New(w, r, dialect), signal: openSignal(path)}
	if db.signal != nil {
		db.SetChangeSignal(db.signal)
	}
	return db, nil
}

// dsn is the driver's data source name for path. The write pool sets WAL
// mode (persistent in the file); read connections are query-only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Dialect is the migration runner's view of SQLite: BEGIN IMMEDIATE (the
// write pool's _txlock) is the lock, so no separate one is needed.
var Dialect = migrate.Dialect{
	Name:        "sqlite",
	Placeholder: func(int) string { return "?" },
}

var dialect = sqlstore.Dialect{
	Name: "sqlite",
	IsUnique: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKey: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

// hasCode reports whether err is a SQLite error with one of codes
// (extended result codes).
func hasCode(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

// migrateUp runs the migrations, retrying while another process holds the
// lock SQLite needs to switch a new file to WAL: that step does not always
// go through the busy handler, so processes starting together on a new
// file (serve and a CLI command) would otherwise fail with SQLITE_BUSY.
func migrateUp(ctx context.Context, w *sql.DB) error {
	deadline := time.Now().Add(BusyTimeoutMS * time.Millisecond)
	wait := 5 * time.Millisecond
	for {
		_, err := migrate.Up(ctx, w, Migrations(), Dialect)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}
