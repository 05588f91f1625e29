package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Campaign statuses.
const (
	CampaignDraft     = "draft"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignFinished  = "finished"
)

// ErrCampaignState is returned for a transition the campaign's status
// does not allow (resuming a cancelled campaign, say).
var ErrCampaignState = errors.New("campaign cannot do that in its current status")

// Campaign is a win-back run over lapsed customers.
type Campaign struct {
	ID, MerchantID, ProgramID, Name, Status string
	LapsedDays                              int
	Tier                                    string // "" = any
	Installed                               string // any, installed, not_installed
	BonusPoints                             int64
	BonusOn                                 string // open, install
	Template                                string
	HoldoutBP                               int
	Salt                                    int
	QuietStart, QuietEnd                    int
	Timezone                                string
	SendRate                                int // per minute
	FrequencyCapDays                        int
	PurchaseWindowDays                      int
	Provider                                string
	Audience, Holdout                       int
	CreatedAt                               time.Time
	StartedAt, FinishedAt                   *time.Time
}

const campaignColumns = `id, merchant_id, program_id, name, status, lapsed_days, tier, installed, bonus_points,
	bonus_on, template, holdout_bp, salt, quiet_start, quiet_end, timezone, send_rate, frequency_cap_days,
	purchase_window_days, provider, audience, holdout, created_at, started_at, finished_at`

