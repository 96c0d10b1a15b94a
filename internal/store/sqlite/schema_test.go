package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"herald/internal/store"
	"herald/internal/store/migrate"
)

// TestSettingsJSONEvolves checks that stored settings survive a change
// of the Settings struct: unknown keys are ignored and absent keys take
// their defaults.
func TestSettingsJSONEvolves(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	c := t.Context()
	if err := db.CreateDomain(c, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org"}
	if err := db.CreateList(c, l); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, json string
		check      func(s store.Settings) bool
	}{
		{"unknown key ignored", `{"description":"kept","retired_setting":42,"from_the_future":{"x":1}}`,
			func(s store.Settings) bool {
				return s.Description == "kept" && s.MaxMessageSize == 40
			}},
		{"absent keys take defaults", `{"emergency":true}`,
			func(s store.Settings) bool {
				d := store.DefaultSettings("dev")
				d.Emergency = true
				return settingsMapEqual(s, d)
			}},
		{"empty object is the defaults", `{}`,
			func(s store.Settings) bool { return settingsMapEqual(s, store.DefaultSettings("dev")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.W.ExecContext(c, `UPDATE lists SET settings = ? WHERE id = ?`, tc.json, l.ID); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetListByID(c, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got.Settings) {
				t.Errorf("settings from %s = %+v", tc.json, got.Settings)
			}
		})
	}
	t.Run("wrong type is an error", func(t *testing.T) {
		if _, err := db.W.ExecContext(c, `UPDATE lists SET settings = '{"emergency":"maybe"}' WHERE id = ?`, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetListByID(c, l.ID); err == nil || !strings.Contains(err.Error(), "emergency") {
			t.Errorf("GetListByID with a corrupt setting: %v, want an error naming it", err)
		}
	})
	t.Run("stored by setting name", func(t *testing.T) {
		s := store.DefaultSettings("dev")
		if err := db.UpdateSettings(c, l.ID, s); err != nil {
			t.Fatal(err)
		}
		var raw string
		if err := db.R.QueryRowContext(c, `SELECT settings FROM lists WHERE id = ?`, l.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(raw, `"subject_prefix":"[dev] "`) || strings.Contains(raw, "SubjectPrefix") {
			t.Errorf("settings JSON %s is not keyed by setting name", raw)
		}
	})
}

func settingsMapEqual(a, b store.Settings) bool {
	am, bm := a.Map(), b.Map()
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return len(am) == len(bm)
}

// TestMigrations checks that reopening applies nothing twice and that a
// database from a newer herald is refused.
func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	for i := range 3 {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var n, want int
		if err := db.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		migs, err := migrate.Load(Migrations())
		if err != nil {
			t.Fatal(err)
		}
		want = len(migs)
		if n != want {
			t.Errorf("open #%d: %d rows in schema_migrations, want %d", i+1, n, want)
		}
		var mode string
		if err := db.R.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("journal_mode = %q, want wal", mode)
		}
		db.Close()
	}

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'now')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(t.Context(), path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open of a newer schema: %v, want refusal", err)
	}
}
