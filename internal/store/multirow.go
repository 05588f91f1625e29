package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// multiRow is an INSERT that writes many rows per statement: Head (up to
// and including VALUES), Cols placeholders a row, then Tail (an ON
// CONFLICT clause, or ""). A scan that writes a row per card (the rhythm
// watcher, the scheduler's messages) writes a page of them in a few
// statements instead of one round trip each.
type multiRow struct {
	Head string
	Cols int
	Tail string
}

// multiRowMax is the most rows one statement carries: 256 rows of up to
// 12 columns stay far below SQLite's and PostgreSQL's limits on bound
// parameters (32,766 and 65,535).
const multiRowMax = 256

// exec inserts rows (Cols values each, flattened) and reports how many
// rows the statements changed. Statements carry multiRowMax rows, then
// the rest in halving sizes (128, 64, … 1), so that a statement has one
// of a few shapes: the rebinding and statement caches stay small.
func (m multiRow) exec(ctx context.Context, tx *writeTx, rows []any) (int64, error) {
	if len(rows)%m.Cols != 0 {
		return 0, fmt.Errorf("multi-row insert: %d values for %d columns", len(rows), m.Cols)
	}
	var changed int64
	for size := multiRowMax; len(rows) > 0; {
		n := len(rows) / m.Cols
		if n < size {
			size /= 2
			continue
		}
		res, err := tx.ExecContext(ctx, m.sql(size), rows[:size*m.Cols]...)
		if err != nil {
			return changed, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return changed, err
		}
		changed += k
		rows = rows[size*m.Cols:]
	}
	return changed, nil
}

// multiRowSQL caches multiRow.sql's answers, by statement and size.
var multiRowSQL sync.Map // multiRowKey → string

type multiRowKey struct {
	multiRow
	n int
}

// sql is the statement for n rows.
func (m multiRow) sql(n int) string {
	if q, ok := multiRowSQL.Load(multiRowKey{m, n}); ok {
		return q.(string)
	}
	row := "(?" + strings.Repeat(", ?", m.Cols-1) + ")"
	var b strings.Builder
	b.Grow(len(m.Head) + n*(len(row)+2) + len(m.Tail) + 2)
	b.WriteString(m.Head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if m.Tail != "" {
		b.WriteString(" ")
		b.WriteString(m.Tail)
	}
	q := b.String()
	multiRowSQL.Store(multiRowKey{m, n}, q)
	return q
}
