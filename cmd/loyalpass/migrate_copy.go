package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The row work of `loyalpass migrate`: copying a table, converting SQLite's
// values, moving the sequences on, and checking the ledger.

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