const (
	insertCampaign = `INSERT INTO campaigns (` + campaignColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, NULL, NULL)`
	selectCampaign   = `SELECT ` + campaignColumns + ` FROM campaigns WHERE merchant_id = ? AND id = ?`
	selectCampaignID = `SELECT ` + campaignColumns + ` FROM campaigns WHERE id = ?`
	listCampaigns    = `SELECT ` + campaignColumns + ` FROM campaigns WHERE merchant_id = ?
		AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?`
	runningCampaigns = `SELECT ` + campaignColumns + ` FROM campaigns WHERE status = 'running'`
	// planAudience writes the recipients: the program's active cards whose
	// customer consented, has not opted out, has a valid number and has
	// not bought for lapsed_days, narrowed by tier and installation.
	planAudience = `INSERT INTO campaign_recipients (campaign_id, customer_id, serial_number, holdout, status, due_at)
		SELECT ?, u.id, c.serial_number, ((u.holdout_seed + ?) % 10000) < ?,
			CASE WHEN ((u.holdout_seed + ?) % 10000) < ? THEN 'holdout' ELSE 'pending' END, ?
		FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.program_id = ? AND c.merchant_id = ? AND c.status = 'active'
			AND ` + adsConsentOf + ` AND u.phone_invalid_at IS NULL AND u.erased_at IS NULL
			AND COALESCE(c.last_purchase_at, c.created_at) < ?
			AND (? = '' OR c.tier = ?)
			AND (? = 'any' OR (? = 'installed') = EXISTS (SELECT 1 FROM registrations r
				WHERE r.serial_number = c.serial_number AND r.unregistered_at IS NULL))
		ON CONFLICT (campaign_id, customer_id) DO NOTHING`
	countPlanned   = `SELECT COUNT(*), COALESCE(SUM(CASE WHEN holdout THEN 1 ELSE 0 END), 0) FROM campaign_recipients WHERE campaign_id = ?`
	startCampaign  = `UPDATE campaigns SET status = 'running', audience = ?, holdout = ?, started_at = ? WHERE id = ? AND status = 'draft'`
	changeCampaign = `UPDATE campaigns SET status = ?, finished_at = ? WHERE merchant_id = ? AND id = ? AND status = ?`
	finishCampaign = `UPDATE campaigns SET status = 'finished', finished_at = ? WHERE id = ? AND status = 'running'
		AND NOT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ? AND status IN ('pending', 'sending'))`
)

// CreateCampaign stores a draft; it fills in ID, Salt, Status and CreatedAt.
func (cp *CampaignStore) CreateCampaign(ctx context.Context, c *Campaign) error {
	c.ID, c.Salt, c.Status, c.CreatedAt = newID("cmp"), rand.IntN(10000), CampaignDraft, cp.s.nowUTC()
	return cp.s.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, insertCampaign, c.ID, c.MerchantID, c.ProgramID, c.Name, c.Status, c.LapsedDays,
			c.Tier, c.Installed, c.BonusPoints, c.BonusOn, c.Template, c.HoldoutBP, c.Salt, c.QuietStart, c.QuietEnd,
			c.Timezone, c.SendRate, c.FrequencyCapDays, c.PurchaseWindowDays, c.Provider, c.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		return cp.s.auditIn(ctx, tx, c.MerchantID, c.ID, c.Name)
	})
}

// Campaign returns the merchant's campaign.
func (cp *CampaignStore) Campaign(ctx context.Context, merchantID, id string) (Campaign, error) {
	return scanCampaign(cp.s.read.QueryRowContext(ctx, selectCampaign, merchantID, id))
}

// Campaigns lists the merchant's campaigns in creation order.
func (cp *CampaignStore) Campaigns(ctx context.Context, merchantID string, after Cursor, limit int) ([]Campaign, error) {
	return cp.s.campaigns(ctx, listCampaigns, merchantID, after.Time, after.Time, after.ID, limit)
}

// RunningCampaigns lists every running campaign, for the sender.
func (cp *CampaignStore) RunningCampaigns(ctx context.Context) ([]Campaign, error) {
	return cp.s.campaigns(ctx, runningCampaigns)
}

func (s *Store) campaigns(ctx context.Context, q string, args ...any) ([]Campaign, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StartCampaign plans a draft (selects the audience and writes its
// recipients, holdout included) and sets it running, in one transaction;
// a paused campaign resumes. Starting a running campaign again changes
// nothing, so nobody is planned or texted twice.
func (cp *CampaignStore) StartCampaign(ctx context.Context, merchantID, id string) (Campaign, error) {
	var c Campaign
	err := cp.s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if c, err = scanCampaign(tx.QueryRowContext(ctx, selectCampaign, merchantID, id)); err != nil {
			return err
		}
		now := cp.s.nowUTC()
		switch c.Status {
		case CampaignRunning:
			return nil
		case CampaignPaused:
			if _, err = tx.ExecContext(ctx, changeCampaign, CampaignRunning, nil, merchantID, id, CampaignPaused); err != nil {
				return err
			}
			c.Status = CampaignRunning
			if err := cp.s.queueWork(ctx, tx, campaignQueue); err != nil {
				return err
			}
			return cp.s.auditIn(ctx, tx, merchantID, id, c.Name)
		case CampaignDraft:
		default:
			return ErrCampaignState
		}
		lapsedBefore := now.Add(-time.Duration(c.LapsedDays) * 24 * time.Hour)
		_, err = tx.ExecContext(ctx, planAudience, c.ID, c.Salt, c.HoldoutBP, c.Salt, c.HoldoutBP, now,
			c.ProgramID, merchantID, lapsedBefore, c.Tier, c.Tier, c.Installed, c.Installed)
		if err != nil {
			return fmt.Errorf("plan audience: %w", err)
		}
		if err := tx.QueryRowContext(ctx, countPlanned, c.ID).Scan(&c.Audience, &c.Holdout); err != nil {
			return fmt.Errorf("count audience: %w", err)
		}
		if _, err := tx.ExecContext(ctx, startCampaign, c.Audience, c.Holdout, now, c.ID); err != nil {
			return fmt.Errorf("start campaign: %w", err)
		}
		c.Status, c.StartedAt = CampaignRunning, &now
		if err := cp.s.queueWork(ctx, tx, campaignQueue); err != nil {
			return err
		}
		return cp.s.auditIn(ctx, tx, merchantID, id, c.Name)
	})
	return c, err
}

// SetCampaignStatus moves a campaign from one status to another (pause:
// running → paused; cancel: draft, running or paused → cancelled).
func (cp *CampaignStore) SetCampaignStatus(ctx context.Context, merchantID, id, from, to string) (Campaign, error) {
	var finished any
	if to == CampaignCancelled {
		finished = cp.s.nowUTC()
	}
	var c Campaign
	err := cp.s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, changeCampaign, to, finished, merchantID, id, from)
		if err != nil {
			return fmt.Errorf("change campaign: %w", err)
		}
		if c, err = scanCampaign(tx.QueryRowContext(ctx, selectCampaign, merchantID, id)); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if c.Status != to {
				return ErrCampaignState
			}
			return nil // already so: nothing changed, nothing to record
		}
		return cp.s.auditIn(ctx, tx, merchantID, id, c.Name)
	})
	return c, err
}

// FinishIfDone marks a running campaign finished once nobody is left to text.
func (cp *CampaignStore) FinishIfDone(ctx context.Context, id string) (bool, error) {
	var finished bool
	err := cp.s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, finishCampaign, cp.s.nowUTC(), id, id)
		if err != nil {
			return fmt.Errorf("finish campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		finished = true
		c, err := scanCampaign(tx.QueryRowContext(ctx, selectCampaignID, id))
		if err != nil {
			return err
		}
		return cp.s.emitEvent(ctx, tx, c.MerchantID, EventCampaignFinished, map[string]any{"campaign_id": c.ID,
			"name": c.Name, "audience": c.Audience, "holdout": c.Holdout})
	})
	return finished, err
}

func scanCampaign(row scanner) (Campaign, error) {
	var c Campaign
	err := row.Scan(&c.ID, &c.MerchantID, &c.ProgramID, &c.Name, &c.Status, &c.LapsedDays, &c.Tier, &c.Installed,
		&c.BonusPoints, &c.BonusOn, &c.Template, &c.HoldoutBP, &c.Salt, &c.QuietStart, &c.QuietEnd, &c.Timezone,
		&c.SendRate, &c.FrequencyCapDays, &c.PurchaseWindowDays, &c.Provider, &c.Audience, &c.Holdout,
		&c.CreatedAt, &c.StartedAt, &c.FinishedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load campaign: %w", err)
	}
	return c, nil
}
