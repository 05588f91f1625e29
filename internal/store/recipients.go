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
	markHanded                = `UPDATE campaign_recipients SET handed_at = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?`
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

// NewRecipientLink makes the short link a recipient's text carries, and
// records that the text is being handed to the provider: from here on, if
// this instance dies, the recipient is failed rather than texted twice.
// ErrClaimLost means the claim was recovered meanwhile (this instance's
// lease ran out): the text must not be sent.
func (cp *CampaignStore) NewRecipientLink(ctx context.Context, r Recipient) (string, error) {
	token := NewLinkToken()
	err := cp.s.inTx(ctx, func(tx *writeTx) error {
		now := cp.s.nowUTC()
		res, err := tx.ExecContext(ctx, markHanded, now, r.ID, cp.s.instance)
		if err != nil {
			return fmt.Errorf("mark recipient handed over: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrClaimLost
		}
		if _, err := tx.ExecContext(ctx, insertShortLink, token, r.SerialNumber, r.ID, now); err != nil {
			return fmt.Errorf("insert recipient link: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
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

// AbandonInterrupted recovers the recipients instances no longer alive
// left "sending": those never handed to the provider wait again, those
// handed over are failed, so nobody is texted a second time. Recipients
// live instances are sending are left alone. It returns how many it put
// back and how many it failed.
func (cp *CampaignStore) AbandonInterrupted(ctx context.Context) (back, failed int64, err error) {
	err = cp.s.inTx(ctx, func(tx *writeTx) error {
		back, failed, err = cp.s.recoverRecipients(ctx, tx, cp.s.nowUTC())
		return err
	})
	return back, failed, err
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
