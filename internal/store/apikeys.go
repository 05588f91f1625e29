package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// APIKeyInfo is what may be shown of a stored key: never its secret.
type APIKeyInfo struct {
	ID        string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// APIKeyStore lists, creates and revokes a merchant's API keys with an
// audit entry each. Reach it with Store.APIKeys.
type APIKeyStore struct{ s *Store }

// APIKeys returns the API keys' store.
func (s *Store) APIKeys() *APIKeyStore { return &APIKeyStore{s} }

const (
	selectAPIKeys = `SELECT id, created_at, revoked_at FROM api_keys WHERE merchant_id = ? ORDER BY created_at DESC, id`
	revokeAPIKey  = `UPDATE api_keys SET revoked_at = ? WHERE merchant_id = ? AND id = ? AND revoked_at IS NULL`
	selectKeyOf   = `SELECT COUNT(*) FROM api_keys WHERE merchant_id = ? AND id = ?`
)

// List returns the merchant's keys, newest first.
func (ks *APIKeyStore) List(ctx context.Context, merchantID string) ([]APIKeyInfo, error) {
	rows, err := ks.s.read.QueryContext(ctx, selectAPIKeys, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKeyInfo
	for rows.Next() {
		var k APIKeyInfo
		var revoked sql.NullTime
		if err := rows.Scan(&k.ID, &k.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("load api key: %w", err)
		}
		if revoked.Valid {
			k.RevokedAt = &revoked.Time
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Create stores k together with its audit entry. When audit.Ref was
// recorded before (the same form sent twice) nothing is stored and the
// error is ErrConflict.
func (ks *APIKeyStore) Create(ctx context.Context, k APIKey, audit AuditEntry) error {
	s := ks.s
	return s.inTx(ctx, func(tx *writeTx) error {
		audit.MerchantID, audit.Subject = k.MerchantID, k.ID
		if fresh, err := s.Audit().insert(ctx, tx, audit); err != nil || !fresh {
			if err == nil {
				err = fmt.Errorf("api key form %s: %w", audit.Ref, ErrConflict)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, insertAPIKey, k.ID, k.MerchantID, k.SecretHash, s.nowUTC()); err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return nil
	})
}

// Revoke revokes the merchant's key id and records audit; revoking a
// revoked key changes nothing. A key of another merchant is ErrNotFound.
func (ks *APIKeyStore) Revoke(ctx context.Context, merchantID, id string, audit AuditEntry) error {
	s := ks.s
	// Emptied after the commit, so no lookup can cache the key as it was
	// before; and on error too, which costs nothing.
	defer s.keys.clear()
	return s.inTx(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, selectKeyOf, merchantID, id).Scan(&n); err != nil {
			return fmt.Errorf("find api key: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		res, err := tx.ExecContext(ctx, revokeAPIKey, s.nowUTC(), merchantID, id)
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if changed, _ := res.RowsAffected(); changed == 0 {
			return nil
		}
		audit.MerchantID, audit.Subject = merchantID, id
		if _, err = s.Audit().insert(ctx, tx, audit); err != nil {
			return err
		}
		return s.notifyKeysChanged(ctx, tx)
	})
}
