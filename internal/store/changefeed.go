package store

import (
	"context"
	"fmt"
	"math"
)

// Update tags: the pass web service tells a device which of its cards
// changed since the tag it sent, and hands it the next tag. A device that
// follows the tags must never miss a committed change, so a tag T must
// promise that every change tagged T or lower has been committed (or
// rolled back) by the time T is handed out.
//
// SQLite has one writer: a counter row hands out the tags in commit order.
//
// PostgreSQL runs writers in parallel, and a counter row would make every
// card change in the cluster wait for the one before it to commit. Instead
// a change is tagged from its own transaction id (pg_current_xact_id, which
// takes no lock), and the tag handed out is the horizon: the oldest
// transaction id still in flight (pg_snapshot_xmin), less one. Every
// transaction below it has ended, and every transaction that has not
// started yet will get a higher id, so no change tagged below the horizon
// can still commit. The answer lists every committed change after since,
// final or not: a change above the horizon is listed again next time
// (a device that fetches a pass twice gets 304), but it is listed now,
// while the push that its commit sent brings the device here; a device
// only asks when pushed.
//
// A card's tag must also grow with every change, because the push worker
// compares it with what it last pushed to each device. Transaction ids are
// handed out at the first write, not at commit, so an older transaction
// may change a card after a younger one did. So the id is scaled into a
// slot of tagSlot values, and a change takes the larger of its own slot's
// start and the card's previous tag + 1: then a tag's slot is never below
// its writer's id (the horizon's promise holds), and never above the id of
// a transaction that has already committed (so the horizon, which passes
// every committed id once nothing older is in flight, always passes it).
//
// tagBase lifts the tags above the counter's last value, which devices
// may hold from before this scheme, or that `loyalpass migrate` copied
// from SQLite: the counter row is left as it is on PostgreSQL and read
// once at Open.

// tagSlot is how many tags each transaction id spans: more than the
// changes one card can take from older transactions in flight at once.
// With ids below 2^40 (a billion transactions a day for three thousand
// years) the tags stay below 2^60. (The SQL below spells it 1048576.)
const tagSlot = 1 << 20

// The dialects' tag SQL (dialect.go), in a var block: the PostgreSQL
// functions do not prepare on SQLite (see TestEveryQueryPrepares).
var (
	sqliteChangeSeq   = `?`
	postgresChangeSeq = `GREATEST(change_seq + 1, pg_current_xact_id()::text::bigint * 1048576 + ?)`
	// postgresTagHorizon runs in its own statement before the changes are
	// listed: a later snapshot only sees more of what lies below it.
	postgresTagHorizon = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1048576 + ?`
)

const (
	selectTagBase        = `SELECT value FROM change_counter WHERE id = 1`
	selectUpdatedSerials = `SELECT c.serial_number, c.change_seq FROM registrations r
		JOIN cards c ON c.serial_number = r.serial_number
		WHERE r.device_id = ? AND r.pass_type_id = ? AND r.unregistered_at IS NULL AND c.change_seq > ?
		ORDER BY c.change_seq`
)

// The card-change statements, formats rather than SQL constants: each
// dialect fills in its new tag and its name of the two-argument maximum.
var (
	markCardChangedFormat = `UPDATE cards SET change_seq = %s, pass_modified = %s(pass_modified + 1, ?)
		WHERE serial_number = ?`
	markProgramChangedFormat = `UPDATE cards SET change_seq = %s, pass_modified = %s(pass_modified + 1, ?)
		WHERE program_id = ?`
	// updateLedgerCard also tags the change (%s) and moves Last-Modified
	// on (pass_modified, unix seconds, at least +1), in one statement: the
	// ledger's hot path pays for every statement.
	updateLedgerCardFormat = `UPDATE cards SET balance = ?, rewards = ?, redeemed_at = ?, tier = ?, version = ?,
		lifetime_points = ?, lifetime_spend = ?,
		last_purchase_at = CASE WHEN ? THEN ? ELSE last_purchase_at END, updated_at = ?, change_seq = %s,
		pass_modified = CASE WHEN pass_modified + 1 > ? THEN pass_modified + 1 ELSE ? END
		WHERE serial_number = ? AND version = ?`
)

// loadTagBase reads the tag base of a dialect that tags by transaction.
func (s *Store) loadTagBase(ctx context.Context) error {
	if s.dialect.tagHorizon == "" {
		return nil
	}
	if err := s.read.QueryRowContext(ctx, selectTagBase).Scan(&s.tagBase); err != nil {
		return fmt.Errorf("load update tag base: %w", err)
	}
	return nil
}

// changeTag returns the argument of the dialect's changeSeq: the next
// counter value (SQLite), or the tag base (PostgreSQL).
func (s *Store) changeTag(ctx context.Context, tx *writeTx) (int64, error) {
	if s.dialect.nextChangeSeq == "" {
		return s.tagBase, nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, s.dialect.nextChangeSeq).Scan(&seq); err != nil {
		return 0, fmt.Errorf("next update tag: %w", err)
	}
	return seq, nil
}

// UpdatedSerials lists the cards of a pass type that a device follows and
// that changed after the tag since (all of them when since is 0), and the
// tag to send next time. since = -1 lists every card the device follows.
func (ds *DeviceStore) UpdatedSerials(ctx context.Context, deviceID, passTypeID string, since int64) ([]string, int64, error) {
	changed, last, err := ds.s.changedSince(ctx, deviceID, passTypeID, since)
	serials := make([]string, len(changed))
	for i, c := range changed {
		serials[i] = c.serial
	}
	return serials, last, err
}

// taggedSerial is a card with the tag of its last change.
type taggedSerial struct {
	serial string
	tag    int64
}

// changedSince is UpdatedSerials with each card's tag.
func (s *Store) changedSince(ctx context.Context, deviceID, passTypeID string, since int64) ([]taggedSerial, int64, error) {
	horizon := int64(math.MaxInt64) // SQLite: the tags are in commit order
	if q := s.dialect.tagHorizon; q != "" {
		if err := s.read.QueryRowContext(ctx, q, s.tagBase).Scan(&horizon); err != nil {
			return nil, 0, fmt.Errorf("update tag horizon: %w", err)
		}
	}
	rows, err := s.read.QueryContext(ctx, selectUpdatedSerials, deviceID, passTypeID, since)
	if err != nil {
		return nil, 0, fmt.Errorf("updated serials: %w", err)
	}
	defer rows.Close()
	var changed []taggedSerial
	last := max(since, 0)
	for rows.Next() {
		var c taggedSerial
		if err := rows.Scan(&c.serial, &c.tag); err != nil {
			return nil, 0, err
		}
		changed = append(changed, c)
		if c.tag < horizon {
			last = max(last, c.tag)
		}
	}
	if horizon != math.MaxInt64 {
		// Nothing tagged below the horizon can commit any more.
		last = max(last, horizon-1)
	}
	return changed, last, rows.Err()
}
