package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// AutomationStore persists automations, the messages they make, what the
// scheduler keeps to evaluate their triggers incrementally (rhythms, tier
// changes, due dates, watermarks) and the programs' SMS budgets.
type AutomationStore struct{ s *Store }

// Automations returns the automation aggregate.
func (s *Store) Automations() *AutomationStore { return &AutomationStore{s} }

// Automation statuses.
const (
	AutomationActive  = "active"
	AutomationPaused  = "paused"
	AutomationDeleted = "deleted"
)

// ErrAutomationState refuses a transition the automation's status does
// not allow (resuming a deleted one, say).
var ErrAutomationState = errors.New("automation cannot do that in its current status")

// Variant is one version of an automation's message: its text and the
// bonus that goes with it.
type Variant struct {
	Text      string `json:"text"`
	BonusKind string `json:"bonus_kind"`
	Bonus     int64  `json:"bonus"`
}

// Automation is a trigger with the messages it sends and how it measures
// them.
type Automation struct {
	ID, MerchantID, ProgramID, Name, Status string
	// PausedReason says why an automation paused itself ("" when a
	// merchant paused it).
	PausedReason       string
	Trigger            loyalty.Trigger
	Variants           []Variant
	HoldoutBP          int
	FrequencyCapDays   int
	QuietStart         int
	QuietEnd           int
	Timezone           string
	PurchaseWindowDays int
	Provider           string
	// AutoPauseMin, when > 0, pauses the automation once both the messaged
	// group and the holdout hold that many customers and the lift's 95 %
	// interval reaches zero. WinnerMin, when > 0, gives all traffic to a
	// variant significantly better than every other once each has that
	// many; Winner is that variant's index, -1 while there is none.
	AutoPauseMin, WinnerMin int
	Winner                  int
	// EvaluatedUntil is the scheduler's watermark: the trigger fired for
	// everything up to it.
	EvaluatedUntil       time.Time
	CreatedAt, UpdatedAt time.Time
}

// Quiet returns the automation's quiet hours.
func (a Automation) Quiet() loyalty.QuietHours {
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return loyalty.QuietHours{Start: a.QuietStart, End: a.QuietEnd, Zone: loc}
}

const automationColumns = `id, merchant_id, program_id, name, status, paused_reason, trigger_type, trigger_days,
	due_percent, trigger_tier, variants, holdout_bp, frequency_cap_days, quiet_start, quiet_end, timezone,
	purchase_window_days, provider, auto_pause_min, winner_min, winner, evaluated_until, created_at, updated_at`

const (
	insertAutomation = `INSERT INTO automations (` + automationColumns + `, due_at)
		VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, -1, ?, ?, ?, ?)`
	selectAutomation   = `SELECT ` + automationColumns + ` FROM automations WHERE merchant_id = ? AND id = ? AND status <> 'deleted'`
	selectAutomationID = `SELECT ` + automationColumns + ` FROM automations WHERE id = ?`
	listAutomations    = `SELECT ` + automationColumns + ` FROM automations WHERE merchant_id = ? AND status <> 'deleted'
		AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?`
	// A resumed automation fires from now on: what fell due while it was
	// paused is not sent late.
	changeAutomation = `UPDATE automations SET status = ?, paused_reason = ?, updated_at = ?,
		evaluated_until = CASE WHEN ? THEN ? ELSE evaluated_until END, due_at = CASE WHEN ? THEN ? ELSE due_at END
		WHERE merchant_id = ? AND id = ? AND status = ?`
	// Messages not yet sent when an automation stops are not sent later.
	skipPendingMessages = `UPDATE automation_messages SET status = 'skipped', reason = ? WHERE automation_id = ? AND status = 'pending'`
	// A repurchase automation that starts needs due dates for every card:
	// the rhythm watcher goes over the program's cards again.
	rewatchProgram = `UPDATE rhythm_watch SET watched_until = ? WHERE program_id = ?`
)

