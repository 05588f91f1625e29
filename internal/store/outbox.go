package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
func (s *Store) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxRow, error) {
	now := s.nowUTC()
	var rows []OutboxRow
	err := s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.QueryContext(ctx, s.dialect.claimOutbox, now.Add(lease), now, now, limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		defer res.Close()
		for res.Next() {
			var r OutboxRow
			if err := res.Scan(&r.ID, &r.MerchantID, &r.Topic, &r.Serial, &r.Payload, &r.Attempts); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return res.Err()
	})
	return rows, err
}

// ExtendLease keeps a long-running row claimed.
func (s *Store) ExtendLease(ctx context.Context, id int64, lease time.Duration) error {
	_, err := s.write.ExecContext(ctx, extendLease, s.nowUTC().Add(lease), id)
	return err
}

// CompleteOutbox marks rows done.
func (s *Store) CompleteOutbox(ctx context.Context, ids ...int64) error {
	return s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
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
func (s *Store) RescheduleOutbox(ctx context.Context, id int64, due time.Time, lastErr string, dead bool) error {
	_, err := s.write.ExecContext(ctx, rescheduleRow, due.UTC(), lastErr, dead, id)
	return err
}

// PushTarget is one device to wake for one card.
type PushTarget struct {
	DeviceID       string
	Serial         string
	PushToken      string
	Channel        string
	PushServiceURL string
	RegisteredAt   time.Time
	ChangeSeq      int64 // the card's current update tag
}

// Google Wallet installs (ChannelGoogle) are registrations without a
// device to wake: their object is patched instead (internal/googlewallet).
const selectTargetsPrefix = `SELECT r.device_id, r.serial_number, r.push_token, r.channel, r.push_service_url,
	r.registered_at, c.change_seq
	FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
	WHERE r.unregistered_at IS NULL AND r.pushed_seq < c.change_seq AND r.channel <> 'google'`

// PushTargets returns the devices that follow the given cards and have
// not been pushed their current change yet.
func (s *Store) PushTargets(ctx context.Context, serials []string) ([]PushTarget, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	args := make([]any, len(serials))
	for i, v := range serials {
		args[i] = v
	}
	q := selectTargetsPrefix + ` AND r.serial_number IN (?` + strings.Repeat(",?", len(serials)-1) + `)`
	return s.queryTargets(ctx, q, args...)
}

// DeviceTarget returns one device's target for a card, if it still needs
// a push.
func (s *Store) DeviceTarget(ctx context.Context, deviceID, serial string) ([]PushTarget, error) {
	return s.queryTargets(ctx, selectTargetsPrefix+` AND r.device_id = ? AND r.serial_number = ?`, deviceID, serial)
}

// ProgramTargets pages through the targets of a program's cards, by
// serial after the given one.
func (s *Store) ProgramTargets(ctx context.Context, programID, afterSerial string, limit int) ([]PushTarget, error) {
	return s.queryTargets(ctx, selectTargetsPrefix+` AND c.program_id = ? AND r.serial_number > ?
		ORDER BY r.serial_number LIMIT ?`, programID, afterSerial, limit)
}

func (s *Store) queryTargets(ctx context.Context, q string, args ...any) ([]PushTarget, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("push targets: %w", err)
	}
	defer rows.Close()
	var ts []PushTarget
	for rows.Next() {
		var t PushTarget
		if err := rows.Scan(&t.DeviceID, &t.Serial, &t.PushToken, &t.Channel, &t.PushServiceURL, &t.RegisteredAt, &t.ChangeSeq); err != nil {
			return nil, fmt.Errorf("push targets: %w", err)
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// PushOutcome is what became of a push to a target.
type PushOutcome struct {
	Target PushTarget
	// Delivered marks the change as pushed; Gone unregisters the device
	// (unless it registered again after GoneAt); Retry queues a retry
	// at RetryAt; Dead keeps a dead letter with Reason.
	Delivered, Gone, Retry, Dead bool
	GoneAt, RetryAt              time.Time
	Reason                       string
}

const (
	dropGone = `UPDATE registrations SET unregistered_at = ?
		WHERE device_id = ? AND serial_number = ? AND unregistered_at IS NULL AND registered_at <= ?
		AND push_token = ?`
	insertPushRow = `INSERT INTO outbox (merchant_id, topic, serial_number, payload, created_at, due_at, attempts, last_error, dead)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// RecordPushes stores the outcomes of a round of pushes in one
// transaction: pushed tags, dead tokens, retries and dead letters.
func (s *Store) RecordPushes(ctx context.Context, merchantID string, outcomes []PushOutcome) error {
	return s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		for _, o := range outcomes {
			t := o.Target
			var err error
			switch {
			case o.Delivered:
				_, err = tx.ExecContext(ctx, s.dialect.markPushed, t.ChangeSeq, t.DeviceID, t.Serial)
			case o.Gone:
				at := o.GoneAt
				if at.IsZero() {
					at = now
				}
				_, err = tx.ExecContext(ctx, dropGone, now, t.DeviceID, t.Serial, at.UTC(), t.PushToken)
			case o.Retry, o.Dead:
				payload, _ := json.Marshal(map[string]string{"device_id": t.DeviceID, "channel": t.Channel})
				due := o.RetryAt
				if due.IsZero() {
					due = now
				}
				_, err = tx.ExecContext(ctx, insertPushRow, merchantID, TopicPushRetry, t.Serial, string(payload),
					now, due.UTC(), 1, o.Reason, o.Dead)
				if !o.Dead {
					tx.enqueued(outboxQueue)
				}
			}
			if err != nil {
				return fmt.Errorf("record push to %s: %w", t.DeviceID, err)
			}
		}
		return nil
	})
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
func (s *Store) DeadLetters(ctx context.Context, merchantID string, afterID int64, limit int) ([]DeadLetter, error) {
	rows, err := s.read.QueryContext(ctx, selectDeadLetters, merchantID, afterID, limit)
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
