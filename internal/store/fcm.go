package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const (
	selectMerchantCard = `SELECT version FROM cards WHERE merchant_id = ? AND serial_number = ?`
	selectFCMToken     = `SELECT COUNT(*) FROM fcm_tokens WHERE serial_number = ? AND token = ?`
	// A new token is taken to know the card as it is now: the app reads
	// the card when it registers, so only later changes are sent.
	insertFCMToken = `INSERT INTO fcm_tokens (serial_number, token, merchant_id, sent_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	refreshFCMToken = `UPDATE fcm_tokens SET updated_at = ? WHERE serial_number = ? AND token = ?`
	deleteFCMToken  = `DELETE FROM fcm_tokens WHERE merchant_id = ? AND serial_number = ? AND token = ?`
)

// AddFCMToken registers an FCM token for the merchant's card. created is
// false when the token was registered already. A card of another merchant
// is ErrNotFound.
func (ds *DeviceStore) AddFCMToken(ctx context.Context, merchantID, serial, token string) (created bool, err error) {
	err = ds.s.inTxRetry(ctx, func(tx *writeTx) error {
		created = false
		now := ds.s.nowUTC()
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
func (ds *DeviceStore) RemoveFCMToken(ctx context.Context, merchantID, serial, token string) error {
	res, err := ds.s.write.ExecContext(ctx, deleteFCMToken, merchantID, serial, token)
	if err != nil {
		return fmt.Errorf("remove fcm token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
