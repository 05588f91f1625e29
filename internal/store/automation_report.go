package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AutomationGroup is one group of an automation, the holdout or a
// variant. Its messages are counted as sent, skipped, failed or waiting;
// its customers are what is measured: the customer is the unit the
// holdout and the variants are drawn by, so a customer who bought
// within the purchase window of any of their messages is one purchaser,
// whether they got one message or five. Every group is measured from
// each message's creation, sent or not, so the holdout and the variants
// compare like with like.
type AutomationGroup struct {
	Holdout bool
	Variant int // -1 for the holdout
	// Messages made; Sent, Skipped, Failed and Waiting what became of them.
	Messages, Sent, Skipped, Failed, Waiting int64
	// Cost is the texts' cost (minor units); Bonus the points credited.
	Cost, Bonus int64
	// Customers in the group; Reached those sent at least one message;
	// Purchasers those who bought within a window; Revenue what they paid
	// within their windows (minor units, net of refunds).
	Customers, Reached, Purchasers, Revenue int64
}

// ChannelCount is how many messages went by a channel and what they cost.
type ChannelCount struct {
	Channel    string
	Sent, Cost int64
}

const (
	// messagesIn limits a report to the messages whose window closed by a
	// time, or (when the first argument is true) takes them all.
	messagesIn    = `m.automation_id = ? AND (? OR m.measure_until <= ?)`
	groupMessages = `SELECT m.holdout, m.variant, COUNT(*),
		COALESCE(SUM(CASE WHEN m.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status = 'skipped' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN m.status IN ('pending', 'sending') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(m.cost), 0), COALESCE(SUM(m.bonus), 0)
		FROM automation_messages m WHERE ` + messagesIn + ` GROUP BY m.holdout, m.variant ORDER BY m.holdout, m.variant`
	// A customer's purchase counts once, within the window of any of
	// their messages in the report: after the message was made (not the
	// purchase that made it), before the window closes.
	inAnyWindow = `t.serial_number = c.serial_number AND t.kind = 'earn' AND EXISTS (SELECT 1 FROM automation_messages m
		WHERE ` + messagesIn + ` AND m.customer_id = c.customer_id AND t.created_at > m.created_at AND t.created_at < m.measure_until)`
	groupCustomers = `SELECT c.holdout, c.variant, COUNT(*), COALESCE(SUM(c.reached), 0),
		COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM transactions t WHERE ` + inAnyWindow + `) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM((SELECT COALESCE(SUM(t.purchase_amount - t.refunded_amount), 0) FROM transactions t WHERE ` + inAnyWindow + `)), 0)
		FROM (SELECT m.customer_id, MIN(m.serial_number) AS serial_number, m.holdout, m.variant,
			MAX(CASE WHEN m.sent_at IS NOT NULL THEN 1 ELSE 0 END) AS reached
			FROM automation_messages m WHERE ` + messagesIn + ` GROUP BY m.customer_id, m.holdout, m.variant) c
		GROUP BY c.holdout, c.variant ORDER BY c.holdout, c.variant`
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
	in := []any{id, closedBy.IsZero(), closedBy.UTC()}
	var groups []AutomationGroup
	index := map[[2]int]int{}
	key := func(holdout bool, variant int) [2]int {
		if holdout {
			return [2]int{1, variant}
		}
		return [2]int{0, variant}
	}
	err := as.s.eachRow(ctx, groupMessages, in, func(rows *sql.Rows) error {
		var g AutomationGroup
		err := rows.Scan(&g.Holdout, &g.Variant, &g.Messages, &g.Sent, &g.Skipped, &g.Failed, &g.Waiting, &g.Cost, &g.Bonus)
		index[key(g.Holdout, g.Variant)] = len(groups)
		groups = append(groups, g)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("automation messages: %w", err)
	}
	// The customers' query repeats the message filter in both windows.
	args := append(append(append([]any{}, in...), in...), in...)
	err = as.s.eachRow(ctx, groupCustomers, args, func(rows *sql.Rows) error {
		var holdout bool
		var variant int
		var customers, reached, purchasers, revenue int64
		if err := rows.Scan(&holdout, &variant, &customers, &reached, &purchasers, &revenue); err != nil {
			return err
		}
		if i, ok := index[key(holdout, variant)]; ok {
			g := &groups[i]
			g.Customers, g.Reached, g.Purchasers, g.Revenue = customers, reached, purchasers, revenue
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("automation customers: %w", err)
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

// MessageRow is one message of an automation as stored, for looking at
// what an automation did message by message (the simulator's checks).
type MessageRow struct {
	ID                             int64
	CustomerID, Occurrence, Status string
	Channel, Reason                string
	Holdout                        bool
	Variant                        int
	CreatedAt                      time.Time
	SentAt                         *time.Time
}

const listMessages = `SELECT id, customer_id, occurrence, status, channel, reason, holdout, variant, created_at, sent_at
	FROM automation_messages WHERE automation_id = ? AND id > ? ORDER BY id LIMIT ?`

// Messages pages through an automation's messages after the id afterID.
func (as *AutomationStore) Messages(ctx context.Context, automationID string, afterID int64, limit int) ([]MessageRow, error) {
	var out []MessageRow
	err := as.s.eachRow(ctx, listMessages, []any{automationID, afterID, limit}, func(rows *sql.Rows) error {
		var m MessageRow
		err := rows.Scan(&m.ID, &m.CustomerID, &m.Occurrence, &m.Status, &m.Channel, &m.Reason, &m.Holdout, &m.Variant,
			&m.CreatedAt, &m.SentAt)
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("automation messages: %w", err)
	}
	return out, nil
}
