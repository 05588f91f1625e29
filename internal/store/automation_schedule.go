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
// never every customer, and reads it in pages; each page's messages are
// written in their own short transaction, a few multi-row statements, so
// that postings get the single SQLite writer between pages.

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

// Each trigger's candidates are read in pages (keyset pagination): rows
// in the window ordered by a position (a time, then a tie-break that is
// unique or names the same candidate), each page the rows after the last
// page's position. Every query returns the position, the customer, the
// card, and the time its occurrence is named by.
const (
	candidatePage = ` AND (%[1]s, %[2]s) > (?, ?) ORDER BY %[1]s, %[2]s LIMIT ?`

	inactiveCandidates = `SELECT last_purchase_at, serial_number, customer_id, serial_number, last_purchase_at FROM cards
		WHERE program_id = ? AND status = 'active' AND last_purchase_at > ? AND last_purchase_at <= ?`
	enrolledCandidates = `SELECT created_at, serial_number, customer_id, serial_number, created_at FROM cards
		WHERE program_id = ? AND created_at > ? AND created_at <= ? AND status = 'active'`
	expiringCandidates = `SELECT t.expires_at, t.id, t.customer_id, t.serial_number, t.expires_at FROM transactions t
		JOIN cards c ON c.serial_number = t.serial_number
		WHERE t.program_id = ? AND t.remaining > 0 AND t.expires_at IS NOT NULL AND t.expires_at > ? AND t.expires_at <= ?
		AND c.status = 'active'`
	birthdayCandidates = `SELECT c.created_at, c.serial_number, c.customer_id, c.serial_number, c.created_at
		FROM customers u JOIN cards c ON c.customer_id = u.id
		WHERE c.program_id = ? AND u.merchant_id = ? AND u.birthday <> '' AND substr(u.birthday, 6, 5) = ?
		AND c.status = 'active'`
	// A due date the watcher wrote before the card's latest purchase is
	// stale: the card bought since, and its new due date is coming.
	repurchaseCandidates = `SELECT d.fire_at, d.serial_number, d.customer_id, d.serial_number, d.last_purchase_at
		FROM automation_dues d JOIN cards c ON c.serial_number = d.serial_number
		WHERE d.automation_id = ? AND d.fire_at > ? AND d.fire_at <= ? AND c.status = 'active'
		AND c.last_purchase_at = d.last_purchase_at`
	tierCandidates = `SELECT t.changed_at, t.id, t.customer_id, t.serial_number, t.changed_at FROM tier_changes t
		JOIN cards c ON c.serial_number = t.serial_number
		WHERE t.program_id = ? AND t.changed_at > ? AND t.changed_at <= ? AND (? = '' OR t.to_tier = ?)
		AND c.status = 'active'`
	// Two devices installing a card at the same instant are one candidate,
	// so the page's tie-break need not tell them apart.
	installedCandidates = `SELECT r.created_at, r.serial_number, c.customer_id, c.serial_number, r.created_at
		FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
		WHERE c.program_id = ? AND r.created_at > ? AND r.created_at <= ? AND c.status = 'active'`
)

// paged completes a candidate query with its page: the rows after a
// position (at, tie), in order.
func paged(query, at, tie string) string { return query + fmt.Sprintf(candidatePage, at, tie) }

// candidateSource is how one trigger reads its candidates.
type candidateSource struct {
	query    string
	scope    func(a Automation, lo, hi time.Time) []any
	occurred func(when time.Time, tie any) string
}

