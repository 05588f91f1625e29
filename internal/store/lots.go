package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const (
	// selectLots reads a card's open lots; the domain orders them.
	selectLots      = `SELECT id, remaining, expires_at, seq FROM transactions WHERE serial_number = ? AND remaining > 0`
	takeFromLot     = `UPDATE transactions SET remaining = remaining - ? WHERE id = ? AND remaining >= ?`
	insertLedgerRow = `INSERT INTO transactions (id, merchant_id, program_id, customer_id, serial_number, seq, kind,
		points, purchase_amount, reason, refund_of, balance_after, remaining, expires_at, created_at, rewards)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	addRefunded  = `UPDATE transactions SET refunded_amount = refunded_amount + ? WHERE id = ?`
	insertOutbox = `INSERT INTO outbox (merchant_id, topic, serial_number, card_version, payload, created_at, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// TopicCardChanged is the outbox topic of a card whose pass changed.
const TopicCardChanged = "card.changed"

// write is one statement of a posting's writes: what it does (for its
// error), and, when rows is not negative, how many rows it must change.
type write struct {
	what  string
	query string
	args  []any
	rows  int64
}

// outcomeWrites lists the statements that save what the domain decided
// for card (as it was loaded, locked): insert the line (with its new ID,
// set in out.Line), draw on the lots, mark a refunded earn, update the card
// (balance, tier, totals, version, update tag tagArg) and queue the change
// in the outbox. The balance.changed webhook is eventWrite's.
func (s *Store) outcomeWrites(card loyalty.Card, out *loyalty.Outcome, tagArg int64) []write {
	t, c, now := &out.Line, out.Card, out.Line.CreatedAt
	t.ID = newSortableID("txn", now)
	var refundOf any
	if t.RefundOf != "" {
		refundOf = t.RefundOf
	}
	ws := make([]write, 0, 4+len(out.Uses))
	ws = append(ws, write{what: "insert ledger line", query: insertLedgerRow, rows: -1, args: []any{t.ID, c.MerchantID,
		c.ProgramID, c.CustomerID, c.SerialNumber, t.Seq, t.Kind, t.Points, t.PurchaseAmount, t.Reason, refundOf,
		t.BalanceAfter, out.Lot, t.ExpiresAt, now, t.Rewards}})
	for _, u := range out.Uses {
		ws = append(ws, write{what: fmt.Sprintf("draw %d points on lot %s", u.Points, u.ID), query: takeFromLot, rows: 1,
			args: []any{u.Points, u.ID, u.Points}})
	}
	if out.Refunded > 0 {
		ws = append(ws, write{what: "mark refund", query: addRefunded, rows: -1, args: []any{out.Refunded, t.RefundOf}})
	}
	ws = append(ws, write{what: "update card " + c.SerialNumber + " at the version the ledger read", rows: 1,
		query: s.dialect.updateLedgerCard, args: []any{c.Balance, c.Rewards, c.RedeemedAt, c.Tier, c.Version,
			c.LifetimePoints, c.LifetimeSpend, out.Purchase, now, now, tagArg, now.Unix(), now.Unix(),
			c.SerialNumber, card.Version}})
	ws = append(ws, outboxWrite(c.MerchantID, c.SerialNumber, c.Version, now))
	return ws
}

// balanceEvent is the balance.changed webhook of a saved outcome.
func balanceEvent(out loyalty.Outcome) map[string]any {
	t, c := out.Line, out.Card
	event := map[string]any{"serial_number": c.SerialNumber, "transaction_id": t.ID, "kind": t.Kind,
		"points": t.Points, "balance": c.Balance, "tier": c.Tier}
	// A stamp card's rewards and a coupon's use are part of the change.
	if t.Rewards != 0 || c.Rewards != 0 {
		event["rewards"] = c.Rewards
	}
	if c.RedeemedAt != nil {
		event["redeemed_at"] = c.RedeemedAt
	}
	return event
}

// saveOutcome runs outcomeWrites in tx, one statement at a time, and
// queues the webhook. It returns the line with its new ID.
func (s *Store) saveOutcome(ctx context.Context, tx *writeTx, card loyalty.Card, out loyalty.Outcome) (loyalty.Transaction, error) {
	tag, err := s.changeTag(ctx, tx)
	if err != nil {
		return out.Line, err
	}
	for _, w := range s.outcomeWrites(card, &out, tag) {
		res, err := tx.ExecContext(ctx, w.query, w.args...)
		if err != nil {
			return out.Line, fmt.Errorf("%s: %w", w.what, err)
		}
		if n, _ := res.RowsAffected(); w.rows >= 0 && n != w.rows {
			return out.Line, fmt.Errorf("%s: %d rows changed, not %d", w.what, n, w.rows)
		}
	}
	tx.enqueued(outboxQueue)
	if err := s.emitEvent(ctx, tx, out.Card.MerchantID, EventBalanceChanged, balanceEvent(out)); err != nil {
		return out.Line, err
	}
	return out.Line, nil
}

// queueCardChange gives a changed card its update tag and a later
// Last-Modified, and writes the outbox row that tells the push channels.
func (s *Store) queueCardChange(ctx context.Context, tx *writeTx, merchantID, serial string, version int64, now time.Time) error {
	seq, err := s.changeTag(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.dialect.markCardChanged, seq, now.Unix(), serial); err != nil {
		return fmt.Errorf("tag card change: %w", err)
	}
	return queueOutbox(ctx, tx, merchantID, serial, version, now)
}

// queueOutbox writes the outbox row of a card change.
func queueOutbox(ctx context.Context, tx *writeTx, merchantID, serial string, version int64, now time.Time) error {
	w := outboxWrite(merchantID, serial, version, now)
	if _, err := tx.ExecContext(ctx, w.query, w.args...); err != nil {
		return fmt.Errorf("%s: %w", w.what, err)
	}
	tx.enqueued(outboxQueue)
	return nil
}

// outboxWrite is the outbox row of a card change.
func outboxWrite(merchantID, serial string, version int64, now time.Time) write {
	payload := `{"serial_number":"` + serial + `","version":` + strconv.FormatInt(version, 10) + `}`
	return write{what: "queue card change", query: insertOutbox, rows: -1,
		args: []any{merchantID, TopicCardChanged, serial, version, payload, now, now}}
}

// TopicProgramChanged is the outbox topic of a program whose look or
// terms changed: every installed card of it must be refreshed.
const TopicProgramChanged = "program.changed"

// queueProgramChange tags every card of a program as changed (one tag for
// all) and queues one outbox row for the push worker to fan out.
func (s *Store) queueProgramChange(ctx context.Context, tx *writeTx, merchantID, programID string, now time.Time) error {
	if err := lockRows(ctx, tx, s.dialect.lockProgramCards, programID); err != nil {
		return err
	}
	seq, err := s.changeTag(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.dialect.markProgramChanged, seq, now.Unix(), programID); err != nil {
		return fmt.Errorf("tag program change: %w", err)
	}
	payload := `{"program_id":"` + programID + `"}`
	if _, err := tx.ExecContext(ctx, insertOutbox, merchantID, TopicProgramChanged, nil, nil, payload, now, now); err != nil {
		return fmt.Errorf("queue program change: %w", err)
	}
	tx.enqueued(outboxQueue)
	return nil
}

// loadLots reads a card's open lots, in no particular order.
func loadLots(ctx context.Context, q queryer, serial string) ([]loyalty.Lot, error) {
	rows, err := q.QueryContext(ctx, selectLots, serial)
	if err != nil {
		return nil, fmt.Errorf("load lots: %w", err)
	}
	defer rows.Close()
	return scanLots(rows)
}

// scanLots reads selectLots's rows (database/sql's or pgx's).
func scanLots(rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}) ([]loyalty.Lot, error) {
	var lots []loyalty.Lot
	for rows.Next() {
		var l loyalty.Lot
		var expires sql.NullTime
		if err := rows.Scan(&l.ID, &l.Remaining, &expires, &l.Seq); err != nil {
			return nil, fmt.Errorf("load lots: %w", err)
		}
		if expires.Valid {
			l.ExpiresAt = &expires.Time
		}
		lots = append(lots, l)
	}
	return lots, rows.Err()
}
