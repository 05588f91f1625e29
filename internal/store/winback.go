package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const (
	selectRecipientOffer = `SELECT r.campaign_id, c.name, r.customer_id, c.merchant_id, r.serial_number,
		c.bonus_points, c.bonus_on, r.holdout, r.sent_at IS NOT NULL, r.bonus_at IS NOT NULL FROM campaign_recipients r
		JOIN campaigns c ON c.id = r.campaign_id WHERE r.id = ?`
	markBonus      = `UPDATE campaign_recipients SET bonus_at = COALESCE(bonus_at, ?) WHERE id = ?`
	markInstalled  = `UPDATE campaign_recipients SET installed_at = COALESCE(installed_at, ?) WHERE serial_number = ?`
	installBonuses = `SELECT r.id FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
		WHERE r.serial_number = ? AND c.bonus_on = 'install' AND NOT r.holdout AND r.sent_at IS NOT NULL
		AND r.bonus_at IS NULL AND c.status IN ('running', 'paused', 'finished')`
)

// recipient loads what the bonus decisions need of a campaign recipient.
func (cp *CampaignStore) recipient(ctx context.Context, recipientID int64) (loyalty.CampaignRecipient, error) {
	var r loyalty.CampaignRecipient
	err := cp.s.read.QueryRowContext(ctx, selectRecipientOffer, recipientID).Scan(&r.CampaignID, &r.CampaignName,
		&r.CustomerID, &r.MerchantID, &r.Serial, &r.BonusPoints, &r.BonusOn, &r.Holdout, &r.Sent, &r.Credited)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("load campaign recipient: %w", err)
	}
	return r, nil
}

// CreditCampaignBonus credits a recipient the bonus loyalty.WinBackBonus
// grants, and marks it credited; respond makes the answer stored with the
// posting's key, as for any posting. A refused bonus, a replayed one or a
// voided card credits nothing. It reports the points credited by this call.
func (cp *CampaignStore) CreditCampaignBonus(ctx context.Context, recipientID int64, respond Respond) (int64, error) {
	r, err := cp.recipient(ctx, recipientID)
	if err != nil {
		return 0, err
	}
	p, err := loyalty.WinBackBonus(r)
	if errors.Is(err, loyalty.ErrNoBonus) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, replayed, err := cp.s.Cards().Post(ctx, p, respond)
	if errors.Is(err, loyalty.ErrCardVoided) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("credit campaign bonus: %w", err)
	}
	if _, err := cp.s.write.ExecContext(ctx, markBonus, cp.s.nowUTC(), recipientID); err != nil {
		return 0, fmt.Errorf("mark bonus: %w", err)
	}
	if replayed {
		return 0, nil
	}
	return p.Points, nil
}

// RecordInstall attributes a card's installation to its campaign
// recipients and credits the bonuses of campaigns that pay on install
// (respond as for CreditCampaignBonus).
func (cp *CampaignStore) RecordInstall(ctx context.Context, serial string, respond Respond) error {
	if _, err := cp.s.write.ExecContext(ctx, markInstalled, cp.s.nowUTC(), serial); err != nil {
		return fmt.Errorf("mark installed: %w", err)
	}
	rows, err := cp.s.read.QueryContext(ctx, installBonuses, serial)
	if err != nil {
		return fmt.Errorf("install bonuses: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if _, err := cp.CreditCampaignBonus(ctx, id, respond); err != nil {
			return err
		}
	}
	return nil
}

// Funnel is one group's numbers in a campaign report.
type Funnel struct {
	Recipients, Sent, Delivered, Failed, Skipped, Clicked, Installed, Bonus, Purchasers int64
}

// Conversion is the share of the group that bought within the window.
func (f Funnel) Conversion() float64 {
	if f.Recipients == 0 {
		return 0
	}
	return float64(f.Purchasers) / float64(f.Recipients)
}

const campaignFunnel = `SELECT r.holdout, COUNT(*),
	COALESCE(SUM(CASE WHEN r.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.status = 'skipped' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.installed_at IS NOT NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN r.bonus_at IS NOT NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM cards c JOIN transactions t ON t.serial_number = c.serial_number
		WHERE c.customer_id = r.customer_id AND c.program_id = ? AND t.kind = 'earn' AND t.created_at >= ?
		AND t.created_at < ?) THEN 1 ELSE 0 END), 0)
	FROM campaign_recipients r WHERE r.campaign_id = ? GROUP BY r.holdout`

// CampaignFunnel returns the texted group's and the holdout's numbers;
// purchases count earn transactions within the campaign's window after
// its start, for both groups alike.
func (cp *CampaignStore) CampaignFunnel(ctx context.Context, c Campaign) (texted, holdout Funnel, err error) {
	if c.StartedAt == nil {
		return texted, holdout, nil
	}
	from := *c.StartedAt
	to := from.Add(time.Duration(c.PurchaseWindowDays) * 24 * time.Hour)
	rows, err := cp.s.read.QueryContext(ctx, campaignFunnel, c.ProgramID, from, to, c.ID)
	if err != nil {
		return texted, holdout, fmt.Errorf("campaign funnel: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var isHoldout bool
		var f Funnel
		if err := rows.Scan(&isHoldout, &f.Recipients, &f.Sent, &f.Delivered, &f.Failed, &f.Skipped, &f.Clicked,
			&f.Installed, &f.Bonus, &f.Purchasers); err != nil {
			return texted, holdout, err
		}
		if isHoldout {
			holdout = f
		} else {
			texted = f
		}
	}
	return texted, holdout, rows.Err()
}

// RecipientOffer returns the bonus a recipient's campaign offers
// (loyalty.BonusOffer) and when it is credited ("open" or "install").
func (cp *CampaignStore) RecipientOffer(ctx context.Context, recipientID int64) (points int64, on string, err error) {
	r, err := cp.recipient(ctx, recipientID)
	if err != nil {
		return 0, "", err
	}
	return loyalty.BonusOffer(r), r.BonusOn, nil
}

// OptOutPhone opts a number out with every merchant, recording a STOP
// withdrawal for each: a STOP reply to the installation's sender number
// cannot tell merchants apart.
func (cp *CampaignStore) OptOutPhone(ctx context.Context, phone string) error {
	s := cp.s
	return s.inTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, selectPhoneCustomers, phone)
		if err != nil {
			return fmt.Errorf("find customers: %w", err)
		}
		var ids, merchants []string
		for rows.Next() {
			var id, merchant string
			if err := rows.Scan(&id, &merchant); err != nil {
				rows.Close()
				return err
			}
			ids, merchants = append(ids, id), append(merchants, merchant)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, id := range ids {
			if err := s.withdrawSMS(ctx, tx, merchants[i], id, loyalty.SourceSMSStop); err != nil {
				return err
			}
		}
		return nil
	})
}
