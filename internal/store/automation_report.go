package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AutomationGroup is one group of an automation's messages, the holdout
// or a variant, with what it did: every group is measured from each
// message's creation over the purchase window, sent or not, so the
// holdout and the variants compare like with like.
type AutomationGroup struct {
	Holdout bool
	Variant int // -1 for the holdout
	// Assigned counts the group's messages (eligible customers); Sent,
	// Skipped, Failed and Waiting what became of them.
	Assigned, Sent, Skipped, Failed, Waiting int64
	// Purchasers bought within their window; Revenue is what they paid
	// (minor units, net of refunds).
	Purchasers, Revenue int64
	// Cost is the texts' cost (minor units); Bonus the points credited.
	Cost, Bonus int64
}

// ChannelCount is how many messages went by a channel and what they cost.
type ChannelCount struct {
	Channel    string
	Sent, Cost int64
}

const (
	// A purchase counts within [created_at, measure_until) of the message.
	inWindow        = `t.serial_number = m.serial_number AND t.kind = 'earn' AND t.created_at >= m.created_at AND t.created_at < m.measure_until`
	automationGroup = `SELECT m.holdout, m.variant, COUNT(*),
		COALESCE(SUM(CASE WHEN m.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status = 'skipped' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status IN ('pending', 'sending') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM transactions t WHERE ` + inWindow + `) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM((SELECT COALESCE(SUM(t.purchase_amount - t.refunded_amount), 0) FROM transactions t WHERE ` + inWindow + `)), 0),
		COALESCE(SUM(m.cost), 0), COALESCE(SUM(m.bonus), 0)
		FROM automation_messages m WHERE m.automation_id = ? AND (? OR m.measure_until <= ?)
		GROUP BY m.holdout, m.variant ORDER BY m.holdout, m.variant`
	automationChannels = `SELECT channel, COUNT(*), COALESCE(SUM(cost), 0) FROM automation_messages
		WHERE automation_id = ? AND sent_at IS NOT NULL GROUP BY channel ORDER BY channel`
	claimRulesCheck = `UPDATE automations SET rules_checked_at = ? WHERE id = ? AND status = 'active'
		AND (rules_checked_at IS NULL OR rules_checked_at <= ?)`
	setWinner = `UPDATE automations SET winner = ?, updated_at = ? WHERE id = ? AND winner < 0`
)

// AutomationReport returns an automation's groups (holdout first, then
// the variants in order) and its messages sent per channel. A non-zero
// closedBy counts only the messages whose purchase window closed by then:
// what the auto-pause and winner rules judge on.
func (as *AutomationStore) AutomationReport(ctx context.Context, id string, closedBy time.Time) ([]AutomationGroup, []ChannelCount, error) {
	var groups []AutomationGroup
	err := as.s.eachRow(ctx, automationGroup, []any{id, closedBy.IsZero(), closedBy.UTC()}, func(rows *sql.Rows) error {
		var g AutomationGroup
		err := rows.Scan(&g.Holdout, &g.Variant, &g.Assigned, &g.Sent, &g.Skipped, &g.Failed, &g.Waiting, &g.Purchasers,
			&g.Revenue, &g.Cost, &g.Bonus)
		groups = append(groups, g)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("automation groups: %w", err)
	}
	var channels []ChannelCount
	err = as.s.eachRow(ctx, automationChannels, []any{id}, func(rows *sql.Rows) error {
		var c ChannelCount
		err := rows.Scan(&c.Channel, &c.Sent, &c.Cost)
		channels = append(channels, c)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("automation channels: %w", err)
	}
	return groups, channels, nil
}

// ClaimRulesCheck reports whether this instance should look at the
// automation's numbers for its auto-pause and winner rules now: at most
// once per every, by one instance.
func (as *AutomationStore) ClaimRulesCheck(ctx context.Context, id string, every time.Duration) (bool, error) {
	now := as.s.nowUTC()
	res, err := as.s.write.ExecContext(ctx, claimRulesCheck, now, id, now.Add(-every))
	if err != nil {
		return false, fmt.Errorf("claim rules check: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetWinner gives every new message of the automation to the winning
// variant; a winner once chosen stays.
func (as *AutomationStore) SetWinner(ctx context.Context, id string, variant int) error {
	_, err := as.s.write.ExecContext(ctx, setWinner, variant, as.s.nowUTC(), id)
	return err
}

// SMSBudget is a program's monthly SMS budget and what the month spent.
type SMSBudget struct {
	ProgramID      string
	Monthly, Spent int64 // minor units
	Month          string
}

const (
	upsertSMSBudget = `INSERT INTO sms_budgets (program_id, monthly, month, spent) VALUES (?, ?, ?, 0)
		ON CONFLICT (program_id) DO UPDATE SET monthly = excluded.monthly`
	selectSMSBudget = `SELECT b.monthly, b.month, b.spent FROM sms_budgets b JOIN programs p ON p.id = b.program_id
		WHERE p.merchant_id = ? AND b.program_id = ?`
)

// SetSMSBudget sets the merchant's program's monthly SMS budget.
func (as *AutomationStore) SetSMSBudget(ctx context.Context, merchantID, programID string, monthly int64) (SMSBudget, error) {
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, programExists, merchantID, programID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, upsertSMSBudget, programID, monthly, as.s.nowUTC().Format("2006-01"))
		return err
	})
	if err != nil {
		return SMSBudget{}, err
	}
	return as.SMSBudget(ctx, merchantID, programID)
}

// SMSBudget returns the merchant's program's SMS budget; ErrNotFound when
// it has none (its texts are not limited).
func (as *AutomationStore) SMSBudget(ctx context.Context, merchantID, programID string) (SMSBudget, error) {
	b := SMSBudget{ProgramID: programID}
	err := as.s.read.QueryRowContext(ctx, selectSMSBudget, merchantID, programID).Scan(&b.Monthly, &b.Month, &b.Spent)
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("load SMS budget: %w", err)
	}
	if now := as.s.nowUTC().Format("2006-01"); b.Month != now {
		b.Month, b.Spent = now, 0
	}
	return b, nil
}
