package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const (
	transactionColumns = `id, serial_number, seq, kind, points, purchase_amount, reason, COALESCE(refund_of, ''),
		refunded_amount, balance_after, expires_at, created_at, rewards`
	listTransactions = `SELECT ` + transactionColumns + ` FROM transactions t
		WHERE serial_number = ? AND seq < ? AND EXISTS (SELECT 1 FROM cards c WHERE c.serial_number = t.serial_number AND c.merchant_id = ?)
		ORDER BY seq DESC LIMIT ?`
)

// Transactions lists a card's ledger newest first, starting below seq
// beforeSeq (0 means from the newest).
func (cs *CardStore) Transactions(ctx context.Context, merchantID, serial string, beforeSeq int64, limit int) ([]loyalty.Transaction, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1 << 62
	}
	rows, err := cs.s.read.QueryContext(ctx, listTransactions, serial, beforeSeq, merchantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	defer rows.Close()
	var ts []loyalty.Transaction
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

func scanTransaction(row scanner) (loyalty.Transaction, error) {
	var t loyalty.Transaction
	var expires sql.NullTime
	err := row.Scan(&t.ID, &t.SerialNumber, &t.Seq, &t.Kind, &t.Points, &t.PurchaseAmount, &t.Reason, &t.RefundOf,
		&t.RefundedAmount, &t.BalanceAfter, &expires, &t.CreatedAt, &t.Rewards)
	if err != nil {
		return t, fmt.Errorf("load transaction: %w", err)
	}
	if expires.Valid {
		t.ExpiresAt = &expires.Time
	}
	return t, nil
}
