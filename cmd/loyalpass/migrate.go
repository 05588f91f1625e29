package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // registers the "sqlite3" driver

	"github.com/loyalpass/loyalpass/internal/store"
)

// migrateCmd copies a SQLite database into an empty PostgreSQL one, in one
// transaction, and checks the copy before committing it.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	from := fs.String("from", "", "source database: sqlite:PATH")
	to := fs.String("to", "", "target database: postgres://… (must be empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || path == "" {
		return fmt.Errorf("%w: --from must be sqlite:PATH", errUsage)
	}
	if !store.IsPostgresURL(*to) {
		return fmt.Errorf("%w: --to must be a postgres:// URL", errUsage)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("source database: %w", err)
	}
	// Bring both schemas up to this binary's version, so that they match.
	for _, url := range []string{*from, *to} {
		st, err := store.Open(ctx, store.Options{URL: url})
		if err != nil {
			return err
		}
		st.Close()
	}
	src, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := sql.Open("pgx", *to)
	if err != nil {
		return err
	}
	defer dst.Close()

	fmt.Fprintf(stderr, "copying %s into PostgreSQL…\n", path)
	rep, err := copyDatabase(ctx, src, dst)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "table\t  sqlite\tpostgres\t")
	for _, t := range rep.tables {
		mark := ""
		if t.source != t.target {
			mark = "MISMATCH"
		}
		fmt.Fprintf(w, "%s\t%8d\t%8d\t%s\n", t.name, t.source, t.target, mark)
	}
	w.Flush()
	fmt.Fprintf(stdout, "ledger: %d cards, %d whose balance or ledger sum differs\n", rep.cards, len(rep.ledgerErrors))
	for _, e := range rep.ledgerErrors {
		fmt.Fprintln(stdout, "  "+e)
	}
	if !rep.ok() {
		fmt.Fprintln(stderr, "loyalpass migrate: the copy does not match its source; nothing was committed")
		return exitCode(1)
	}
	fmt.Fprintln(stderr, "done: the PostgreSQL database holds the copy")
	return nil
}

// copyReport is what copyDatabase checked.
type copyReport struct {
	tables       []tableCount
	cards        int
	ledgerErrors []string
}

type tableCount struct {
	name           string
	source, target int64
}

func (r copyReport) ok() bool {
	for _, t := range r.tables {
		if t.source != t.target {
			return false
		}
	}
	return len(r.ledgerErrors) == 0
}

// copyBatchRows is how many rows one INSERT carries (fewer for wide
// tables: PostgreSQL takes at most 65535 parameters).
const copyBatchRows = 500

// copyDatabase copies every table of src into dst, parents before
// children, in one transaction on each side: a snapshot of src, and a
// transaction on dst that commits only if the counts and the ledger check.
func copyDatabase(ctx context.Context, src, dst *sql.DB) (copyReport, error) {
	var rep copyReport
	stx, err := src.BeginTx(ctx, nil)
	if err != nil {
		return rep, err
	}
	defer stx.Rollback() //nolint:errcheck // read only
	tables, err := sqliteTables(ctx, stx)
	if err != nil {
		return rep, err
	}
	dtx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return rep, err
	}
	defer dtx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := sameSchemaVersion(ctx, stx, dtx); err != nil {
		return rep, err
	}
	if err := refuseNonEmpty(ctx, dtx, tables); err != nil {
		return rep, err
	}
	// Empty the rows the migrations seed (the update tag counter): the
	// source's take their place.
	for _, t := range slices.Backward(tables) {
		if _, err := dtx.ExecContext(ctx, "DELETE FROM "+quoteName(t)); err != nil {
			return rep, fmt.Errorf("empty %s: %w", t, err)
		}
	}
	for _, t := range tables {
		n, err := copyTable(ctx, stx, dtx, t)
		if err != nil {
			return rep, fmt.Errorf("copy %s: %w", t, err)
		}
		var got int64
		if err := dtx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteName(t)).Scan(&got); err != nil {
			return rep, err
		}
		rep.tables = append(rep.tables, tableCount{name: t, source: n, target: got})
	}
	if err := resetSequences(ctx, dtx); err != nil {
		return rep, err
	}
	if err := checkCopiedLedger(ctx, stx, dtx, &rep); err != nil {
		return rep, err
	}
	if !rep.ok() {
		return rep, nil
	}
	return rep, dtx.Commit()
}

// sqliteTables lists the tables to copy, each after the tables it refers to.
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	names, err := queryStrings(ctx, tx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	parents := map[string][]string{}
	for _, t := range names {
		if parents[t], err = queryStrings(ctx, tx, `SELECT "table" FROM pragma_foreign_key_list(?)`, t); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", t, err)
		}
	}
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("tables refer to each other in a cycle through %s", t)
		case 2:
			return nil
		}
		state[t] = 1
		for _, p := range parents[t] {
			if p != t { // a table referring to itself: rows are copied in insertion order
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[t] = 2
		order = append(order, t)
		return nil
	}
	for _, t := range names {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// sameSchemaVersion refuses to copy between schemas of different versions.
func sameSchemaVersion(ctx context.Context, stx, dtx *sql.Tx) error {
	const q = `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`
	var from, to int
	if err := stx.QueryRowContext(ctx, q).Scan(&from); err != nil {
		return fmt.Errorf("source schema version: %w", err)
	}
	if err := dtx.QueryRowContext(ctx, q).Scan(&to); err != nil {
		return fmt.Errorf("target schema version: %w", err)
	}
	if from != to {
		return fmt.Errorf("the source schema is at version %d, the target at %d: this binary cannot copy between them", from, to)
	}
	return nil
}

// seededRows counts the rows of a table that a fresh migration did not put
// there: every row, except in the update tag counter, which starts at 0.
func seededRows(table string) string {
	if table == "change_counter" {
		return "SELECT COUNT(*) FROM change_counter WHERE value <> 0"
	}
	return "SELECT COUNT(*) FROM " + quoteName(table)
}

func refuseNonEmpty(ctx context.Context, tx *sql.Tx, tables []string) error {
	for _, t := range tables {
		var n int64
		if err := tx.QueryRowContext(ctx, seededRows(t)).Scan(&n); err != nil {
			return fmt.Errorf("check target table %s: %w", t, err)
		}
		if n > 0 {
			return fmt.Errorf("the target database is not empty (%s has %d rows): migrate into a new database", t, n)
		}
	}
	return nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quoteName quotes an identifier for either database.
func quoteName(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
