package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The scheduler's side of automations: which automations are due for an
// evaluation, which customers a trigger selects in the window it moved
// over, and the messages it makes. Every trigger reads an index range of
// what changed in the window (a purchase that became N days old, a day's
// birthdays, a lot that is about to expire, a tier change, an install),
// never every customer.

// ClaimAutomations leases up to limit active automations whose next
// evaluation is due, for lease: another instance skips them meanwhile.
func (as *AutomationStore) ClaimAutomations(ctx context.Context, limit int, lease time.Duration) ([]Automation, error) {
	var out []Automation
	err := as.s.claim(ctx, automationTable, claimOpts{Limit: limit, Lease: lease, Scan: func(rows *sql.Rows) error {
		a, err := scanAutomation(rows)
		if err == nil {
			out = append(out, a)
		}
		return err
	}})
	return out, err
}

// Candidate is a customer a trigger selected, with the occurrence that
// makes the message unique: a birthday's year, a purchase cycle, a day of
// expiry, a tier change, the card itself.
type Candidate struct {
	CustomerID, Serial, Occurrence string
}

const (
	inactiveCandidates = `SELECT customer_id, serial_number, last_purchase_at FROM cards
		WHERE program_id = ? AND status = 'active' AND last_purchase_at > ? AND last_purchase_at <= ?`
	enrolledCandidates = `SELECT customer_id, serial_number, created_at FROM cards
		WHERE program_id = ? AND created_at > ? AND created_at <= ? AND status = 'active'`
	expiringCandidates = `SELECT t.customer_id, t.serial_number, t.expires_at FROM transactions t
		JOIN cards c ON c.serial_number = t.serial_number
		WHERE t.remaining > 0 AND t.expires_at IS NOT NULL AND t.expires_at > ? AND t.expires_at <= ?
		AND t.program_id = ? AND c.status = 'active'`
	birthdayCandidates = `SELECT c.customer_id, c.serial_number FROM customers u JOIN cards c ON c.customer_id = u.id
		WHERE u.merchant_id = ? AND u.birthday <> '' AND substr(u.birthday, 6, 5) = ?
		AND c.program_id = ? AND c.status = 'active'`
	// A due date the watcher wrote before the card's latest purchase is
	// stale: the card bought since, and its new due date is coming.
	repurchaseCandidates = `SELECT d.customer_id, d.serial_number, d.last_purchase_at FROM automation_dues d
		JOIN cards c ON c.serial_number = d.serial_number
		WHERE d.automation_id = ? AND d.fire_at > ? AND d.fire_at <= ? AND c.status = 'active'
		AND c.last_purchase_at = d.last_purchase_at`
	tierCandidates = `SELECT t.customer_id, t.serial_number, t.id FROM tier_changes t
		JOIN cards c ON c.serial_number = t.serial_number
		WHERE t.program_id = ? AND t.changed_at > ? AND t.changed_at <= ? AND (? = '' OR t.to_tier = ?)
		AND c.status = 'active'`
	installedCandidates = `SELECT c.customer_id, c.serial_number FROM registrations r
		JOIN cards c ON c.serial_number = r.serial_number
		WHERE r.created_at > ? AND r.created_at <= ? AND c.program_id = ? AND c.status = 'active'`
)

