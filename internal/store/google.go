package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// GoogleObject is a card's Google Wallet object as last sent to Google:
// what the card showed then, so the next sync knows what changed.
type GoogleObject struct {
	Serial         string
	ObjectID       string
	ClassID        string
	CardVersion    int64 // card version Google shows
	ProgramVersion int64 // program version the object was built from
	Balance        int64
	Tier           string
	Message        string // lock-screen message Google shows
	InsertedAt     time.Time
	UpdatedAt      time.Time
}

// keepNonces is how long a callback's nonce is remembered: far longer
// than a callback message lives (Google sets its expiry minutes ahead).
const keepNonces = 30 * 24 * time.Hour

// keepNotifications is how long notification times are kept: Google's
// budget is 3 a day, and a margin costs nothing.
const keepNotifications = 48 * time.Hour

const (
	selectGoogleObject = `SELECT serial_number, object_id, class_id, card_version, program_version, balance, tier,
		message, inserted_at, updated_at FROM google_objects WHERE serial_number = ?`
	// Versions never go back: a slower sync of an older state loses.
	upsertGoogleObject = `INSERT INTO google_objects (serial_number, object_id, class_id, card_version, program_version,
		balance, tier, message, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (serial_number) DO UPDATE SET class_id = excluded.class_id, card_version = excluded.card_version,
			program_version = excluded.program_version, balance = excluded.balance, tier = excluded.tier,
			message = excluded.message, updated_at = excluded.updated_at
		WHERE google_objects.card_version <= excluded.card_version
			AND google_objects.program_version <= excluded.program_version`
	insertGoogleNotification  = `INSERT INTO google_notifications (serial_number, sent_at) VALUES (?, ?)`
	pruneGoogleNotifications  = `DELETE FROM google_notifications WHERE serial_number = ? AND sent_at < ?`
	selectGoogleNotifications = `SELECT sent_at FROM google_notifications WHERE serial_number = ? AND sent_at > ?
		ORDER BY sent_at`
	selectGoogleClassVersion = `SELECT program_version FROM google_classes WHERE class_id = ?`
	upsertGoogleClass        = `INSERT INTO google_classes (class_id, program_id, program_version, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (class_id) DO UPDATE SET program_version = excluded.program_version, updated_at = excluded.updated_at
		WHERE google_classes.program_version <= excluded.program_version`
	selectGoogleSerialsPrefix  = `SELECT serial_number FROM google_objects`
	selectProgramGoogleSerials = `SELECT g.serial_number FROM google_objects g JOIN cards c ON c.serial_number = g.serial_number
		WHERE c.program_id = ? AND g.serial_number > ? ORDER BY g.serial_number LIMIT ?`
	googleCardExists  = `SELECT COUNT(*) FROM cards WHERE serial_number = ?`
	pruneGoogleNonces = `DELETE FROM google_callbacks WHERE received_at < ?`
	insertGoogleNonce = `INSERT INTO google_callbacks (nonce, object_id, event_type, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (nonce) DO NOTHING`
)

// GoogleObject returns the card's Google object, or ErrNotFound when none
// was inserted.
func (ds *DeviceStore) GoogleObject(ctx context.Context, serial string) (GoogleObject, error) {
	var o GoogleObject
	err := ds.s.read.QueryRowContext(ctx, selectGoogleObject, serial).Scan(&o.Serial, &o.ObjectID, &o.ClassID,
		&o.CardVersion, &o.ProgramVersion, &o.Balance, &o.Tier, &o.Message, &o.InsertedAt, &o.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("load google object of %s: %w", serial, err)
	}
	return o, nil
}

// SaveGoogleObject records what Google now shows of a card; the first save
// marks the object inserted. A non-zero notified is when a visible
// notification went out, which counts against the card's daily budget.
// A state older than the one recorded is ignored.
func (ds *DeviceStore) SaveGoogleObject(ctx context.Context, o GoogleObject, notified time.Time) error {
	return ds.s.inTx(ctx, func(tx *writeTx) error {
		now := ds.s.nowUTC()
		if _, err := tx.ExecContext(ctx, upsertGoogleObject, o.Serial, o.ObjectID, o.ClassID, o.CardVersion,
			o.ProgramVersion, o.Balance, o.Tier, o.Message, now, now); err != nil {
			return fmt.Errorf("save google object of %s: %w", o.Serial, err)
		}
		if notified.IsZero() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, insertGoogleNotification, o.Serial, notified.UTC()); err != nil {
			return fmt.Errorf("record google notification of %s: %w", o.Serial, err)
		}
		if _, err := tx.ExecContext(ctx, pruneGoogleNotifications, o.Serial, now.Add(-keepNotifications)); err != nil {
			return fmt.Errorf("prune google notifications of %s: %w", o.Serial, err)
		}
		return nil
	})
}

