package sqlite

import (
	"errors"
	"path/filepath"
	"testing"

	"herald/internal/store"
)

// TestStoreOpen checks the "sqlite:" opener registered with store.Open.
func TestStoreOpen(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, url string
		ok        bool
	}{
		{"absolute path", "sqlite:" + filepath.Join(dir, "a.db"), true},
		{"double slash", "sqlite://" + filepath.Join(dir, "b.db"), true},
		{"empty path", "sqlite:", false},
		{"query string", "sqlite:" + filepath.Join(dir, "c.db") + "?mode=ro", false},
		{"memory", "sqlite::memory:", false},
		{"missing directory", "sqlite:" + filepath.Join(dir, "no", "such", "d.db"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tc.url)
			if tc.ok != (err == nil) {
				t.Fatalf("store.Open(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
			if err != nil {
				return
			}
			defer s.Close()
			if _, ok := s.(*DB); !ok {
				t.Errorf("store.Open returned %T, want *sqlite.DB", s)
			}
			_, err = s.GetDomain(t.Context(), "example.org")
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetDomain on a new store: %v, want ErrNotFound", err)
			}
		})
	}
}
