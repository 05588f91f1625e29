package bench

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestTransactionsOnPostgresWithTwoInstances runs the transactions section
// on PostgreSQL, two servers sharing the database, and checks that every
// request succeeded and the scratch schemas are gone afterwards.
func TestTransactionsOnPostgresWithTwoInstances(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set", storetest.PostgresEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	schemas := func() (n int) {
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.schemata
			WHERE schema_name LIKE 'loyalpass_bench_%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := schemas()
	rep, err := Run(ctx, Options{
		Runs:         2, // the second run must not trip over the first one's data
		Only:         []string{SectionTransactions},
		Transactions: TransactionOptions{Requests: 60, Concurrency: 4, Cards: 5},
		Database:     base,
		Instances:    2,
	})
	if err != nil {
		t.Fatal(err)
	}
	row := findRow(rep, "transactions (PostgreSQL, 2 instances, 4 clients)")
	if row == nil || len(row.Runs) != 2 || row.Runs[0].PerSec <= 0 || row.Runs[1].PerSec <= 0 {
		t.Fatalf("rows %v; want two runs of the PostgreSQL row", rowNames(rep))
	}
	if after := schemas(); after != before {
		t.Errorf("%d scratch schemas left behind", after-before)
	}
}