// GoogleNotifications returns when visible notifications went out for the
// card after since, oldest first.
func (ds *DeviceStore) GoogleNotifications(ctx context.Context, serial string, since time.Time) ([]time.Time, error) {
	rows, err := ds.s.read.QueryContext(ctx, selectGoogleNotifications, serial, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("google notifications of %s: %w", serial, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// GoogleClassVersion returns the program version the class was last sent
// with, 0 when it never was.
func (ds *DeviceStore) GoogleClassVersion(ctx context.Context, classID string) (int64, error) {
	var v int64
	err := ds.s.read.QueryRowContext(ctx, selectGoogleClassVersion, classID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("google class %s: %w", classID, err)
	}
	return v, nil
}

// SaveGoogleClass records that Google holds the class of a program as of
// the program's version.
func (ds *DeviceStore) SaveGoogleClass(ctx context.Context, classID, programID string, programVersion int64) error {
	if _, err := ds.s.write.ExecContext(ctx, upsertGoogleClass, classID, programID, programVersion, ds.s.nowUTC()); err != nil {
		return fmt.Errorf("save google class %s: %w", classID, err)
	}
	return nil
}

// GoogleSerials returns those of the given cards that have a Google object.
func (ds *DeviceStore) GoogleSerials(ctx context.Context, serials []string) ([]string, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	args := make([]any, len(serials))
	for i, v := range serials {
		args[i] = v
	}
	q := selectGoogleSerialsPrefix + ` WHERE serial_number IN (?` + strings.Repeat(",?", len(serials)-1) + `) ORDER BY serial_number`
	return ds.s.googleSerials(ctx, q, args...)
}

// ProgramGoogleSerials pages through the cards of a program that have a
// Google object, by serial after the given one.
func (ds *DeviceStore) ProgramGoogleSerials(ctx context.Context, programID, afterSerial string, limit int) ([]string, error) {
	return ds.s.googleSerials(ctx, selectProgramGoogleSerials, programID, afterSerial, limit)
}

func (s *Store) googleSerials(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("cards with a google object: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			return nil, err
		}
		out = append(out, serial)
	}
	return out, rows.Err()
}

// GoogleCallback is a verified save or delete of a card's Google object.
type GoogleCallback struct {
	Nonce    string
	ObjectID string
	ClassID  string
	Serial   string
	Save     bool // a save (install); false is a delete (uninstall)
}

// GoogleDeviceID is the device a card's Google object stands for among
// the registrations: Google tells us of saves and deletes of the object,
// not of phones, so one object counts as one installation.
func GoogleDeviceID(objectID string) string { return "google:" + objectID }

// RecordGoogleCallback counts a save as an install and a delete as an
// uninstall, as registrations on ChannelGoogle, so Google installs show
// where Apple's do. A nonce seen before is dropped (Google may deliver a
// callback twice). changed reports whether the card's installs changed:
// false for a repeated nonce, a save of a card already saved, or a delete
// of one that was not. An unknown card is ErrNotFound.
func (ds *DeviceStore) RecordGoogleCallback(ctx context.Context, cb GoogleCallback) (changed bool, err error) {
	err = ds.s.inTxRetry(ctx, func(tx *writeTx) error {
		changed = false
		now := ds.s.nowUTC()
		var exists int
		if err := tx.QueryRowContext(ctx, googleCardExists, cb.Serial).Scan(&exists); err != nil {
			return fmt.Errorf("load card %s: %w", cb.Serial, err)
		}
		if exists == 0 {
			return ErrNotFound
		}
		event := "del"
		if cb.Save {
			event = "save"
		}
		res, err := tx.ExecContext(ctx, insertGoogleNonce, cb.Nonce, cb.ObjectID, event, now)
		if err != nil {
			return fmt.Errorf("record google callback nonce: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // delivered before
		}
		if _, err := tx.ExecContext(ctx, pruneGoogleNonces, now.Add(-keepNonces)); err != nil {
			return fmt.Errorf("prune google callback nonces: %w", err)
		}
		device := GoogleDeviceID(cb.ObjectID)
		if !cb.Save {
			res, err := tx.ExecContext(ctx, unregister, now, device, cb.Serial)
			if err != nil {
				return fmt.Errorf("unregister google object: %w", err)
			}
			n, _ := res.RowsAffected()
			changed = n > 0
			return nil
		}
		if _, err := tx.ExecContext(ctx, upsertDevice, device, now, now); err != nil {
			return fmt.Errorf("store google device: %w", err)
		}
		var active bool
		err = tx.QueryRowContext(ctx, selectRegistration, device, cb.Serial).Scan(&active)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			changed = true
			_, err = tx.ExecContext(ctx, insertRegistration, device, cb.Serial, cb.ClassID, ChannelGoogle,
				"", "", "Google Wallet", now, now)
		case err != nil:
			return fmt.Errorf("load google registration: %w", err)
		case !active:
			changed = true
			_, err = tx.ExecContext(ctx, reactivateRegistration, now, ChannelGoogle, "", "", "Google Wallet",
				device, cb.Serial)
		}
		if err != nil {
			return fmt.Errorf("store google registration: %w", err)
		}
		return nil
	})
	return changed, err
}
