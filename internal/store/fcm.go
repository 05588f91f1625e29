package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FCMTarget is one FCM registration token of a merchant's app that has not
// been sent its card's current version.
type FCMTarget struct {
	Serial      string
	Token       string
	CardVersion int64
	Balance     int64
	SentVersion int64
}

// FCMOutcome is what became of a data message to a token: Delivered
// records the version as sent; Gone deletes the token (unless it was
// registered again after SentAt); Retry and Dead write a push.retry row
// (ChannelFCM) due at RetryAt, or a dead letter with Reason.
type FCMOutcome struct {
	Target                       FCMTarget
	Delivered, Gone, Retry, Dead bool
	SentAt, RetryAt              time.Time
	Reason                       string
}

const (
	selectMerchantCard = `SELECT version FROM cards WHERE merchant_id = ? AND serial_number = ?`
	selectFCMToken     = `SELECT COUNT(*) FROM fcm_tokens WHERE serial_number = ? AND token = ?`
	// A new token is taken to know the card as it is now: the app reads
	// the card when it registers, so only later changes are sent.
	insertFCMToken = `INSERT INTO fcm_tokens (serial_number, token, merchant_id, sent_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	refreshFCMToken = `UPDATE fcm_tokens SET updated_at = ? WHERE serial_number = ? AND token = ?`
	deleteFCMToken  = `DELETE FROM fcm_tokens WHERE merchant_id = ? AND serial_number = ? AND token = ?`
	selectFCMPrefix = `SELECT f.serial_number, f.token, c.version, c.balance, f.sent_version
		FROM fcm_tokens f JOIN cards c ON c.serial_number = f.serial_number
		WHERE f.sent_version < c.version`
	markFCMSent = `UPDATE fcm_tokens SET sent_version = CASE WHEN sent_version < ? THEN ? ELSE sent_version END
		WHERE serial_number = ? AND token = ?`
	dropGoneFCMToken = `DELETE FROM fcm_tokens WHERE serial_number = ? AND token = ? AND updated_at <= ?`
)

// AddFCMToken registers an FCM token for the merchant's card. created is
// false when the token was registered already. A card of another merchant
// is ErrNotFound.
func (s *Store) AddFCMToken(ctx context.Context, merchantID, serial, token string) (created bool, err error) {
	err = s.inTxRetry(ctx, func(tx *writeTx) error {
		created = false
		now := s.nowUTC()
		var version int64
		err := tx.QueryRowContext(ctx, selectMerchantCard, merchantID, serial).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load card %s: %w", serial, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, selectFCMToken, serial, token).Scan(&n); err != nil {
			return fmt.Errorf("load fcm token: %w", err)
		}
		if n > 0 {
			_, err = tx.ExecContext(ctx, refreshFCMToken, now, serial, token)
		} else {
			created = true
			_, err = tx.ExecContext(ctx, insertFCMToken, serial, token, merchantID, version, now, now)
		}
		if err != nil {
			return fmt.Errorf("store fcm token: %w", err)
		}
		return nil
	})
	return created, err
}

// RemoveFCMToken deletes an FCM token of the merchant's card. A card of
// another merchant, or a token the card does not have, is ErrNotFound.
func (s *Store) RemoveFCMToken(ctx context.Context, merchantID, serial, token string) error {
	res, err := s.write.ExecContext(ctx, deleteFCMToken, merchantID, serial, token)
	if err != nil {
		return fmt.Errorf("remove fcm token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// FCMTargets returns the tokens of the given cards that are behind their
// card's version.
func (s *Store) FCMTargets(ctx context.Context, serials []string) ([]FCMTarget, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	args := make([]any, len(serials))
	for i, v := range serials {
		args[i] = v
	}
	q := selectFCMPrefix + ` AND f.serial_number IN (?` + strings.Repeat(",?", len(serials)-1) + `)
		ORDER BY f.serial_number, f.token`
	return s.fcmTargets(ctx, q, args...)
}

// FCMTarget returns one token's target, if it is still behind its card.
func (s *Store) FCMTarget(ctx context.Context, serial, token string) ([]FCMTarget, error) {
	return s.fcmTargets(ctx, selectFCMPrefix+` AND f.serial_number = ? AND f.token = ?`, serial, token)
}

// ProgramFCMTargets pages through the tokens of a program's cards that are
// behind their card, in (serial, token) order after the given pair.
func (s *Store) ProgramFCMTargets(ctx context.Context, programID string, after FCMTarget, limit int) ([]FCMTarget, error) {
	return s.fcmTargets(ctx, selectFCMPrefix+` AND c.program_id = ?
		AND (f.serial_number > ? OR (f.serial_number = ? AND f.token > ?))
		ORDER BY f.serial_number, f.token LIMIT ?`, programID, after.Serial, after.Serial, after.Token, limit)
}

func (s *Store) fcmTargets(ctx context.Context, q string, args ...any) ([]FCMTarget, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("fcm targets: %w", err)
	}
	defer rows.Close()
	var out []FCMTarget
	for rows.Next() {
		var t FCMTarget
		if err := rows.Scan(&t.Serial, &t.Token, &t.CardVersion, &t.Balance, &t.SentVersion); err != nil {
			return nil, fmt.Errorf("fcm targets: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RecordFCM stores the outcomes of a round of FCM sends in one
// transaction: sent versions, dead tokens, retries and dead letters.
func (s *Store) RecordFCM(ctx context.Context, merchantID string, outcomes []FCMOutcome) error {
	return s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		for _, o := range outcomes {
			t := o.Target
			var err error
			switch {
			case o.Delivered:
				_, err = tx.ExecContext(ctx, markFCMSent, t.CardVersion, t.CardVersion, t.Serial, t.Token)
			case o.Gone:
				at := o.SentAt
				if at.IsZero() {
					at = now
				}
				_, err = tx.ExecContext(ctx, dropGoneFCMToken, t.Serial, t.Token, at.UTC())
			case o.Retry, o.Dead:
				err = s.queueChannelRetries(ctx, tx, merchantID, []ChannelRetry{{Serial: t.Serial, Channel: ChannelFCM,
					Token: t.Token, Due: o.RetryAt, Reason: o.Reason, Dead: o.Dead}})
			}
			if err != nil {
				return fmt.Errorf("record fcm send to card %s: %w", t.Serial, err)
			}
		}
		return nil
	})
}
