package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Registration is a wallet on a device that follows a card.
type Registration struct {
	DeviceID       string // deviceLibraryIdentifier
	PassTypeID     string
	SerialNumber   string
	PushToken      string
	Channel        string // apple, walletpasses, passwallet, …
	PushServiceURL string // PassWallet's relay
	UserAgent      string
	// MaxDevices caps the devices following the card; 0 means no cap.
	MaxDevices int
}

// ErrTooManyDevices refuses a registration that would have a card
// followed by more devices than its cap.
var ErrTooManyDevices = errors.New("too many devices")

const (
	// upsertDevice records that a device library identifier exists. What
	// a device is told (its push token, channel and relay) belongs to its
	// registration for one card, so that registering for another card never
	// changes where this card's pushes go.
	upsertDevice = `INSERT INTO devices (id, created_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at`
	selectRegistration = `SELECT unregistered_at IS NULL FROM registrations WHERE device_id = ? AND serial_number = ?`
	// countCardDevices counts the devices following a card now; Google
	// Wallet saves and «Кошелёк» issues stand for the card's one Google
	// object or Кошелёк account, not a device.
	countCardDevices = `SELECT COUNT(*) FROM registrations WHERE serial_number = ? AND unregistered_at IS NULL
		AND channel NOT IN ('google', 'koshelek')`
	insertRegistration = `INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, push_token,
		push_service_url, user_agent, created_at, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	reactivateRegistration = `UPDATE registrations SET unregistered_at = NULL, registered_at = ?, channel = ?,
		push_token = ?, push_service_url = ?, user_agent = ?, pushed_seq = 0 WHERE device_id = ? AND serial_number = ?`
	refreshRegistration = `UPDATE registrations SET channel = ?, push_token = ?, push_service_url = ?, user_agent = ?
		WHERE device_id = ? AND serial_number = ?`
	unregister = `UPDATE registrations SET unregistered_at = ?
		WHERE device_id = ? AND serial_number = ? AND unregistered_at IS NULL`
	selectInstalls = `SELECT channel, COUNT(*) FILTER (WHERE unregistered_at IS NULL),
		COUNT(*) FILTER (WHERE unregistered_at IS NOT NULL), MIN(created_at)
		FROM registrations WHERE serial_number = ? GROUP BY channel ORDER BY channel`
)

// Register records that a device follows a card, with the push token
// (and channel and relay) that reach the device for this card; another
// card's registration of the same device keeps its own. created is false
// when the device already followed the card. A device that does not
// follow the card yet is refused with ErrTooManyDevices when r.MaxDevices
// devices follow it already.
func (ds *DeviceStore) Register(ctx context.Context, r Registration) (created bool, err error) {
	err = ds.s.inTxRetry(ctx, func(tx *writeTx) error {
		created = false
		now := ds.s.nowUTC()
		// Concurrent registrations of one card queue here, so the cap
		// counts every device that got in before.
		if err := lockRows(ctx, tx, ds.s.dialect.lockCard, r.SerialNumber); err != nil {
			return err
		}
		var active bool
		err := tx.QueryRowContext(ctx, selectRegistration, r.DeviceID, r.SerialNumber).Scan(&active)
		known := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load registration: %w", err)
		}
		if !active && r.MaxDevices > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, countCardDevices, r.SerialNumber).Scan(&n); err != nil {
				return fmt.Errorf("count devices of card %s: %w", r.SerialNumber, err)
			}
			if n >= r.MaxDevices {
				return ErrTooManyDevices
			}
		}
		if _, err := tx.ExecContext(ctx, upsertDevice, r.DeviceID, now, now); err != nil {
			return fmt.Errorf("store device: %w", err)
		}
		switch {
		case !known:
			created = true
			_, err = tx.ExecContext(ctx, insertRegistration, r.DeviceID, r.SerialNumber, r.PassTypeID, r.Channel,
				r.PushToken, r.PushServiceURL, r.UserAgent, now, now)
		case !active:
			created = true
			_, err = tx.ExecContext(ctx, reactivateRegistration, now, r.Channel, r.PushToken, r.PushServiceURL,
				r.UserAgent, r.DeviceID, r.SerialNumber)
		default:
			_, err = tx.ExecContext(ctx, refreshRegistration, r.Channel, r.PushToken, r.PushServiceURL, r.UserAgent,
				r.DeviceID, r.SerialNumber)
		}
		if err != nil {
			return fmt.Errorf("store registration: %w", err)
		}
		if created {
			return ds.s.emitCardEvent(ctx, tx, r.SerialNumber, EventCardInstalled, map[string]any{"channel": r.Channel})
		}
		return nil
	})
	return created, err
}

const selectCardMerchant = `SELECT merchant_id FROM cards WHERE serial_number = ?`

// emitCardEvent queues an event about a card for the card's merchant.
func (s *Store) emitCardEvent(ctx context.Context, tx *writeTx, serial, event string, data map[string]any) error {
	var merchant string
	if err := tx.QueryRowContext(ctx, selectCardMerchant, serial).Scan(&merchant); err != nil {
		return fmt.Errorf("card merchant: %w", err)
	}
	data["serial_number"] = serial
	return s.emitEvent(ctx, tx, merchant, event, data)
}

// Unregister records that a device stopped following a card (an
// uninstall). It reports whether the device was following it.
func (ds *DeviceStore) Unregister(ctx context.Context, deviceID, serial string) (bool, error) {
	var removed bool
	err := ds.s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, unregister, ds.s.nowUTC(), deviceID, serial)
		if err != nil {
			return fmt.Errorf("unregister: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		removed = true
		return ds.s.emitCardEvent(ctx, tx, serial, EventCardUninstalled, map[string]any{})
	})
	return removed, err
}

// dbTime reads a timestamp that may come back as text.
func dbTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano} {
			if parsed, err := time.Parse(layout, t); err == nil {
				return parsed.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("unreadable timestamp %q", t)
	case nil:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("unexpected timestamp type %T", v)
}

// Installs is a card's installations on one channel.
type Installs struct {
	Channel        string
	Installed      int // devices following the card now
	Uninstalled    int // devices that stopped following it
	FirstInstallAt time.Time
}

// CardInstalls lists a card's installations by channel.
func (ds *DeviceStore) CardInstalls(ctx context.Context, serial string) ([]Installs, error) {
	rows, err := ds.s.read.QueryContext(ctx, selectInstalls, serial)
	if err != nil {
		return nil, fmt.Errorf("card installs: %w", err)
	}
	defer rows.Close()
	var out []Installs
	for rows.Next() {
		var in Installs
		var first any // an aggregate loses the column's TIMESTAMP type in SQLite
		if err := rows.Scan(&in.Channel, &in.Installed, &in.Uninstalled, &first); err != nil {
			return nil, fmt.Errorf("card installs: %w", err)
		}
		if in.FirstInstallAt, err = dbTime(first); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}
