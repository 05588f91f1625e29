package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
)

// Seeding writes rows straight into the server's SQLite file, as a large
// deployment's history would have left them: a million customers through
// the API would take the benchmark longer than what it measures. The
// statements copy a card the API issued, so every seeded card has the
// template's merchant, program and customer (voided, so none is the
// customer's live card) or, for customers, the merchant's.

// seedDB opens the SQLite file of a server started by StartServer.
func (s *Server) seedDB() (*sql.DB, error) {
	if s.dbURL != "" {
		return nil, fmt.Errorf("seeding needs the server's own SQLite database, not %s", s.dbURL)
	}
	return sql.Open("sqlite3", "file:"+filepath.Join(s.dir, "bench.db")+"?_busy_timeout=30000&_journal_mode=WAL")
}

// numbers is the common table expression 0 … n-1, as n(i).
const numbers = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) `

// seedPushes copies the card template n times, registers one Apple
// device on each and queues a change for each: n pushes due.
func (s *Server) seedPushes(ctx context.Context, template, passTypeID string, n int) error {
	db, err := s.seedDB()
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	stmts := []struct {
		q    string
		args []any
	}{
		{numbers + `INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier, status,
			version, created_at, updated_at, change_seq, pass_modified)
			SELECT printf('push%08d', i), merchant_id, program_id, customer_id, printf('8%012d', i), auth_token, 0, tier, 'voided', 2,
			created_at, updated_at, 1000000, 0 FROM n, cards WHERE serial_number = ?`, []any{n, template}},
		{numbers + `INSERT INTO devices (id, created_at, updated_at) SELECT printf('pushdev%08d', i), ?, ? FROM n`, []any{n, now, now}},
		{numbers + `INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, push_token, created_at, registered_at)
			SELECT printf('pushdev%08d', i), printf('push%08d', i), ?, 'apple', printf('%064x', i), ?, ? FROM n`, []any{n, passTypeID, now, now}},
		{numbers + `INSERT INTO outbox (merchant_id, topic, serial_number, card_version, payload, created_at, due_at)
			SELECT c.merchant_id, ?, c.serial_number, 2, '{}', ?, ? FROM n JOIN cards c ON c.serial_number = printf('push%08d', n.i)`,
			[]any{n, store.TopicCardChanged, now, now}},
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("seed pushes: %w", err)
		}
	}
	return tx.Commit()
}

// seedCustomers writes n customers of the merchant, each with an active
// card in the program, consented to texts (a consent record each), with a first purchase 200 days
// ago; one in four bought again today, so a 90-day win-back selects
// three quarters of them.
func (s *Server) seedCustomers(ctx context.Context, programID string, n int) error {
	db, err := s.seedDB()
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	old := now.Add(-200 * 24 * time.Hour)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, numbers+`INSERT INTO customers (id, merchant_id, phone, name, email, sms_consent,
		sms_consent_source, created_at, holdout_seed)
		SELECT printf('bcus%08d', i), ?, printf('+7913%07d', i), '', '', TRUE, 'api', ?, (i * 7919) % 10000 FROM n`,
		n, s.MerchantID, old); err != nil {
		return fmt.Errorf("seed customers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, numbers+`INSERT INTO consents (merchant_id, customer_id, channel, granted, source, created_at)
		SELECT ?, printf('bcus%08d', i), 'sms', TRUE, 'import', ? FROM n`, n, s.MerchantID, old); err != nil {
		return fmt.Errorf("seed consents: %w", err)
	}
	if _, err := tx.ExecContext(ctx, numbers+`INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number,
		auth_token, balance, tier, status, version, created_at, updated_at, last_purchase_at)
		SELECT printf('bcard%08d', i), ?, ?, printf('bcus%08d', i), printf('7%012d', i), 'x', 0, 'base', 'active', 1, ?, ?,
		CASE WHEN i % 4 = 0 THEN ? ELSE ? END FROM n`,
		n, s.MerchantID, programID, old, old, now, old); err != nil {
		return fmt.Errorf("seed cards: %w", err)
	}
	return tx.Commit()
}
