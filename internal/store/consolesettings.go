package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultTimezone is a merchant's time zone until an owner sets one: the
// market loyalpass is made for first.
const DefaultTimezone = "Europe/Moscow"

// ConsoleSettingsStore keeps a merchant's console settings: today its
// time zone, which cuts the dashboard's days and weeks. Reach it with
// Store.ConsoleSettings.
type ConsoleSettingsStore struct{ s *Store }

// ConsoleSettings returns the console settings' store.
func (s *Store) ConsoleSettings() *ConsoleSettingsStore { return &ConsoleSettingsStore{s} }

const (
	selectTimezone = `SELECT timezone FROM console_settings WHERE merchant_id = ?`
	upsertTimezone = `INSERT INTO console_settings (merchant_id, timezone, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (merchant_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at`
)

// Timezone returns the merchant's time zone, DefaultTimezone when none
// was set.
func (cs *ConsoleSettingsStore) Timezone(ctx context.Context, merchantID string) (string, error) {
	var tz string
	err := cs.s.read.QueryRowContext(ctx, selectTimezone, merchantID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultTimezone, nil
	}
	if err != nil {
		return "", fmt.Errorf("load time zone: %w", err)
	}
	return tz, nil
}

// SetTimezone sets the merchant's time zone (an IANA name the caller has
// checked) with audit in the same transaction.
func (cs *ConsoleSettingsStore) SetTimezone(ctx context.Context, merchantID, tz string, audit AuditEntry) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		return fmt.Errorf("time zone %q is not an IANA zone", tz)
	}
	s := cs.s
	return s.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, upsertTimezone, merchantID, tz, s.nowUTC()); err != nil {
			return fmt.Errorf("set time zone: %w", err)
		}
		audit.MerchantID = merchantID
		_, err := s.Audit().insert(ctx, tx, audit)
		return err
	})
}
