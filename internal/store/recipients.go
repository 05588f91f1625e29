package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// Recipient is one customer's place in a campaign, with what the sender
// needs to text them.
type Recipient struct {
	ID           int64
	CampaignID   string
	CustomerID   string
	SerialNumber string
	Attempts     int
	Phone        string
	Name         string
	Consent      bool // consented and not opted out, right now
	LastTextedAt *time.Time
}

const (
	selectRecipientCustomer = `SELECT u.phone, u.name, ` + adsConsentOf + ` AND u.phone_invalid_at IS NULL
		AND u.erased_at IS NULL, u.last_texted_at FROM customers u WHERE u.id = ?`
	markRecipientSent = `UPDATE campaign_recipients SET status = 'sent', provider_id = ?, segments = ?, link_token = ?,
		sent_at = ? WHERE id = ? AND status = 'sending'`
	markTexted      = `UPDATE customers SET last_texted_at = ? WHERE id = ?`
	markRecipientAs = `UPDATE campaign_recipients SET status = ?, reason = ?, due_at = ? WHERE id = ? AND status = 'sending'`
	releaseSending  = `UPDATE campaign_recipients SET status = 'pending', attempts = attempts - 1
		WHERE id = ? AND status = 'sending'`
	abandonSending = `UPDATE campaign_recipients SET status = 'failed',
		reason = 'interrupted while sending: not sent again, so nobody gets two texts' WHERE status = 'sending'`
	selectRecipientByProvider = `SELECT r.id, r.customer_id, c.merchant_id FROM campaign_recipients r
		JOIN campaigns c ON c.id = r.campaign_id WHERE r.provider_id = ? AND c.provider = ?`
	markDelivered          = `UPDATE campaign_recipients SET status = 'delivered', delivered_at = COALESCE(delivered_at, ?) WHERE id = ?`
	markUndelivers         = `UPDATE campaign_recipients SET status = 'failed', reason = ? WHERE id = ? AND status IN ('sent', 'delivered')`
	markPhoneBad           = `UPDATE customers SET phone_invalid_at = COALESCE(phone_invalid_at, ?) WHERE id = ?`
	selectCustomerMerchant = `SELECT merchant_id FROM customers WHERE id = ?`
)

// ClaimRecipients takes up to limit due recipients of a campaign for
// sending, with their customer's current phone and consent. A claimed
// recipient is "sending" for good: see recipientQueue.
func (cp *CampaignStore) ClaimRecipients(ctx context.Context, campaignID string, limit int) ([]Recipient, error) {
	var out []Recipient
	err := cp.s.claim(ctx, recipientTable, claimOpts{FilterArgs: []any{campaignID}, Limit: limit,
		Scan: func(rows *sql.Rows) error {
			var r Recipient
			if err := rows.Scan(&r.ID, &r.CampaignID, &r.CustomerID, &r.SerialNumber, &r.Attempts); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		},
		Then: func(tx *writeTx) error {
			for i := range out {
				r := &out[i]
				if err := tx.QueryRowContext(ctx, selectRecipientCustomer, r.CustomerID).Scan(&r.Phone, &r.Name,
					&r.Consent, &r.LastTextedAt); err != nil {
					return fmt.Errorf("load recipient: %w", err)
				}
			}
			return nil
		}})
	return out, err
}

// NewRecipientLink makes the short link a recipient's text carries.
func (cp *CampaignStore) NewRecipientLink(ctx context.Context, r Recipient) (string, error) {
	token := NewLinkToken()
	_, err := cp.s.write.ExecContext(ctx, insertShortLink, token, r.SerialNumber, r.ID, cp.s.nowUTC())
	if err != nil {
		return "", fmt.Errorf("insert recipient link: %w", err)
	}
	return token, nil
}

