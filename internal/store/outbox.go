package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outbox topics besides card and program changes.
const (
	// TopicPushRetry is one device's push that failed for a passing reason.
	TopicPushRetry = "push.retry"
)

// OutboxRow is a claimed piece of durable work.
type OutboxRow struct {
	ID         int64
	MerchantID string
	Topic      string
	Serial     string
	Payload    string
	Attempts   int // including this one
}

const (
	completeOutbox = `UPDATE outbox SET done_at = ?, claimed_until = NULL WHERE id = ?`
	rescheduleRow  = `UPDATE outbox SET due_at = ?, claimed_until = NULL, last_error = ?, dead = ? WHERE id = ?`
	extendLease    = `UPDATE outbox SET claimed_until = ? WHERE id = ?`
)

// ClaimOutbox leases up to limit due rows for lease; a row whose lease
// runs out (its worker died) is claimed again. Workers of several
// instances on one database never hold the same row.
func (qs *QueueStore) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxRow, error) {
	var rows []OutboxRow
	err := qs.s.claim(ctx, outboxTable, claimOpts{Limit: limit, Lease: lease, Scan: func(res *sql.Rows) error {
		var r OutboxRow
		if err := res.Scan(&r.ID, &r.MerchantID, &r.Topic, &r.Serial, &r.Payload, &r.Attempts); err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	}})
	return rows, err
}

// ExtendLease keeps a long-running row claimed.
func (qs *QueueStore) ExtendLease(ctx context.Context, id int64, lease time.Duration) error {
	_, err := qs.s.write.ExecContext(ctx, extendLease, qs.s.nowUTC().Add(lease), id)
	return err
}

// CompleteOutbox marks rows done.
func (qs *QueueStore) CompleteOutbox(ctx context.Context, ids ...int64) error {
	return qs.s.inTx(ctx, func(tx *writeTx) error {
		now := qs.s.nowUTC()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, completeOutbox, now, id); err != nil {
				return fmt.Errorf("complete outbox row: %w", err)
			}
		}
		return nil
	})
}

// RescheduleOutbox puts a row back for another attempt at due, or, when
// dead, keeps it as a dead letter with its last error.
func (qs *QueueStore) RescheduleOutbox(ctx context.Context, id int64, due time.Time, lastErr string, dead bool) error {
	_, err := qs.s.write.ExecContext(ctx, rescheduleRow, due.UTC(), lastErr, dead, id)
	return err
}

// DeadLetter is work that failed for good.
type DeadLetter struct {
	ID        int64
	Topic     string
	Serial    string
	Payload   string
	Attempts  int
	LastError string
	CreatedAt time.Time
}

const selectDeadLetters = `SELECT id, topic, COALESCE(serial_number, ''), payload, attempts, last_error, created_at
	FROM outbox WHERE merchant_id = ? AND dead AND id > ? ORDER BY id LIMIT ?`

// DeadLetters lists a merchant's dead letters after id.
func (qs *QueueStore) DeadLetters(ctx context.Context, merchantID string, afterID int64, limit int) ([]DeadLetter, error) {
	rows, err := qs.s.read.QueryContext(ctx, selectDeadLetters, merchantID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.ID, &d.Topic, &d.Serial, &d.Payload, &d.Attempts, &d.LastError, &d.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
