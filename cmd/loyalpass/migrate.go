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
	"time"

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

// copyTable copies one table in insertion (rowid) order, converting values
// to the target column's type, and returns how many rows it read.
func copyTable(ctx context.Context, stx, dtx *sql.Tx, table string) (int64, error) {
	cols, err := queryStrings(ctx, stx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return 0, err
	}
	types := map[string]string{}
	rows, err := dtx.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			rows.Close()
			return 0, err
		}
		types[c] = t
	}
	rows.Close()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		if types[c] == "" {
			return 0, fmt.Errorf("column %s is missing in PostgreSQL", c)
		}
		quoted[i] = quoteName(c)
	}
	list := strings.Join(quoted, ", ")
	src, err := stx.QueryContext(ctx, "SELECT "+list+" FROM "+quoteName(table)+" ORDER BY rowid")
	if err != nil {
		return 0, err
	}
	defer src.Close()
	perBatch := min(copyBatchRows, 65535/len(cols))
	var n int64
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteName(table) + " (" + list + ") VALUES ")
		for i := range batch {
			switch {
			case i%len(cols) == 0 && i > 0:
				b.WriteString("), (")
			case i == 0:
				b.WriteString("(")
			default:
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i+1)
		}
		b.WriteString(")")
		_, err := dtx.ExecContext(ctx, b.String(), batch...)
		batch = batch[:0]
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for src.Next() {
		if err := src.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			cv, err := convertValue(v, types[cols[i]])
			if err != nil {
				return n, fmt.Errorf("row %d, column %s: %w", n+1, cols[i], err)
			}
			batch = append(batch, cv)
		}
		n++
		if int(n)%perBatch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := src.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// sqliteTimeLayouts are the forms a timestamp takes in the SQLite file
// (the driver's own, and RFC 3339).
var sqliteTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999", "2006-01-02"}

// convertValue turns a value read from SQLite into what the PostgreSQL
// column of type pgType takes: SQLite keeps booleans as 0/1, times as
// text (the driver parses declared TIMESTAMP columns) and is loose about
// text and blobs.
func convertValue(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case int64:
			return b != 0, nil
		}
	case "timestamp with time zone", "timestamp without time zone":
		switch t := v.(type) {
		case time.Time:
			return t.UTC(), nil
		case string:
			for _, layout := range sqliteTimeLayouts {
				if parsed, err := time.Parse(layout, t); err == nil {
					return parsed.UTC(), nil
				}
			}
			return nil, fmt.Errorf("unreadable timestamp %q", t)
		case int64:
			return time.Unix(t, 0).UTC(), nil
		}
	case "bytea":
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
	case "text":
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	case "bigint", "integer", "smallint":
		switch i := v.(type) {
		case int64:
			return i, nil
		case bool:
			if i {
				return int64(1), nil
			}
			return int64(0), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot store %T in a %s column", v, pgType)
}

// resetSequences moves every identity and serial column's sequence past
// the largest copied id, so new rows do not collide with copied ones.
func resetSequences(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`)
	if err != nil {
		return fmt.Errorf("find sequences: %w", err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`,
			quoteName(c[1]), quoteName(c[0]))
		if _, err := tx.ExecContext(ctx, q, quoteName(c[0]), c[1]); err != nil {
			return fmt.Errorf("reset sequence of %s.%s: %w", c[0], c[1], err)
		}
	}
	return nil
}

// ledgerSums is each card's balance and the sum of its ledger lines.
const ledgerSums = `SELECT c.serial_number, c.balance, CAST(COALESCE(SUM(t.points), 0) AS BIGINT)
	FROM cards c LEFT JOIN transactions t ON t.serial_number = c.serial_number
	GROUP BY c.serial_number, c.balance`

// checkCopiedLedger compares every card's balance and ledger sum in the target
// with the source's, and checks that the balance is the sum of the lines.
func checkCopiedLedger(ctx context.Context, stx, dtx *sql.Tx, rep *copyReport) error {
	source, err := readLedgerSums(ctx, stx)
	if err != nil {
		return fmt.Errorf("source ledger: %w", err)
	}
	target, err := readLedgerSums(ctx, dtx)
	if err != nil {
		return fmt.Errorf("target ledger: %w", err)
	}
	rep.cards = len(target)
	for serial, s := range source {
		switch t, ok := target[serial]; {
		case !ok:
			rep.ledgerErrors = append(rep.ledgerErrors, fmt.Sprintf("card %s is missing", serial))
		case t != s || t[0] != t[1]:
			rep.ledgerErrors = append(rep.ledgerErrors, fmt.Sprintf("card %s: balance %d, lines sum to %d (source: %d, %d)",
				serial, t[0], t[1], s[0], s[1]))
		}
	}
	if len(target) != len(source) {
		rep.ledgerErrors = append(rep.ledgerErrors, fmt.Sprintf("%d cards in the target, %d in the source", len(target), len(source)))
	}
	slices.Sort(rep.ledgerErrors)
	return nil
}

func readLedgerSums(ctx context.Context, tx *sql.Tx) (map[string][2]int64, error) {
	rows, err := tx.QueryContext(ctx, ledgerSums)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sums := map[string][2]int64{}
	for rows.Next() {
		var serial string
		var balance, sum int64
		if err := rows.Scan(&serial, &balance, &sum); err != nil {
			return nil, err
		}
		sums[serial] = [2]int64{balance, sum}
	}
	return sums, rows.Err()
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
