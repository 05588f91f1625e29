package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// scratchSchema creates an empty schema in the PostgreSQL database at
// base and returns a URL whose connections work in it, and a function
// that drops it: a run measures a fresh database and leaves none behind.
func scratchSchema(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("database URL: %w", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := "loyalpass_bench_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create a scratch schema: %w", err)
	}
	drop := func() {
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
		db.Close()
	}
	q := u.Query()
	q.Set("options", strings.TrimSpace(q.Get("options")+" -csearch_path="+schema))
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads + literally
	return u.String(), drop, nil
}