// Candidates returns the customers a's trigger selects as its evaluation
// moves from `from` to `to` (see loyalty.Trigger.Window and Birthdays),
// one per customer and occurrence.
func (as *AutomationStore) Candidates(ctx context.Context, a Automation, from, to time.Time) ([]Candidate, error) {
	t := a.Trigger
	lo, hi := t.Window(from, to)
	var out []Candidate
	seen := map[Candidate]bool{}
	add := func(c Candidate) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	// at reads rows of (customer, serial, time) and keys them by prefix
	// and the time as the occurrence wants it.
	at := func(q, prefix string, occurrence func(time.Time) string, args ...any) error {
		return as.s.eachRow(ctx, q, args, func(rows *sql.Rows) error {
			var c Candidate
			var when time.Time
			if err := rows.Scan(&c.CustomerID, &c.Serial, &when); err != nil {
				return err
			}
			c.Occurrence = prefix + occurrence(when)
			add(c)
			return nil
		})
	}
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	var err error
	switch t.Type {
	case loyalty.TriggerInactive:
		err = at(inactiveCandidates, "inactive:", unix, a.ProgramID, lo, hi)
	case loyalty.TriggerRepurchaseDue:
		err = at(repurchaseCandidates, "due:", unix, a.ID, lo, hi)
	case loyalty.TriggerEnrolled:
		err = at(enrolledCandidates, "enrolled", func(time.Time) string { return "" }, a.ProgramID, lo, hi)
	case loyalty.TriggerPointsExpiring:
		day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
		err = at(expiringCandidates, "expiring:", day, lo, hi, a.ProgramID)
	case loyalty.TriggerTierChanged:
		err = as.s.eachRow(ctx, tierCandidates, []any{a.ProgramID, lo, hi, t.Tier, t.Tier}, func(rows *sql.Rows) error {
			var c Candidate
			var id int64
			if err := rows.Scan(&c.CustomerID, &c.Serial, &id); err != nil {
				return err
			}
			c.Occurrence = "tier:" + strconv.FormatInt(id, 10)
			add(c)
			return nil
		})
	case loyalty.TriggerCardInstalled:
		err = as.s.eachRow(ctx, installedCandidates, []any{lo, hi, a.ProgramID}, func(rows *sql.Rows) error {
			c := Candidate{Occurrence: "installed"}
			if err := rows.Scan(&c.CustomerID, &c.Serial); err != nil {
				return err
			}
			add(c)
			return nil
		})
	case loyalty.TriggerBirthday:
		for _, b := range t.Birthdays(from, to, a.Quiet().Zone) {
			err = as.s.eachRow(ctx, birthdayCandidates, []any{a.MerchantID, b.MonthDay, a.ProgramID}, func(rows *sql.Rows) error {
				c := Candidate{Occurrence: "birthday:" + strconv.Itoa(b.Year)}
				if err := rows.Scan(&c.CustomerID, &c.Serial); err != nil {
					return err
				}
				add(c)
				return nil
			})
			if err != nil {
				break
			}
		}
	default:
		return nil, fmt.Errorf("automation %s: unknown trigger %q", a.ID, t.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("automation %s candidates: %w", a.ID, err)
	}
	return out, nil
}

// eachRow runs a query on the read pool and hands each row to fn.
func (s *Store) eachRow(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// NewMessage is a candidate placed by the experiment: in the holdout, or
// in a variant.
type NewMessage struct {
	Candidate
	Holdout bool
	Variant int
}

const (
	insertMessage = `INSERT INTO automation_messages (automation_id, merchant_id, program_id, customer_id, serial_number,
		occurrence, holdout, variant, status, due_at, created_at, measure_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (automation_id, customer_id, occurrence) DO NOTHING`
	// The watermark only moves for the instance that holds the lease, and
	// only forward.
	finishEvaluation = `UPDATE automations SET evaluated_until = ?, due_at = ?, claimed_until = NULL
		WHERE id = ? AND status = 'active' AND evaluated_until <= ?`
	releaseAutomation = `UPDATE automations SET claimed_until = NULL, due_at = ? WHERE id = ?`
)

// RecordEvaluation writes the messages of one evaluation of a (up to
// `to`) and moves its watermark to `to`, due again at next, in one
// transaction. A message its automation already made for that customer
// and occurrence is not made again, so an evaluation repeated after a
// crash, or over a window that overlaps the last, sends nobody twice. It
// reports how many messages are new.
func (as *AutomationStore) RecordEvaluation(ctx context.Context, a Automation, to, next time.Time, msgs []NewMessage) (int, error) {
	var made int
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		made = 0
		now := as.s.nowUTC()
		until := now.Add(time.Duration(a.PurchaseWindowDays) * 24 * time.Hour)
		for _, m := range msgs {
			status := "pending"
			if m.Holdout {
				status = "holdout"
			}
			res, err := tx.ExecContext(ctx, insertMessage, a.ID, a.MerchantID, a.ProgramID, m.CustomerID, m.Serial,
				m.Occurrence, m.Holdout, m.Variant, status, now, now, until)
			if err != nil {
				return fmt.Errorf("insert message: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				made++
				if !m.Holdout {
					tx.enqueued(messageQueue)
				}
			}
		}
		_, err := tx.ExecContext(ctx, finishEvaluation, to.UTC(), next.UTC(), a.ID, to.UTC())
		return err
	})
	return made, err
}

// ReleaseAutomation gives back the lease of an evaluation that failed;
// the automation is due again at next.
func (as *AutomationStore) ReleaseAutomation(ctx context.Context, id string, next time.Time) error {
	_, err := as.s.write.ExecContext(ctx, releaseAutomation, next.UTC(), id)
	return err
}

// MessagesQueued receives after a commit that made messages to send; the
// automation sender waits on it between polls.
func (as *AutomationStore) MessagesQueued() <-chan struct{} { return as.s.queued[messageQueue] }
