package postgres

import (
	"os"
	"testing"

	"herald/internal/store"
	"herald/internal/store/storetest"
	"herald/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openTemp opens a store in a fresh schema of the test server.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), pgtest.NewSchema(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
