package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// ConsentStore keeps the consent records: every grant and withdrawal of a
// customer's personal data, SMS and advertising consent, append-only.
type ConsentStore struct{ s *Store }

// Consents returns the consent records' store.
func (s *Store) Consents() *ConsentStore { return &ConsentStore{s} }

const (
	insertConsent = `INSERT INTO consents (merchant_id, customer_id, channel, granted, source, ip, user_agent,
		text_version, evidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	consentColumns = `id, customer_id, channel, granted, source, ip, user_agent, text_version, evidence, created_at`
	listConsents   = `SELECT ` + consentColumns + ` FROM consents WHERE merchant_id = ? AND customer_id = ?
		ORDER BY created_at, id`
	insertConsentText = `INSERT INTO consent_texts (version, text, created_at) VALUES (?, ?, ?)
		ON CONFLICT (version) DO NOTHING`
	selectConsentText = `SELECT text FROM consent_texts WHERE version = ?`
	// The customers' SMS columns mirror the latest SMS/ads record, for
	// the pages and answers that show them.
	mirrorGrant = `UPDATE customers SET sms_consent = TRUE, sms_consent_at = ?, sms_consent_source = ?,
		opted_out_at = NULL WHERE id = ?`
	mirrorOptOut = `UPDATE customers SET sms_consent = FALSE, sms_consent_at = COALESCE(sms_consent_at, ?),
		opted_out_at = COALESCE(opted_out_at, ?) WHERE id = ?`
	mirrorRefusal        = `UPDATE customers SET sms_consent = FALSE, sms_consent_at = ?, sms_consent_source = ? WHERE id = ?`
	selectPhoneCustomers = `SELECT id, merchant_id FROM customers WHERE phone = ? AND erased_at IS NULL`
)

// adsConsentOf is the SQL truth of loyalty.MaySendAds for the customer
// aliased u: the latest of their SMS and ads records is a grant.
const adsConsentOf = `COALESCE((SELECT k.granted FROM consents k WHERE k.customer_id = u.id
	AND k.channel IN ('sms', 'ads') ORDER BY k.created_at DESC, k.id DESC LIMIT 1), FALSE)`

// List returns a customer's records, oldest first; none for another
// merchant's customer.
func (cs *ConsentStore) List(ctx context.Context, merchantID, customerID string) ([]loyalty.ConsentRecord, error) {
	return listConsentRecords(ctx, cs.s.read, merchantID, customerID)
}

// Text returns the consent text of a version, or ErrNotFound.
func (cs *ConsentStore) Text(ctx context.Context, version string) (string, error) {
	var text string
	err := cs.s.read.QueryRowContext(ctx, selectConsentText, version).Scan(&text)
	if err == sql.ErrNoRows {
		return "", ErrNotFound
	}
	return text, err
}

func listConsentRecords(ctx context.Context, q queryer, merchantID, customerID string) ([]loyalty.ConsentRecord, error) {
	rows, err := q.QueryContext(ctx, listConsents, merchantID, customerID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	out := []loyalty.ConsentRecord{}
	for rows.Next() {
		var r loyalty.ConsentRecord
		if err := rows.Scan(&r.ID, &r.CustomerID, &r.Channel, &r.Granted, &r.Source, &r.IP, &r.UserAgent,
			&r.TextVersion, &r.Evidence, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("load consent: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// appendConsent writes one record in tx (its time is now unless set) and
// keeps the customer's SMS columns in step with the SMS and ads records.
func (s *Store) appendConsent(ctx context.Context, tx *writeTx, merchantID string, r loyalty.ConsentRecord) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.nowUTC()
	}
	_, err := tx.ExecContext(ctx, insertConsent, merchantID, r.CustomerID, r.Channel, r.Granted, r.Source, r.IP,
		r.UserAgent, r.TextVersion, r.Evidence, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert consent: %w", err)
	}
	if r.Channel != loyalty.ConsentSMS && r.Channel != loyalty.ConsentAds {
		return nil
	}
	switch {
	case r.Granted:
		_, err = tx.ExecContext(ctx, mirrorGrant, r.CreatedAt, r.Source, r.CustomerID)
	case r.Source == loyalty.SourceSMSStop || r.Source == loyalty.SourceOptOutPage || r.Source == loyalty.SourceOperator:
		_, err = tx.ExecContext(ctx, mirrorOptOut, r.CreatedAt, r.CreatedAt, r.CustomerID)
	default: // a "no" given to the merchant, not an opt-out from a text
		_, err = tx.ExecContext(ctx, mirrorRefusal, r.CreatedAt, r.Source, r.CustomerID)
	}
	if err != nil {
		return fmt.Errorf("mirror consent: %w", err)
	}
	return nil
}

// saveConsentText keeps a consent text under its version.
func (s *Store) saveConsentText(ctx context.Context, tx *writeTx, text string) (string, error) {
	version := loyalty.TextVersion(text)
	if _, err := tx.ExecContext(ctx, insertConsentText, version, text, s.nowUTC()); err != nil {
		return "", fmt.Errorf("save consent text: %w", err)
	}
	return version, nil
}

// withdrawSMS records that a customer wants no more texts, from source.
func (s *Store) withdrawSMS(ctx context.Context, tx *writeTx, merchantID, customerID, source string) error {
	return s.appendConsent(ctx, tx, merchantID, loyalty.ConsentRecord{CustomerID: customerID,
		Channel: loyalty.ConsentSMS, Granted: false, Source: source})
}

// recordAPIConsent records the SMS consent given with a card issued
// through the API, if one was given.
func (s *Store) recordAPIConsent(ctx context.Context, tx *writeTx, c loyalty.Customer, given *bool) error {
	if given == nil {
		return nil
	}
	return s.appendConsent(ctx, tx, c.MerchantID, loyalty.ConsentRecord{CustomerID: c.ID,
		Channel: loyalty.ConsentSMS, Granted: *given, Source: loyalty.SourceAPI})
}
