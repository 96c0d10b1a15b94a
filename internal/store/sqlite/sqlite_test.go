package sqlite

import (
	"path/filepath"
	"testing"

	"herald/internal/store"
	"herald/internal/store/storetest"
)

// openTemp opens a store on a new file in t's temp dir.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
