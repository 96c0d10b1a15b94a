package pgtest

import (
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestNewSchema checks that a schema URL works and isolates tables.
func TestNewSchema(t *testing.T) {
	a, b := NewSchema(t), NewSchema(t)
	for i, u := range []string{a, b} {
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), "CREATE TABLE x (n INT)"); err != nil {
			t.Fatalf("schema %d: %v", i, err)
		}
		var v string
		if err := db.QueryRowContext(t.Context(), "SHOW server_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		t.Logf("schema %d on PostgreSQL %s", i, v)
	}
}