// MarkSent records an accepted text and the customer's last texting.
func (cp *CampaignStore) MarkSent(ctx context.Context, r Recipient, providerID string, segments int, linkToken string) error {
	return cp.s.inTx(ctx, func(tx *writeTx) error {
		now := cp.s.nowUTC()
		if _, err := tx.ExecContext(ctx, markRecipientSent, providerID, segments, linkToken, now, r.ID); err != nil {
			return fmt.Errorf("mark sent: %w", err)
		}
		_, err := tx.ExecContext(ctx, markTexted, now, r.CustomerID)
		return err
	})
}

// MarkRecipient ends or postpones a claimed recipient: status failed or
// skipped with a reason, or pending again (a retry) at due.
func (cp *CampaignStore) MarkRecipient(ctx context.Context, r Recipient, status, reason string, due time.Time) error {
	_, err := cp.s.write.ExecContext(ctx, markRecipientAs, status, reason, due.UTC(), r.ID)
	return err
}

// MarkPhoneInvalid records a number a provider refused as invalid.
func (cp *CampaignStore) MarkPhoneInvalid(ctx context.Context, customerID string) error {
	_, err := cp.s.write.ExecContext(ctx, markPhoneBad, cp.s.nowUTC(), customerID)
	return err
}

// OptOutCustomer records a customer's opt-out as a withdrawal of SMS
// consent from source (loyalty.SourceOptOutPage, SourceOperator, …).
func (cp *CampaignStore) OptOutCustomer(ctx context.Context, customerID, source string) error {
	s := cp.s
	return s.inTx(ctx, func(tx *writeTx) error {
		var merchant string
		err := tx.QueryRowContext(ctx, selectCustomerMerchant, customerID).Scan(&merchant)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		return s.withdrawSMS(ctx, tx, merchant, customerID, source)
	})
}

// ReleaseRecipient gives back a claimed recipient that was not texted
// (the sender is stopping): pending again, its attempt not counted.
func (cp *CampaignStore) ReleaseRecipient(ctx context.Context, r Recipient) error {
	_, err := cp.s.write.ExecContext(ctx, releaseSending, r.ID)
	return err
}

// AbandonInterrupted fails the recipients a crash left "sending", at
// start-up, so a restart never texts them a second time.
func (cp *CampaignStore) AbandonInterrupted(ctx context.Context) (int64, error) {
	res, err := cp.s.write.ExecContext(ctx, abandonSending)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeliveryReport is a provider's word on a text.
type DeliveryReport struct {
	Provider, ProviderID string
	Delivered            bool
	Failed               bool
	Reason               string
	InvalidNumber        bool
	OptedOut             bool
}

// RecordDelivery applies a delivery report to the campaign recipient or
// automation message it concerns. Unknown provider ids are ignored (they
// may be another system's).
func (cp *CampaignStore) RecordDelivery(ctx context.Context, d DeliveryReport) error {
	return cp.s.inTx(ctx, func(tx *writeTx) error {
		var id int64
		var customer, merchant string
		err := tx.QueryRowContext(ctx, selectRecipientByProvider, d.ProviderID, d.Provider).Scan(&id, &customer, &merchant)
		if errors.Is(err, sql.ErrNoRows) {
			_, err := cp.s.recordTextDelivery(ctx, tx, d) // an automation's text, or another system's
			return err
		}
		if err != nil {
			return fmt.Errorf("find recipient: %w", err)
		}
		now := cp.s.nowUTC()
		switch {
		case d.Delivered:
			_, err = tx.ExecContext(ctx, markDelivered, now, id)
		case d.Failed:
			if _, err = tx.ExecContext(ctx, markUndelivers, d.Reason, id); err == nil {
				err = cp.s.emitEvent(ctx, tx, merchant, EventSMSDeliveryFailed, map[string]any{"recipient_id": id,
					"customer_id": customer, "provider": d.Provider, "reason": d.Reason})
			}
		}
		if err == nil && d.InvalidNumber {
			_, err = tx.ExecContext(ctx, markPhoneBad, now, customer)
		}
		if err == nil && d.OptedOut {
			err = cp.s.withdrawSMS(ctx, tx, merchant, customer, loyalty.SourceOperator)
		}
		return err
	})
}
