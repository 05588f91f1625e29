// Package storetest gives tests a database of their own: a SQLite file in
// the test's temporary directory, and, when LOYALPASS_TEST_POSTGRES holds
// the URL of a PostgreSQL database, a fresh schema in it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// PostgresEnv names the variable that holds the PostgreSQL test database,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "LOYALPASS_TEST_POSTGRES"

// Backend is a database a test can open: a name for t.Run and a function
// that makes a fresh, empty database and returns its URL.
type Backend struct {
	Name string
	URL  func(t testing.TB) string
}

// Backends lists SQLite, and PostgreSQL when PostgresEnv is set.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", URL: SQLiteURL}}
	if os.Getenv(PostgresEnv) != "" {
		bs = append(bs, Backend{Name: "postgres", URL: PostgresURL})
	}
	return bs
}

// SQLiteURL returns the URL of a new SQLite file in t's temporary directory.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// PostgresURL creates a schema of its own in the database named by
// PostgresEnv and returns a URL whose connections use it; the schema is
// dropped when the test ends. The test is skipped if PostgresEnv is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set", PostgresEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "test_" + strings.ToLower(rand.Text()[:16])
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema in %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		// The test closes its stores first (cleanups run last in, first out).
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds options=-csearch_path=schema to a postgres:// URL.
func withSearchPath(t testing.TB, base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	opts := strings.TrimSpace(q.Get("options") + " -csearch_path=" + schema)
	q.Set("options", opts)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads + literally
	return u.String()
}
