package bench

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestTransactionsOnPostgresWithTwoInstances runs the transactions section
// on PostgreSQL with one and then two servers sharing the database, and
// checks that every request succeeded, the plot has a point per count and
// the scratch schemas are gone afterwards.
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
		Instances:    []int{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	row := findRow(rep, "transactions (PostgreSQL, 2 instances, 4 clients)")
	if row == nil || len(row.Runs) != 2 || row.Runs[0].PerSec <= 0 || row.Runs[1].PerSec <= 0 {
		t.Fatalf("rows %v; want two runs of the PostgreSQL row", rowNames(rep))
	}
	if row := findRow(rep, "transactions (PostgreSQL, 1 instance, 4 clients)"); row == nil || len(row.Runs) != 2 {
		t.Fatalf("rows %v; want two runs of the one-instance row", rowNames(rep))
	}
	if len(rep.Scaling) != 4 { // points and stamps, one and two instances
		t.Errorf("%d points to plot, want 4: %+v", len(rep.Scaling), rep.Scaling)
	}
	var svg strings.Builder
	if err := rep.WritePlot(&svg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "1 instance", "2 instances", "points program, tx/s", "stamps program, tx/s"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("plot lacks %q", want)
		}
	}
	if n := strings.Count(svg.String(), `class="mark`); n != 4 {
		t.Errorf("plot has %d marks, want 4", n)
	}
	if after := schemas(); after != before {
		t.Errorf("%d scratch schemas left behind", after-before)
	}
}
