package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

// Calls that share a transaction: a failing one is rolled back alone,
// its writes with it, whether it failed in Go or in SQL; the others'
// writes are all committed.
func TestGroupCommitRollsBackFailuresAlone(t *testing.T) {
	ctx := context.Background()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "group.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	if _, err := raw.ExecContext(ctx, `CREATE TABLE t (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db := New(raw, raw, Dialect{Name: "sqlite"})
	errBad := errors.New("bad call")
	const calls = 200
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			err := db.inGroupTx(ctx, "insert", func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, i); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errBad
				case 2:
					_, err := tx.ExecContext(ctx, `INSERT INTO missing (n) VALUES (1)`)
					return err
				}
				return nil
			})
			if (i%3 == 0) != (err == nil) {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var n, bad int
	if err := raw.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN n % 3 != 0 THEN 1 END) FROM t`).Scan(&n, &bad); err != nil {
		t.Fatal(err)
	}
	if want := (calls + 2) / 3; n != want || bad != 0 {
		t.Errorf("%d rows, %d of failed calls; want %d, none", n, bad, want)
	}
}