var candidateSources = map[string]candidateSource{
	loyalty.TriggerInactive: {paged(inactiveCandidates, "last_purchase_at", "serial_number"), programWindow,
		func(when time.Time, _ any) string { return "inactive:" + unix(when) }},
	loyalty.TriggerEnrolled: {paged(enrolledCandidates, "created_at", "serial_number"), programWindow,
		func(time.Time, any) string { return "enrolled" }},
	loyalty.TriggerPointsExpiring: {paged(expiringCandidates, "t.expires_at", "t.id"), programWindow,
		func(when time.Time, _ any) string { return "expiring:" + when.UTC().Format(time.DateOnly) }},
	loyalty.TriggerRepurchaseDue: {paged(repurchaseCandidates, "d.fire_at", "d.serial_number"),
		func(a Automation, lo, hi time.Time) []any { return []any{a.ID, lo, hi} },
		func(when time.Time, _ any) string { return "due:" + unix(when) }},
	loyalty.TriggerTierChanged: {paged(tierCandidates, "t.changed_at", "t.id"),
		func(a Automation, lo, hi time.Time) []any {
			return []any{a.ProgramID, lo, hi, a.Trigger.Tier, a.Trigger.Tier}
		},
		func(_ time.Time, id any) string { return fmt.Sprintf("tier:%v", id) }},
	loyalty.TriggerCardInstalled: {paged(installedCandidates, "r.created_at", "r.serial_number"), programWindow,
		func(time.Time, any) string { return "installed" }},
	// Birthdays are read a day at a time (CandidatePage), not in a window.
	loyalty.TriggerBirthday: {paged(birthdayCandidates, "c.created_at", "c.serial_number"), nil, nil},
}

func programWindow(a Automation, lo, hi time.Time) []any { return []any{a.ProgramID, lo, hi} }

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// CandidateCursor is where a page of candidates ended; the zero cursor
// is the start, and Done is set once the last page was read.
type CandidateCursor struct {
	day  int // the birthday being read, of those the window covers
	at   time.Time
	tie  any
	Done bool
}

