package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Environment variables that steer the package.
const (
	// EnvURL names an existing server to use instead of starting one.
	EnvURL = "HERALD_TEST_POSTGRES_URL"
	// EnvRequired set to 1 turns "no PostgreSQL" from a skip into a failure.
	EnvRequired = "HERALD_TEST_POSTGRES_REQUIRED"
)

var (
	once    sync.Once
	baseURL string
	srv     *Server
	failure error
)

// Main runs the package's tests and stops the private server, if one was
// started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop postgres: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// setup finds or starts the server once per test binary.
func setup() {
	if u := os.Getenv(EnvURL); u != "" {
		baseURL = u
		if err := ping(context.Background(), u); err != nil {
			failure = fmt.Errorf("%s=%s: %w", EnvURL, u, err)
		}
		return
	}
	s, err := Start(context.Background())
	if err != nil {
		failure = err
		return
	}
	srv, baseURL = s, s.URL
}

// URL returns the URL of a usable server (superuser on PostgreSQL we
// started; whatever EnvURL says otherwise). With no server it skips t,
// printing why to stderr as well so the skip is seen without -v.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if failure != nil {
		msg := fmt.Sprintf("PostgreSQL UNAVAILABLE, test not run: %v\n"+
			"(set %s to a server, or apt-get install -y postgresql)", failure, EnvURL)
		if os.Getenv(EnvRequired) == "1" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "pgtest: SKIP "+t.Name()+": "+msg)
		t.Skip(msg)
	}
	return baseURL
}

// NewSchema creates an empty schema for t and returns a URL whose
// connections use it (search_path), so migrations and queries land
// there. The schema is dropped, with everything in it, when t ends.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("pgtest: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

// withParam adds a run-time parameter to a postgres:// URL.
func withParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	if !strings.Contains(raw, "://") {
		return raw + " " + key + "=" + value // keyword/value DSN
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", raw, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// ping connects to url and runs a query.
func ping(ctx context.Context, url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
