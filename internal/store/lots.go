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
	addRefunded = `UPDATE transactions SET refunded_amount = refunded_amount + ? WHERE id = ?`
	// updateLedgerCard also tags the change (change_seq) and moves
	// Last-Modified on (pass_modified, unix seconds, at least +1), in one
	// statement: the ledger's hot path pays for every statement.
	updateLedgerCard = `UPDATE cards SET balance = ?, rewards = ?, redeemed_at = ?, tier = ?, version = ?,
		lifetime_points = ?, lifetime_spend = ?,
		last_purchase_at = CASE WHEN ? THEN ? ELSE last_purchase_at END, updated_at = ?, change_seq = ?,
		pass_modified = CASE WHEN pass_modified + 1 > ? THEN pass_modified + 1 ELSE ? END
		WHERE serial_number = ? AND version = ?`
	nextChangeSeq = `UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value`
	insertOutbox  = `INSERT INTO outbox (merchant_id, topic, serial_number, card_version, payload, created_at, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// TopicCardChanged is the outbox topic of a card whose pass changed.
const TopicCardChanged = "card.changed"

// saveOutcome saves what the domain decided for card (as it was loaded,
// locked): it inserts the line, draws on the lots, marks a refunded earn,
// updates the card (balance, tier, totals, version) and queues the change
// in the outbox, all in tx. It returns the line with its new ID.
func (s *Store) saveOutcome(ctx context.Context, tx *writeTx, card loyalty.Card, out loyalty.Outcome) (loyalty.Transaction, error) {
	t, c, now := out.Line, out.Card, out.Line.CreatedAt
	t.ID = newID("txn")
	var refundOf any
	if t.RefundOf != "" {
		refundOf = t.RefundOf
	}
	_, err := tx.ExecContext(ctx, insertLedgerRow, t.ID, c.MerchantID, c.ProgramID, c.CustomerID, c.SerialNumber, t.Seq,
		t.Kind, t.Points, t.PurchaseAmount, t.Reason, refundOf, t.BalanceAfter, out.Lot, t.ExpiresAt, now, t.Rewards)
	if err != nil {
		return t, fmt.Errorf("insert ledger line: %w", err)
	}
	for _, u := range out.Uses {
		res, err := tx.ExecContext(ctx, takeFromLot, u.Points, u.ID, u.Points)
		if err != nil {
			return t, fmt.Errorf("draw on lot %s: %w", u.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return t, fmt.Errorf("lot %s holds less than %d points", u.ID, u.Points)
		}
	}
	if out.Refunded > 0 {
		if _, err := tx.ExecContext(ctx, addRefunded, out.Refunded, t.RefundOf); err != nil {
			return t, fmt.Errorf("mark refund: %w", err)
		}
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, nextChangeSeq).Scan(&seq); err != nil {
		return t, fmt.Errorf("next update tag: %w", err)
	}
	res, err := tx.ExecContext(ctx, updateLedgerCard, c.Balance, c.Rewards, c.RedeemedAt, c.Tier, c.Version,
		c.LifetimePoints, c.LifetimeSpend,
		out.Purchase, now, now, seq, now.Unix(), now.Unix(), c.SerialNumber, card.Version)
	if err != nil {
		return t, fmt.Errorf("update card: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return t, fmt.Errorf("card %s changed under the ledger", c.SerialNumber)
	}
	if err := queueOutbox(ctx, tx, c.MerchantID, c.SerialNumber, c.Version, now); err != nil {
		return t, err
	}
	event := map[string]any{"serial_number": c.SerialNumber, "transaction_id": t.ID, "kind": t.Kind,
		"points": t.Points, "balance": c.Balance, "tier": c.Tier}
	// A stamp card's rewards and a coupon's use are part of the change.
	if t.Rewards != 0 || c.Rewards != 0 {
		event["rewards"] = c.Rewards
	}
	if c.RedeemedAt != nil {
		event["redeemed_at"] = c.RedeemedAt
	}
	if err := s.emitEvent(ctx, tx, c.MerchantID, EventBalanceChanged, event); err != nil {
		return t, err
	}
	return t, nil
}

// queueCardChange gives a changed card its update tag and a later
// Last-Modified, and writes the outbox row that tells the push channels.
func (s *Store) queueCardChange(ctx context.Context, tx *writeTx, merchantID, serial string, version int64, now time.Time) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, nextChangeSeq).Scan(&seq); err != nil {
		return fmt.Errorf("next update tag: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.dialect.markCardChanged, seq, now.Unix(), serial); err != nil {
		return fmt.Errorf("tag card change: %w", err)
	}
	return queueOutbox(ctx, tx, merchantID, serial, version, now)
}

// queueOutbox writes the outbox row of a card change.
func queueOutbox(ctx context.Context, tx *writeTx, merchantID, serial string, version int64, now time.Time) error {
	payload := `{"serial_number":"` + serial + `","version":` + strconv.FormatInt(version, 10) + `}`
	if _, err := tx.ExecContext(ctx, insertOutbox, merchantID, TopicCardChanged, serial, version, payload, now, now); err != nil {
		return fmt.Errorf("queue card change: %w", err)
	}
	tx.enqueued(outboxQueue)
	return nil
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
	var seq int64
	if err := tx.QueryRowContext(ctx, nextChangeSeq).Scan(&seq); err != nil {
		return fmt.Errorf("next update tag: %w", err)
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
