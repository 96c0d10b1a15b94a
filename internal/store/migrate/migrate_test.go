package migrate

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite" // driver "sqlite" for the tests
)

var sqliteDialect = Dialect{Name: "sqlite", Placeholder: func(int) string { return "?" }}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLoad(t *testing.T) {
	cases := []struct {
		name    string
		fs      fstest.MapFS
		want    []int
		wantErr string
	}{
		{"sorted by number", fstest.MapFS{
			"0010_c.sql": file("x"), "0002_b.sql": file("x"), "0001_a.sql": file("x"), "README": file("x"),
		}, []int{1, 2, 10}, ""},
		{"empty", fstest.MapFS{}, nil, ""},
		{"bad name", fstest.MapFS{"first.sql": file("x")}, nil, "NNNN_name.sql"},
		{"version zero", fstest.MapFS{"0000_zero.sql": file("x")}, nil, "bad version"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": file("x"), "1_b.sql": file("x")}, nil, "same version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := Load(tc.fs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range migs {
				got = append(got, m.Version)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("versions %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUp(t *testing.T) {
	db := openDB(t)
	fs := fstest.MapFS{
		"0001_t.sql": file("CREATE TABLE t (n INTEGER);\nINSERT INTO t VALUES (1);"),
		"0002_u.sql": file("CREATE TABLE u (n INTEGER);"),
	}
	applied, err := Up(t.Context(), db, fs, sqliteDialect)
	if err != nil || !slices.Equal(applied, []int{1, 2}) {
		t.Fatalf("first Up = %v, %v; want [1 2]", applied, err)
	}
	applied, err = Up(t.Context(), db, fs, sqliteDialect)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Up = %v, %v; want nothing applied", applied, err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Errorf("table t has %d rows (%v): a migration ran twice?", n, err)
	}

	// A later file with an error is rolled back whole and not recorded.
	fs["0003_bad.sql"] = file("CREATE TABLE v (n INTEGER);\nINSERT INTO nowhere VALUES (1);")
	if _, err := Up(t.Context(), db, fs, sqliteDialect); err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
		t.Fatalf("Up with a bad file = %v, want an error naming it", err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'v'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration left table v behind")
	}
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Errorf("schema version %d after failed migration, want 2", n)
	}

	// Fixed, it applies.
	fs["0003_bad.sql"] = file("CREATE TABLE v (n INTEGER);")
	if applied, err := Up(t.Context(), db, fs, sqliteDialect); err != nil || !slices.Equal(applied, []int{3}) {
		t.Fatalf("Up after fix = %v, %v; want [3]", applied, err)
	}

	// An older program refuses the newer database.
	delete(fs, "0003_bad.sql")
	if _, err := Up(t.Context(), db, fs, sqliteDialect); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Up with fewer files = %v, want refusal", err)
	}
}
