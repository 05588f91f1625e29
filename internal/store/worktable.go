package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// workTable is a table of durable work that workers claim in batches: the
// outbox (card and program changes, retries of every delivery channel),
// webhook deliveries, campaign recipients, automation messages, and the
// automations' evaluations. A row waits until its
// due_at; a claim takes the due rows in order, counts the attempt, and
// either leases them (until claimed_until: a row whose worker died is
// claimed again once the lease runs out) or, for work that must never be
// done twice, marks them taken for good. Where writers run in parallel
// (PostgreSQL) the rows are chosen FOR UPDATE SKIP LOCKED, so two claims
// never take the same row and neither waits on the other; SQLite's one
// writer makes the claim's subquery and update see the same rows.
type workTable struct {
	table string
	// filter narrows a claim to part of the table, with ? arguments that
	// come first among a claim's filter arguments; "" claims from all.
	filter string
	// waiting is the state of a row with work left.
	waiting string
	// take marks a claimed row of a table without a lease.
	take string
	// stamped, with take, also stamps claimed_until with the lease's end:
	// the row is still taken for good, but a row left taken past it is
	// known to be a dead worker's, not one still being sent.
	stamped bool
	leased  bool
	order   string
	returns string
}

var (
	outboxTable = workTable{table: "outbox", waiting: "done_at IS NULL AND NOT dead", leased: true,
		order: "due_at, id", returns: "id, merchant_id, topic, COALESCE(serial_number, ''), payload, attempts"}
	webhookTable = workTable{table: "webhook_deliveries", waiting: "status = 'pending'", leased: true,
		order: "due_at, id", returns: "id, endpoint_id, event, payload, attempts, created_at"}
	// A recipient is taken for good: one a dead instance handed to the
	// provider is never texted again (see Recover), as a lost text is
	// better than a second one; one it never handed over waits again.
	recipientTable = workTable{table: "campaign_recipients", filter: "campaign_id = ?", waiting: "status = 'pending'",
		take: "status = 'sending', handed_at = NULL", order: "id", returns: "id, campaign_id, customer_id, serial_number, attempts"}
	// An automation message is taken too, stamped: one a dead instance
	// handed to a provider is never sent again, one it never handed over
	// waits again (recoverMessages), while live instances' messages in
	// flight are left alone.
	messageTable = workTable{table: "automation_messages", waiting: "status = 'pending'", take: "status = 'sending', handed_at = NULL",
		stamped: true, order: "due_at, id", returns: automationMessageColumns}
)

// automationTable holds the automations themselves: an active one is
// due for its next evaluation at due_at, and one instance leases it for
// that evaluation.
var automationTable = workTable{table: "automations", waiting: "status = 'active'", leased: true,
	order: "due_at, id", returns: automationColumns}

// workTables lists every table of durable work, for tests.
var workTables = []workTable{outboxTable, webhookTable, recipientTable, couponItemTable, messageTable, automationTable}

// claimSQL is the claim of q in dialect d. The outer check of the waiting
// state leaves alone a row another claim took while this one waited. A
// claim records the claiming instance; a leased row is free again once
// its lease ran out and its instance is not alive (instances.go).
func (q workTable) claimSQL(d dialect) string {
	set, free, filter := q.take+", claimed_by = ?", "", ""
	switch {
	case q.leased:
		set = "claimed_until = ?, claimed_by = ?"
		free = " AND (claimed_until IS NULL OR (claimed_until < ? AND NOT " + liveClaim(q.table+".claimed_by") + "))"
	case q.stamped:
		set += ", claimed_until = ?"
	}
	if q.filter != "" {
		filter = q.filter + " AND "
	}
	chosen := "SELECT id FROM " + q.table + " WHERE " + filter + q.waiting + " AND due_at <= ?" + free +
		" ORDER BY " + q.order + " LIMIT ?" + d.skipLocked
	// Where rows are chosen SKIP LOCKED, the choice must run exactly once:
	// as the inner side of a nested loop PostgreSQL would run it again for
	// each row, skip the rows this statement has just updated, and claim
	// far more than the limit. ARRAY(…) is evaluated once.
	in := "id IN (" + chosen + ")"
	if d.skipLocked != "" {
		in = "id = ANY (ARRAY(" + chosen + "))"
	}
	return "UPDATE " + q.table + " SET " + set + ", attempts = attempts + 1 WHERE " + in + " AND " + q.waiting +
		" RETURNING " + q.returns
}

// claimOpts says what to claim: up to Limit due rows matching the
// table's filter with FilterArgs, leased for Lease on a leased table.
// Scan reads each row the claim returns; Then, if set, runs in the
// claim's transaction after them (to load what the rows refer to).
type claimOpts struct {
	FilterArgs []any
	Limit      int
	Lease      time.Duration
	Scan       func(*sql.Rows) error
	Then       func(*writeTx) error
}

// claim takes due rows of q as o says.
func (s *Store) claim(ctx context.Context, q workTable, o claimOpts) error {
	now := s.nowUTC()
	var args []any
	switch {
	case q.leased:
		args = append(args, now.Add(o.Lease), s.instance)
	case q.stamped:
		args = append(args, s.instance, now.Add(o.Lease))
	default:
		args = append(args, s.instance)
	}
	args = append(args, o.FilterArgs...)
	args = append(args, now)
	if q.leased {
		args = append(args, now, now)
	}
	args = append(args, o.Limit)
	return s.inTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, q.claimSQL(s.dialect), args...)
		if err != nil {
			return fmt.Errorf("claim %s: %w", q.table, err)
		}
		for rows.Next() {
			if err := o.Scan(rows); err != nil {
				rows.Close()
				return fmt.Errorf("claim %s: %w", q.table, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim %s: %w", q.table, err)
		}
		if o.Then != nil {
			return o.Then(tx)
		}
		return nil
	})
}