// CandidatePage returns up to limit candidates a's trigger selects as its
// evaluation moves from `from` to `to` (see loyalty.Trigger.Window and
// Birthdays), after the cursor, and the cursor after them. A page holds
// each customer and occurrence once; the next page may hold one again (a
// card with two lots expiring the same day), which the message's
// uniqueness absorbs.
func (as *AutomationStore) CandidatePage(ctx context.Context, a Automation, from, to time.Time, after CandidateCursor,
	limit int) ([]Candidate, CandidateCursor, error) {
	t := a.Trigger
	src, ok := candidateSources[t.Type]
	if !ok {
		return nil, after, fmt.Errorf("automation %s: unknown trigger %q", a.ID, t.Type)
	}
	var args []any
	occurred := src.occurred
	if t.Type == loyalty.TriggerBirthday {
		days := t.Birthdays(from, to, a.Quiet().Zone)
		if after.day >= len(days) {
			return nil, CandidateCursor{Done: true}, nil
		}
		b := days[after.day]
		args = []any{a.ProgramID, a.MerchantID, b.MonthDay}
		occurred = func(time.Time, any) string { return "birthday:" + strconv.Itoa(b.Year) }
	} else {
		lo, hi := t.Window(from, to)
		args = src.scope(a, lo, hi)
	}
	args = append(args, after.at, after.tie, limit)
	var out []Candidate
	seen := map[Candidate]bool{}
	next, rows := after, 0
	err := as.s.eachRow(ctx, src.query, args, func(r *sql.Rows) error {
		var c Candidate
		var when time.Time
		if err := r.Scan(&next.at, &next.tie, &c.CustomerID, &c.Serial, &when); err != nil {
			return err
		}
		rows++
		next.at = next.at.UTC()
		c.Occurrence = occurred(when, next.tie)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("automation %s candidates: %w", a.ID, err)
	}
	if rows < limit {
		// This source is read to its end: the next birthday, or done.
		next = CandidateCursor{day: after.day + 1, Done: t.Type != loyalty.TriggerBirthday}
	}
	return out, next, nil
}

// candidatePageSize is how many rows Candidates reads a page.
const candidatePageSize = 2000

// Candidates returns every candidate a's trigger selects as its
// evaluation moves from `from` to `to`, one per customer and occurrence:
// CandidatePage's pages, to their end.
func (as *AutomationStore) Candidates(ctx context.Context, a Automation, from, to time.Time) ([]Candidate, error) {
	var out []Candidate
	seen := map[Candidate]bool{}
	for cur := (CandidateCursor{}); !cur.Done; {
		var page []Candidate
		var err error
		if page, cur, err = as.CandidatePage(ctx, a, from, to, cur, candidatePageSize); err != nil {
			return nil, err
		}
		for _, c := range page {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
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

// insertMessages writes messages, many a statement; a message its
// automation already made for that customer and occurrence is left as it
// is.
var insertMessages = multiRow{Head: `INSERT INTO automation_messages (automation_id, merchant_id, program_id, customer_id,
	serial_number, occurrence, holdout, variant, status, due_at, created_at, measure_until) VALUES`, Cols: 12,
	Tail: `ON CONFLICT (automation_id, customer_id, occurrence) DO NOTHING`}

const (
	// The watermark only moves for the instance that holds the lease, and
	// only forward.
	finishEvaluation = `UPDATE automations SET evaluated_until = ?, due_at = ?, claimed_until = NULL
		WHERE id = ? AND status = 'active' AND evaluated_until <= ?`
	releaseAutomation = `UPDATE automations SET claimed_until = NULL, due_at = ? WHERE id = ?`
)

// RecordMessages writes a page of an evaluation's messages of a, in one
// transaction with a few multi-row statements. A message its automation
// already made for that customer and occurrence is not made again, so an
// evaluation repeated after a crash, or over a window that overlaps the
// last, sends nobody twice. It reports how many messages are new.
func (as *AutomationStore) RecordMessages(ctx context.Context, a Automation, msgs []NewMessage) (int, error) {
	var made int
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		var err error
		made, err = as.recordMessages(ctx, tx, a, msgs)
		return err
	})
	return made, err
}

// FinishEvaluation moves a's watermark to `to`, due again at next, once
// every page of the evaluation is recorded.
func (as *AutomationStore) FinishEvaluation(ctx context.Context, a Automation, to, next time.Time) error {
	_, err := as.s.write.ExecContext(ctx, finishEvaluation, to.UTC(), next.UTC(), a.ID, to.UTC())
	return err
}

// RecordEvaluation writes the messages of one evaluation of a (up to
// `to`) and moves its watermark to `to`, due again at next, in one
// transaction: RecordMessages and FinishEvaluation at once, for an
// evaluation of one page. It reports how many messages are new.
func (as *AutomationStore) RecordEvaluation(ctx context.Context, a Automation, to, next time.Time, msgs []NewMessage) (int, error) {
	var made int
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if made, err = as.recordMessages(ctx, tx, a, msgs); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, finishEvaluation, to.UTC(), next.UTC(), a.ID, to.UTC())
		return err
	})
	return made, err
}

// recordMessages inserts msgs in tx: the held-out ones, then those to
// send, so that the sender is woken only when there is one to send.
func (as *AutomationStore) recordMessages(ctx context.Context, tx *writeTx, a Automation, msgs []NewMessage) (int, error) {
	now := as.s.nowUTC()
	until := now.Add(time.Duration(a.PurchaseWindowDays) * 24 * time.Hour)
	var held, send []any
	for _, m := range msgs {
		status, rows := "pending", &send
		if m.Holdout {
			status, rows = "holdout", &held
		}
		*rows = append(*rows, a.ID, a.MerchantID, a.ProgramID, m.CustomerID, m.Serial, m.Occurrence, m.Holdout, m.Variant,
			status, now, now, until)
	}
	heldMade, err := insertMessages.exec(ctx, tx, held)
	if err != nil {
		return 0, fmt.Errorf("insert messages: %w", err)
	}
	sendMade, err := insertMessages.exec(ctx, tx, send)
	if err != nil {
		return 0, fmt.Errorf("insert messages: %w", err)
	}
	if sendMade > 0 {
		tx.enqueued(messageQueue)
	}
	return int(heldMade + sendMade), nil
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
