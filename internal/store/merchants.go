package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Merchant is a tenant: everything else belongs to one.
type Merchant struct {
	ID        string
	Name      string
	Country   string // ISO 3166 region for parsing local phone numbers
	CreatedAt time.Time
}

// APIKey is the stored half of a merchant API key: the secret itself is
// never stored, only its hash.
type APIKey struct {
	ID         string
	MerchantID string
	SecretHash []byte
	Revoked    bool
}

const (
	selectMerchantByName = `SELECT id, name, country, created_at FROM merchants WHERE name = ?`
	selectMerchantByID   = `SELECT id, name, country, created_at FROM merchants WHERE id = ?`
	insertMerchant       = `INSERT INTO merchants (id, name, country, created_at) VALUES (?, ?, ?, ?)`
	insertAPIKey         = `INSERT INTO api_keys (id, merchant_id, secret_hash, created_at) VALUES (?, ?, ?, ?)`
	selectAPIKey         = `SELECT id, merchant_id, secret_hash, revoked_at IS NOT NULL FROM api_keys WHERE id = ?`
)

// EnsureMerchant returns the merchant called name, creating it (with the
// given country) if there is none. created tells which happened.
func (ms *MerchantStore) EnsureMerchant(ctx context.Context, name, country string) (m Merchant, created bool, err error) {
	err = ms.s.inTxRetry(ctx, func(tx *writeTx) error {
		created = false
		m, err = scanMerchant(tx.QueryRowContext(ctx, selectMerchantByName, name))
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		m = Merchant{ID: newID("mer"), Name: name, Country: country, CreatedAt: ms.s.nowUTC()}
		if _, err := tx.ExecContext(ctx, insertMerchant, m.ID, m.Name, m.Country, m.CreatedAt); err != nil {
			return fmt.Errorf("insert merchant: %w", err)
		}
		created = true
		return nil
	})
	return m, created, err
}

// Merchant returns the merchant with the given id.
func (ms *MerchantStore) Merchant(ctx context.Context, id string) (Merchant, error) {
	return scanMerchant(ms.s.read.QueryRowContext(ctx, selectMerchantByID, id))
}

func scanMerchant(row *sql.Row) (Merchant, error) {
	var m Merchant
	err := row.Scan(&m.ID, &m.Name, &m.Country, &m.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("load merchant: %w", err)
	}
	return m, nil
}

// CreateAPIKey stores a key's id and the hash of its secret.
func (ms *MerchantStore) CreateAPIKey(ctx context.Context, k APIKey) error {
	_, err := ms.s.write.ExecContext(ctx, insertAPIKey, k.ID, k.MerchantID, k.SecretHash, ms.s.nowUTC())
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// APIKey returns the stored key with the given id, from the cache of
// keys read before when it holds it (keycache.go).
func (ms *MerchantStore) APIKey(ctx context.Context, id string) (APIKey, error) {
	now := time.Now()
	k, ok, gen := ms.s.keys.get(id, now)
	if ok {
		return k, nil
	}
	err := ms.s.read.QueryRowContext(ctx, selectAPIKey, id).Scan(&k.ID, &k.MerchantID, &k.SecretHash, &k.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("load api key: %w", err)
	}
	ms.s.keys.put(gen, k, now)
	return k, nil
}

const (
	selectSetting       = `SELECT value FROM settings WHERE key = ?`
	insertSettingIgnore = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
)

// Setting returns a stored installation setting, or ErrNotFound.
func (ms *MerchantStore) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := ms.s.read.QueryRowContext(ctx, selectSetting, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// ClaimSetting stores key=value unless key is already set, and reports
// whether this call set it. It is how one-off start-up work runs once.
func (ms *MerchantStore) ClaimSetting(ctx context.Context, key, value string) (bool, error) {
	res, err := ms.s.write.ExecContext(ctx, insertSettingIgnore, key, value)
	if err != nil {
		return false, fmt.Errorf("claim setting %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
