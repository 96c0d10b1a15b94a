// Package migrate applies versioned SQL migrations to a database/sql
// database. It is shared by the SQLite and PostgreSQL stores.
//
// Migrations are files named NNNN_name.sql (NNNN: a positive version
// number, usually zero-padded) at the top of an fs.FS, normally an
// embed.FS. Each file is applied in its own transaction together with the
// row that records it in the schema_migrations table, so a file is either
// applied and recorded or not applied at all. Files are applied in version
// order; already applied versions are skipped, so running Up again is a
// no-op. A database whose schema_migrations names a version that no file
// has (a newer herald wrote it) is refused rather than silently used.
//
// Several processes may call Up at once: the Dialect's Lock serializes
// them (pg_advisory_lock on PostgreSQL); on SQLite the write transaction
// itself (BEGIN IMMEDIATE) is the lock, and each file's version is checked
// again inside its transaction.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Dialect adapts the runner to one database.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string
	// Lock, when set, takes a lock on conn that excludes other migrating
	// processes and returns the function that releases it.
	Lock func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)
	// Placeholder returns the n-th (1-based) bind parameter: "?" or "$n".
	Placeholder func(n int) string
}

// Migration is one migration file.
type Migration struct {
	Version int
	Name    string // file name
	SQL     string
}

var fileRE = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_]+\.sql$`)

// Load reads the migrations in fsys's top directory, sorted by version.
// Files not ending in .sql are ignored; a .sql file with a malformed name
// or a duplicate version is an error.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: read dir: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: %s: name is not NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: %s: bad version", e.Name())
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations: %s and %s have the same version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrations: %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version BIGINT PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`

// Up applies every migration in fsys that db has not recorded yet and
// returns the versions it applied. db's BeginTx must start a write
// transaction that excludes other writers (SQLite: _txlock=immediate).
func Up(ctx context.Context, db *sql.DB, fsys fs.FS, d Dialect) (applied []int, err error) {
	migs, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: connect: %w", d.Name, err)
	}
	defer conn.Close()
	if d.Lock != nil {
		unlock, err := d.Lock(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("migrate %s: lock: %w", d.Name, err)
		}
		defer func() {
			if uerr := unlock(); uerr != nil && err == nil {
				err = fmt.Errorf("migrate %s: unlock: %w", d.Name, uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate %s: create schema_migrations: %w", d.Name, err)
	}
	if err := checkKnown(ctx, conn, migs, d); err != nil {
		return nil, err
	}
	for _, m := range migs {
		ok, err := apply(ctx, conn, m, d)
		if err != nil {
			return applied, err
		}
		if ok {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// checkKnown refuses a database that a newer program migrated further.
func checkKnown(ctx context.Context, conn *sql.Conn, migs []Migration, d Dialect) error {
	var max sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&max); err != nil {
		return fmt.Errorf("migrate %s: read schema_migrations: %w", d.Name, err)
	}
	last := 0
	if len(migs) > 0 {
		last = migs[len(migs)-1].Version
	}
	if max.Valid && int(max.Int64) > last {
		return fmt.Errorf("migrate %s: database schema version %d is newer than this program's %d", d.Name, max.Int64, last)
	}
	return nil
}

// apply runs m in one transaction unless it is already recorded, and
// reports whether it ran.
func apply(ctx context.Context, conn *sql.Conn, m Migration, d Dialect) (ran bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: %s: begin: %w", d.Name, m.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error being returned matters more
		}
	}()
	var n int
	q := `SELECT COUNT(*) FROM schema_migrations WHERE version = ` + d.Placeholder(1)
	if err := tx.QueryRowContext(ctx, q, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migrate %s: %s: check: %w", d.Name, m.Name, err)
	}
	if n > 0 {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate %s: %s: %w", d.Name, m.Name, err)
	}
	ins := fmt.Sprintf(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, CURRENT_TIMESTAMP)`,
		d.Placeholder(1), d.Placeholder(2))
	if _, err := tx.ExecContext(ctx, ins, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migrate %s: %s: record: %w", d.Name, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s: %s: commit: %w", d.Name, m.Name, err)
	}
	return true, nil
}