// CreateAutomation stores a new active automation; it fills in ID,
// Status, Winner, EvaluatedUntil (now: an automation fires from its
// creation on) and the times.
func (as *AutomationStore) CreateAutomation(ctx context.Context, a *Automation) error {
	now := as.s.nowUTC()
	a.ID, a.Status, a.Winner, a.EvaluatedUntil, a.CreatedAt, a.UpdatedAt = newID("aut"), AutomationActive, -1, now, now, now
	variants, err := json.Marshal(a.Variants)
	if err != nil {
		return err
	}
	return as.s.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, insertAutomation, a.ID, a.MerchantID, a.ProgramID, a.Name, a.Status,
			a.Trigger.Type, a.Trigger.Days, a.Trigger.DuePercent, a.Trigger.Tier, string(variants), a.HoldoutBP,
			a.FrequencyCapDays, a.QuietStart, a.QuietEnd, a.Timezone, a.PurchaseWindowDays, a.Provider, a.AutoPauseMin,
			a.WinnerMin, a.EvaluatedUntil, a.CreatedAt, a.UpdatedAt, now)
		if err != nil {
			return fmt.Errorf("insert automation: %w", err)
		}
		if a.Trigger.Type == loyalty.TriggerRepurchaseDue {
			if _, err := tx.ExecContext(ctx, rewatchProgram, time.Time{}, a.ProgramID); err != nil {
				return err
			}
		}
		return as.s.auditIn(ctx, tx, a.MerchantID, a.ID, a.Name)
	})
}

// Automation returns the merchant's automation (a deleted one is not found).
func (as *AutomationStore) Automation(ctx context.Context, merchantID, id string) (Automation, error) {
	return scanAutomation(as.s.read.QueryRowContext(ctx, selectAutomation, merchantID, id))
}

// AutomationByID returns an automation whoever owns it, for the scheduler
// and the sender.
func (as *AutomationStore) AutomationByID(ctx context.Context, id string) (Automation, error) {
	return scanAutomation(as.s.read.QueryRowContext(ctx, selectAutomationID, id))
}

// Automations lists the merchant's automations in creation order.
func (as *AutomationStore) Automations(ctx context.Context, merchantID string, after Cursor, limit int) ([]Automation, error) {
	return as.s.automations(ctx, listAutomations, merchantID, after.Time, after.Time, after.ID, limit)
}

func (s *Store) automations(ctx context.Context, q string, args ...any) ([]Automation, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list automations: %w", err)
	}
	defer rows.Close()
	var out []Automation
	for rows.Next() {
		a, err := scanAutomation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAutomationStatus moves an automation from one status to another:
// pause (active → paused, reason "" when the merchant asks), resume
// (paused → active, firing from now on) or delete (any → deleted). Its
// messages not yet sent are skipped when it stops. Asking for the status
// it has changes nothing.
func (as *AutomationStore) SetAutomationStatus(ctx context.Context, merchantID, id, from, to, reason string) (Automation, error) {
	var a Automation
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if a, err = scanAutomation(tx.QueryRowContext(ctx, selectAutomation, merchantID, id)); err != nil {
			return err
		}
		if a.Status == to {
			return nil
		}
		if a.Status != from {
			return ErrAutomationState
		}
		now := as.s.nowUTC()
		resume := to == AutomationActive
		if _, err := tx.ExecContext(ctx, changeAutomation, to, reason, now, resume, now, resume, now, merchantID, id, from); err != nil {
			return fmt.Errorf("change automation: %w", err)
		}
		if !resume {
			if _, err := tx.ExecContext(ctx, skipPendingMessages, "automation "+to, id); err != nil {
				return fmt.Errorf("skip pending messages: %w", err)
			}
		} else if a.Trigger.Type == loyalty.TriggerRepurchaseDue {
			if _, err := tx.ExecContext(ctx, rewatchProgram, time.Time{}, a.ProgramID); err != nil {
				return err
			}
		}
		a.Status, a.PausedReason, a.UpdatedAt = to, reason, now
		if resume {
			a.EvaluatedUntil = now
		}
		return as.s.auditIn(ctx, tx, merchantID, id, a.Name)
	})
	return a, err
}

func scanAutomation(row scanner) (Automation, error) {
	var a Automation
	var variants string
	err := row.Scan(&a.ID, &a.MerchantID, &a.ProgramID, &a.Name, &a.Status, &a.PausedReason, &a.Trigger.Type,
		&a.Trigger.Days, &a.Trigger.DuePercent, &a.Trigger.Tier, &variants, &a.HoldoutBP, &a.FrequencyCapDays,
		&a.QuietStart, &a.QuietEnd, &a.Timezone, &a.PurchaseWindowDays, &a.Provider, &a.AutoPauseMin, &a.WinnerMin,
		&a.Winner, &a.EvaluatedUntil, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("load automation: %w", err)
	}
	if err := json.Unmarshal([]byte(variants), &a.Variants); err != nil {
		return a, fmt.Errorf("automation %s variants: %w", a.ID, err)
	}
	a.EvaluatedUntil, a.CreatedAt, a.UpdatedAt = a.EvaluatedUntil.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}
