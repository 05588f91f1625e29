package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/push"
)

// Delivery channels, as targets, retries and registrations name them.
// Google Wallet and FCM reach a card without a device of ours: a REST
// PATCH of the card's object, a data message to a merchant app's token.
const (
	ChannelApple  = "apple"  // APNs, to Apple Wallet on a registered device
	ChannelRelay  = "relay"  // an Android pkpass app's push relay
	ChannelGoogle = "google" // the card's Google Wallet object
	ChannelFCM    = "fcm"    // a merchant app's FCM registration token
)

// Target is one place a card's current version has not reached yet, on
// one channel. Which fields are set depends on the channel.
type Target struct {
	Channel string
	Serial  string
	// DeviceID names a device that follows the card (ChannelApple,
	// ChannelRelay); Token is the device's push token or, for ChannelFCM,
	// the registration token that is the target.
	DeviceID, Token string
	// App is the device's wallet app (a relay.Vendor, "apple" for Apple
	// Wallet); ServiceURL the relay a PassWallet app named.
	App, ServiceURL string
	// Version is what the target is told: the card's update tag for a
	// device, its version for FCM.
	Version int64
	Balance int64 // the card's balance, for channels that carry it
	// Message is the card's lock-screen message, for channels that carry
	// it (FCM: the app shows it as the automation's message).
	Message string
}

// Outcome is what became of a send to a target.
type Outcome struct {
	Target Target
	// Result is push.Delivered (the target has the version), push.Gone
	// (the target is dead: drop it, unless it registered again after At),
	// push.Retry (a push.retry row due at RetryAt) or push.Failed (kept as
	// a dead letter with Reason).
	Result  push.Outcome
	At      time.Time
	RetryAt time.Time
	Reason  string
}

