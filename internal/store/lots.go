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
	// Lots are used oldest expiry first; points that never expire last.
	selectLots = `SELECT id, remaining FROM transactions WHERE serial_number = ? AND remaining > 0
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END, expires_at IS NULL, expires_at, seq`
	takeFromLot     = `UPDATE transactions SET remaining = remaining - ? WHERE id = ? AND remaining >= ?`
	insertLedgerRow = `INSERT INTO transactions (id, merchant_id, program_id, customer_id, serial_number, seq, kind,
		points, purchase_amount, reason, refund_of, balance_after, remaining, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// updateLedgerCard also tags the change (change_seq) and moves
	// Last-Modified on (pass_modified, unix seconds, at least +1), in one
	// statement: the ledger's hot path pays for every statement.
	updateLedgerCard = `UPDATE cards SET balance = ?, tier = ?, version = ?, lifetime_points = ?, lifetime_spend = ?,
		last_purchase_at = CASE WHEN ? THEN ? ELSE last_purchase_at END, updated_at = ?, change_seq = ?,
		pass_modified = CASE WHEN pass_modified + 1 > ? THEN pass_modified + 1 ELSE ? END
		WHERE serial_number = ? AND version = ?`
	nextChangeSeq = `UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value`
	insertOutbox  = `INSERT INTO outbox (merchant_id, topic, serial_number, card_version, payload, created_at, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// TopicCardChanged is the outbox topic of a card whose pass changed.
const TopicCardChanged = "card.changed"

// writeLine writes l for card c: it draws debits from the card's lots,
// inserts the line, updates the card (balance, tier, totals, version) and
// queues the change in the outbox. c is updated to the new state.
func (s *Store) writeLine(ctx context.Context, tx *sql.Tx, c *ledgerCard, rules loyalty.Rules, l line, refundOf string, now time.Time) (Transaction, error) {
	if l.Points < 0 && l.ExpireLots == nil {
		lots, err := loadLots(ctx, tx, c.Serial, l.FirstLot)
		if err != nil {
			return Transaction{}, err
		}
		l.uses = loyalty.Consume(lots, -l.Points)
	}
	for _, lot := range l.ExpireLots {
		l.uses = append(l.uses, loyalty.LotUse{ID: lot.ID, Points: lot.Remaining})
	}
	var used int64
	for _, u := range l.uses {
		used += u.Points
	}
	if l.Points < 0 && used != -l.Points {
		// The card's lots no longer add up to its balance: refuse rather
		// than write a ledger that does not balance.
		return Transaction{}, fmt.Errorf("card %s: lots hold %d points, the debit needs %d", c.Serial, used, -l.Points)
	}
	balance := c.Balance + l.Points
	if balance < 0 {
		return Transaction{}, ErrInsufficientPoints
	}
	lifetimePoints, lifetimeSpend := c.LifetimePoints+l.LifetimePoints, c.LifetimeSpend+l.LifetimeSpend
	tier := rules.TierFor(c.Tier, lifetimePoints, lifetimeSpend)
	version := c.Version + 1

	t := Transaction{ID: newID("txn"), SerialNumber: c.Serial, Seq: version, Kind: l.Kind, Points: l.Points,
		PurchaseAmount: l.PurchaseAmount, Reason: l.Reason, RefundOf: refundOf, BalanceAfter: balance, CreatedAt: now}
	var remaining int64
	if l.Lot {
		remaining = l.Points
		if rules.Lifetime > 0 {
			exp := now.Add(rules.Lifetime)
			t.ExpiresAt = &exp
		}
	}
	var refundOfArg any
	if refundOf != "" {
		refundOfArg = refundOf
	}
	_, err := tx.ExecContext(ctx, insertLedgerRow, t.ID, c.MerchantID, c.ProgramID, c.CustomerID, c.Serial, t.Seq,
		t.Kind, t.Points, t.PurchaseAmount, t.Reason, refundOfArg, t.BalanceAfter, remaining, t.ExpiresAt, now)
	if err != nil {
		return t, fmt.Errorf("insert ledger line: %w", err)
	}
	for _, u := range l.uses {
		res, err := tx.ExecContext(ctx, takeFromLot, u.Points, u.ID, u.Points)
		if err != nil {
			return t, fmt.Errorf("draw on lot %s: %w", u.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return t, fmt.Errorf("lot %s holds less than %d points", u.ID, u.Points)
		}
	}
	if l.RefundedAmount > 0 {
		if _, err := tx.ExecContext(ctx, addRefunded, l.RefundedAmount, refundOf); err != nil {
			return t, fmt.Errorf("mark refund: %w", err)
		}
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, nextChangeSeq).Scan(&seq); err != nil {
		return t, fmt.Errorf("next update tag: %w", err)
	}
	res, err := tx.ExecContext(ctx, updateLedgerCard, balance, tier, version, lifetimePoints, lifetimeSpend,
		l.Purchase, now, now, seq, now.Unix(), now.Unix(), c.Serial, c.Version)
	if err != nil {
		return t, fmt.Errorf("update card: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return t, fmt.Errorf("card %s changed under the ledger", c.Serial)
	}
	if err := queueOutbox(ctx, tx, c.MerchantID, c.Serial, version, now); err != nil {
		return t, err
	}
	if err := s.emitEvent(ctx, tx, c.MerchantID, EventBalanceChanged, map[string]any{"serial_number": c.Serial,
		"transaction_id": t.ID, "kind": t.Kind, "points": t.Points, "balance": balance, "tier": tier}); err != nil {
		return t, err
	}
	c.Balance, c.Tier, c.Version, c.LifetimePoints, c.LifetimeSpend = balance, tier, version, lifetimePoints, lifetimeSpend
	return t, nil
}

// queueCardChange gives a changed card its update tag and a later
// Last-Modified, and writes the outbox row that tells the push channels.
func (s *Store) queueCardChange(ctx context.Context, tx *sql.Tx, merchantID, serial string, version int64, now time.Time) error {
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
func queueOutbox(ctx context.Context, tx *sql.Tx, merchantID, serial string, version int64, now time.Time) error {
	payload := `{"serial_number":"` + serial + `","version":` + strconv.FormatInt(version, 10) + `}`
	if _, err := tx.ExecContext(ctx, insertOutbox, merchantID, TopicCardChanged, serial, version, payload, now, now); err != nil {
		return fmt.Errorf("queue card change: %w", err)
	}
	return nil
}

// TopicProgramChanged is the outbox topic of a program whose look or
// terms changed: every installed card of it must be refreshed.
const TopicProgramChanged = "program.changed"

// queueProgramChange tags every card of a program as changed (one tag for
// all) and queues one outbox row for the push worker to fan out.
func (s *Store) queueProgramChange(ctx context.Context, tx *sql.Tx, merchantID, programID string, now time.Time) error {
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
	return nil
}

func loadLots(ctx context.Context, tx *sql.Tx, serial, first string) ([]loyalty.Lot, error) {
	rows, err := tx.QueryContext(ctx, selectLots, serial, first)
	if err != nil {
		return nil, fmt.Errorf("load lots: %w", err)
	}
	defer rows.Close()
	var lots []loyalty.Lot
	for rows.Next() {
		var l loyalty.Lot
		if err := rows.Scan(&l.ID, &l.Remaining); err != nil {
			return nil, fmt.Errorf("load lots: %w", err)
		}
		lots = append(lots, l)
	}
	return lots, rows.Err()
}
