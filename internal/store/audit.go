package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one thing a person did: who, what, to what.
type AuditEntry struct {
	ID         int64
	MerchantID string
	// UserID and UserEmail name who did it; UserID is "" for the command
	// line, whose UserEmail says so.
	UserID, UserEmail string
	// Action is a stable name ("ledger.adjust", "program.update",
	// "apikey.create", …); Subject names its object (a card number, a
	// program id, a key id); Detail says the rest in words.
	Action, Subject, Detail string
	// Ref, when set, identifies the entry uniquely within the merchant
	// (the ledger transaction it reports, the form that caused it): an
	// entry with a Ref already recorded is not recorded again.
	Ref       string
	CreatedAt time.Time
}

// AuditStore keeps the audit log. Reach it with Store.Audit.
type AuditStore struct{ s *Store }

// Audit returns the audit log's store.
func (s *Store) Audit() *AuditStore { return &AuditStore{s} }

const (
	insertAudit = `INSERT INTO audit_log (merchant_id, user_id, user_email, action, subject, detail, ref, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (merchant_id, ref) WHERE ref IS NOT NULL DO NOTHING`
	selectAudit = `SELECT id, merchant_id, user_id, user_email, action, subject, detail, COALESCE(ref, ''), created_at
		FROM audit_log WHERE merchant_id = ? AND id < ? ORDER BY id DESC LIMIT ?`
	selectAuditRef = `SELECT id, merchant_id, user_id, user_email, action, subject, detail, COALESCE(ref, ''), created_at
		FROM audit_log WHERE merchant_id = ? AND ref = ?`
)

// ByRef returns the merchant's entry with ref (what a form sent twice
// made the first time), or ErrNotFound.
func (as *AuditStore) ByRef(ctx context.Context, merchantID, ref string) (AuditEntry, error) {
	var e AuditEntry
	err := as.s.read.QueryRowContext(ctx, selectAuditRef, merchantID, ref).Scan(&e.ID, &e.MerchantID, &e.UserID,
		&e.UserEmail, &e.Action, &e.Subject, &e.Detail, &e.Ref, &e.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("load audit entry %s: %w", ref, err)
	}
	return e, nil
}

// Record writes e. An entry whose Ref is already recorded is left as it
// is, so recording the outcome of a replayed request is harmless.
func (as *AuditStore) Record(ctx context.Context, e AuditEntry) error {
	return as.s.inTx(ctx, func(tx *writeTx) error {
		_, err := as.insert(ctx, tx, e)
		return err
	})
}

// insert writes e inside tx and reports whether it was new.
func (as *AuditStore) insert(ctx context.Context, tx *writeTx, e AuditEntry) (bool, error) {
	var ref any
	if e.Ref != "" {
		ref = e.Ref
	}
	res, err := tx.ExecContext(ctx, insertAudit, e.MerchantID, e.UserID, e.UserEmail, e.Action, e.Subject, e.Detail,
		ref, as.s.nowUTC())
	if err != nil {
		return false, fmt.Errorf("insert audit entry: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// List returns the merchant's entries newest first, below id beforeID
// (0: from the newest).
func (as *AuditStore) List(ctx context.Context, merchantID string, beforeID int64, limit int) ([]AuditEntry, error) {
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	rows, err := as.s.read.QueryContext(ctx, selectAudit, merchantID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.MerchantID, &e.UserID, &e.UserEmail, &e.Action, &e.Subject, &e.Detail,
			&e.Ref, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("load audit entry: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