// Google Wallet and «Кошелёк» installs are registrations without a device
// to wake: the Google object is patched instead (internal/googlewallet),
// the Кошелёк holder is sent a message (koshelek_push.go). APNs serves
// the Apple devices, the relays every other app.
const (
	selectDeviceTargets = `SELECT r.device_id, r.serial_number, r.push_token, r.channel, r.push_service_url, c.change_seq
	FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
	WHERE r.unregistered_at IS NULL AND r.pushed_seq < c.change_seq AND r.channel NOT IN ('google', 'koshelek')`
	appleOnly        = ` AND r.channel = 'apple'`
	relaysOnly       = ` AND r.channel <> 'apple'`
	selectFCMTargets = `SELECT f.serial_number, f.token, c.version, c.balance, c.message
		FROM fcm_tokens f JOIN cards c ON c.serial_number = f.serial_number
		WHERE f.sent_version < c.version`

	markFCMSent = `UPDATE fcm_tokens SET sent_version = CASE WHEN sent_version < ? THEN ? ELSE sent_version END
		WHERE serial_number = ? AND token = ?`
	dropGoneDevice = `UPDATE registrations SET unregistered_at = ?
		WHERE device_id = ? AND serial_number = ? AND unregistered_at IS NULL AND registered_at <= ?
		AND push_token = ?`
	dropGoneFCMToken = `DELETE FROM fcm_tokens WHERE serial_number = ? AND token = ? AND updated_at <= ?`
	insertRetryRow   = `INSERT INTO outbox (merchant_id, topic, serial_number, payload, created_at, due_at, attempts, last_error, dead)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// inSerials is " AND <column> IN (?, …)" for the serials, and its arguments.
func inSerials(column string, serials []string) (string, []any) {
	args := make([]any, len(serials))
	for i, v := range serials {
		args[i] = v
	}
	return ` AND ` + column + ` IN (?` + strings.Repeat(",?", len(serials)-1) + `)`, args
}

// deviceFilter is the condition of channel's devices: ChannelApple or
// ChannelRelay.
func deviceFilter(channel string) (string, error) {
	switch channel {
	case ChannelApple:
		return appleOnly, nil
	case ChannelRelay:
		return relaysOnly, nil
	}
	return "", fmt.Errorf("device targets: %q is not a device channel", channel)
}

// DeviceTargets returns the devices on channel (ChannelApple or
// ChannelRelay) that follow the given cards and have not been pushed
// their current change yet.
func (ds *DeviceStore) DeviceTargets(ctx context.Context, channel string, serials []string) ([]Target, error) {
	filter, err := deviceFilter(channel)
	if err != nil || len(serials) == 0 {
		return nil, err
	}
	in, args := inSerials("r.serial_number", serials)
	return ds.s.deviceTargets(ctx, channel, selectDeviceTargets+filter+in+` ORDER BY r.serial_number, r.device_id`, args...)
}

// ProgramDeviceTargets pages through the device targets of a program's
// cards on channel, in (serial, device) order after the given target.
func (ds *DeviceStore) ProgramDeviceTargets(ctx context.Context, channel, programID string, after Target, limit int) ([]Target, error) {
	filter, err := deviceFilter(channel)
	if err != nil {
		return nil, err
	}
	return ds.s.deviceTargets(ctx, channel, selectDeviceTargets+filter+` AND c.program_id = ?
		AND (r.serial_number > ? OR (r.serial_number = ? AND r.device_id > ?))
		ORDER BY r.serial_number, r.device_id LIMIT ?`, programID, after.Serial, after.Serial, after.DeviceID, limit)
}

func (s *Store) deviceTargets(ctx context.Context, channel, q string, args ...any) ([]Target, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s targets: %w", channel, err)
	}
	defer rows.Close()
	var ts []Target
	for rows.Next() {
		t := Target{Channel: channel}
		if err := rows.Scan(&t.DeviceID, &t.Serial, &t.Token, &t.App, &t.ServiceURL, &t.Version); err != nil {
			return nil, fmt.Errorf("%s targets: %w", channel, err)
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// FCMTargets returns the FCM tokens of the given cards that are behind
// their card's version.
func (ds *DeviceStore) FCMTargets(ctx context.Context, serials []string) ([]Target, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	in, args := inSerials("f.serial_number", serials)
	return ds.s.fcmTargets(ctx, selectFCMTargets+in+` ORDER BY f.serial_number, f.token`, args...)
}

// ProgramFCMTargets pages through the tokens of a program's cards that are
// behind their card, in (serial, token) order after the given target.
func (ds *DeviceStore) ProgramFCMTargets(ctx context.Context, programID string, after Target, limit int) ([]Target, error) {
	return ds.s.fcmTargets(ctx, selectFCMTargets+` AND c.program_id = ?
		AND (f.serial_number > ? OR (f.serial_number = ? AND f.token > ?))
		ORDER BY f.serial_number, f.token LIMIT ?`, programID, after.Serial, after.Serial, after.Token, limit)
}

func (s *Store) fcmTargets(ctx context.Context, q string, args ...any) ([]Target, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("fcm targets: %w", err)
	}
	defer rows.Close()
	var out []Target
	for rows.Next() {
		t := Target{Channel: ChannelFCM}
		if err := rows.Scan(&t.Serial, &t.Token, &t.Version, &t.Balance, &t.Message); err != nil {
			return nil, fmt.Errorf("fcm targets: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// retryPayload is a push.retry row's payload: the channel, and the device
// or, where there is none, the token that names the target. A Google
// retry needs neither: the row's serial is its target.
type retryPayload struct {
	Channel  string `json:"channel"`
	DeviceID string `json:"device_id,omitempty"`
	Token    string `json:"token,omitempty"`
}

// RecordOutcomes stores the outcomes of a round of sends in one
// transaction: what targets now have, dead targets dropped, retries and
// dead letters queued. A channel that keeps no state of ours (Google
// keeps its objects as it syncs them) has only its failures recorded.
func (ds *DeviceStore) RecordOutcomes(ctx context.Context, merchantID string, outcomes []Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return ds.s.inTx(ctx, func(tx *writeTx) error {
		now := ds.s.nowUTC()
		for _, o := range outcomes {
			if err := ds.s.recordOutcome(ctx, tx, merchantID, o, now); err != nil {
				return fmt.Errorf("record %s send to card %s: %w", o.Target.Channel, o.Target.Serial, err)
			}
		}
		return nil
	})
}

func (s *Store) recordOutcome(ctx context.Context, tx *writeTx, merchantID string, o Outcome, now time.Time) error {
	t := o.Target
	device := t.Channel == ChannelApple || t.Channel == ChannelRelay
	at := o.At
	if at.IsZero() {
		at = now
	}
	var err error
	switch {
	case o.Result == push.Delivered && device:
		_, err = tx.ExecContext(ctx, s.dialect.markPushed, t.Version, t.DeviceID, t.Serial)
	case o.Result == push.Delivered && t.Channel == ChannelFCM:
		_, err = tx.ExecContext(ctx, markFCMSent, t.Version, t.Version, t.Serial, t.Token)
	case o.Result == push.Gone && device:
		_, err = tx.ExecContext(ctx, dropGoneDevice, now, t.DeviceID, t.Serial, at.UTC(), t.Token)
	case o.Result == push.Gone && t.Channel == ChannelFCM:
		_, err = tx.ExecContext(ctx, dropGoneFCMToken, t.Serial, t.Token, at.UTC())
	case o.Result == push.Retry || o.Result == push.Failed:
		p := retryPayload{Channel: t.Channel, DeviceID: t.DeviceID}
		if t.DeviceID == "" {
			p.Token = t.Token
		}
		payload, jerr := json.Marshal(p)
		if jerr != nil {
			return jerr
		}
		due := o.RetryAt
		if due.IsZero() {
			due = now
		}
		_, err = tx.ExecContext(ctx, insertRetryRow, merchantID, TopicPushRetry, t.Serial, string(payload),
			now, due.UTC(), 1, o.Reason, o.Result == push.Failed)
		if o.Result == push.Retry {
			tx.enqueued(outboxQueue)
		}
	}
	return err
}

// RetryTarget is what a push.retry row names: the channel, and the device
// or token of the target (neither for Google).
type RetryTarget struct {
	Channel, DeviceID, Token string
}

// ParseRetry reads a push.retry row's payload.
func ParseRetry(payload string) (RetryTarget, error) {
	var p retryPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return RetryTarget{}, err
	}
	return RetryTarget(p), nil
}
