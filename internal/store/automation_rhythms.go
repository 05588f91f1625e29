package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The rhythm watcher: for the programs whose automations need it
// (repurchase_due, tier_changed), it looks at the cards that changed since
// it last looked, re-estimates their purchase rhythm (loyalty.Rhythm),
// records tier changes, and keeps each repurchase automation's due date
// per card. A program's first look covers all its cards, once.

// watchMargin is how far back each look reaches before the last one
// ended: a transaction that committed late, with an earlier updated_at,
// is still seen. Looking at a card twice changes nothing.
const watchMargin = 10 * time.Minute

// watchPage is how many changed cards are handled per transaction: a
// page's rhythms and due dates are a few multi-row statements, and the
// single writer is held for milliseconds, not the whole look.
const watchPage = 2000

const (
	ensureWatch = `INSERT INTO rhythm_watch (program_id, watched_until, typical_gap_seconds) VALUES (?, ?, 0)
		ON CONFLICT (program_id) DO NOTHING`
	leaseWatch = `UPDATE rhythm_watch SET claimed_until = ? WHERE program_id = ?
		AND (claimed_until IS NULL OR claimed_until < ?)`
	selectWatch  = `SELECT watched_until, typical_gap_seconds FROM rhythm_watch WHERE program_id = ?`
	finishWatch  = `UPDATE rhythm_watch SET watched_until = ?, typical_gap_seconds = ?, claimed_until = NULL WHERE program_id = ?`
	releaseWatch = `UPDATE rhythm_watch SET claimed_until = NULL WHERE program_id = ?`
	// changedCards reads a page of the cards changed after a position
	// (updated_at, serial_number), each with its tier as last watched and
	// its purchase times: one row per purchase. The row comparison walks
	// the index cards_changed (program_id, updated_at, serial_number).
	changedCards = `SELECT c.serial_number, c.customer_id, c.tier, c.last_purchase_at, c.updated_at, r.tier, t.created_at
		FROM (SELECT serial_number, customer_id, tier, last_purchase_at, updated_at FROM cards
			WHERE program_id = ? AND (updated_at, serial_number) > (?, ?) ORDER BY updated_at, serial_number LIMIT ?) c
		LEFT JOIN card_rhythms r ON r.serial_number = c.serial_number
		LEFT JOIN transactions t ON t.serial_number = c.serial_number AND t.kind = 'earn'
		ORDER BY c.updated_at, c.serial_number`
	// everyCard is changedCards for a program's first look, which reads
	// every card: in serial order, so that the serial-keyed indexes it
	// reads (the ledger's) and writes (rhythms, due dates) are walked in
	// order instead of at random.
	everyCard = `SELECT c.serial_number, c.customer_id, c.tier, c.last_purchase_at, c.updated_at, r.tier, t.created_at
		FROM (SELECT serial_number, customer_id, tier, last_purchase_at, updated_at FROM cards
			WHERE program_id = ? AND serial_number > ? ORDER BY serial_number LIMIT ?) c
		LEFT JOIN card_rhythms r ON r.serial_number = c.serial_number
		LEFT JOIN transactions t ON t.serial_number = c.serial_number AND t.kind = 'earn'
		ORDER BY c.serial_number`
	repurchaseAutomations = `SELECT id, due_percent FROM automations
		WHERE program_id = ? AND status = 'active' AND trigger_type = 'repurchase_due'`
	countOwnGaps  = `SELECT COUNT(*) FROM card_rhythms WHERE program_id = ? AND own`
	medianOwnGap  = `SELECT gap_seconds FROM card_rhythms WHERE program_id = ? AND own ORDER BY gap_seconds LIMIT 1 OFFSET ?`
	selectEarnsOf = `SELECT t.created_at FROM transactions t JOIN cards c ON c.serial_number = t.serial_number
		WHERE c.merchant_id = ? AND t.serial_number = ? AND t.kind = 'earn'`
	selectCardProgram = `SELECT program_id FROM cards WHERE merchant_id = ? AND serial_number = ?`
)

// The watcher's writes, a page of rows per statement.
var (
	upsertRhythms = multiRow{Head: `INSERT INTO card_rhythms (serial_number, program_id, customer_id, tier, purchases,
		gap_seconds, own, last_purchase_at, updated_at) VALUES`, Cols: 9,
		Tail: `ON CONFLICT (serial_number) DO UPDATE SET tier = excluded.tier, purchases = excluded.purchases,
		gap_seconds = excluded.gap_seconds, own = excluded.own, last_purchase_at = excluded.last_purchase_at,
		updated_at = excluded.updated_at`}
	insertTierChanges = multiRow{Head: `INSERT INTO tier_changes (serial_number, program_id, customer_id, from_tier, to_tier,
		changed_at) VALUES`, Cols: 6}
	upsertDues = multiRow{Head: `INSERT INTO automation_dues (automation_id, serial_number, customer_id, last_purchase_at,
		fire_at) VALUES`, Cols: 5, Tail: `ON CONFLICT (automation_id, serial_number) DO UPDATE SET
		last_purchase_at = excluded.last_purchase_at, fire_at = excluded.fire_at`}
)

// WatchRhythms brings the program's rhythms, tier changes and due dates up
// to now. Only one instance watches a program at a time (for lease);
// another gets (0, nil). It reports the cards it looked at.
func (as *AutomationStore) WatchRhythms(ctx context.Context, programID string, lease time.Duration) (int, error) {
	now := as.s.nowUTC()
	if _, err := as.s.write.ExecContext(ctx, ensureWatch, programID, time.Time{}); err != nil {
		return 0, fmt.Errorf("watch %s: %w", programID, err)
	}
	res, err := as.s.write.ExecContext(ctx, leaseWatch, now.Add(lease), programID, now)
	if err != nil {
		return 0, fmt.Errorf("lease watch %s: %w", programID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	looked, err := as.watch(ctx, programID, now)
	if err != nil {
		_, _ = as.s.write.ExecContext(context.WithoutCancel(ctx), releaseWatch, programID)
	}
	return looked, err
}

// repurchaseDue is a repurchase_due automation of the watched program.
type repurchaseDue struct {
	id      string
	percent int
}

func (as *AutomationStore) watch(ctx context.Context, programID string, now time.Time) (int, error) {
	var since time.Time
	var gapSeconds int64
	if err := as.s.read.QueryRowContext(ctx, selectWatch, programID).Scan(&since, &gapSeconds); err != nil {
		return 0, fmt.Errorf("load watch %s: %w", programID, err)
	}
	programGap := time.Duration(gapSeconds) * time.Second
	if programGap <= 0 {
		programGap = loyalty.DefaultProgramGap
	}
	var dues []repurchaseDue
	err := as.s.eachRow(ctx, repurchaseAutomations, []any{programID}, func(rows *sql.Rows) error {
		var d repurchaseDue
		err := rows.Scan(&d.id, &d.percent)
		dues = append(dues, d)
		return err
	})
	if err != nil {
		return 0, err
	}
	first := since.IsZero()
	if !first {
		since = since.Add(-watchMargin)
	}
	after, afterSerial := since.UTC(), ""
	looked := 0
	for {
		q, args := changedCards, []any{programID, after, afterSerial, watchPage}
		if first {
			q, args = everyCard, []any{programID, afterSerial, watchPage}
		}
		page, err := as.changedCards(ctx, programID, q, args)
		if err != nil || len(page) == 0 {
			if err == nil {
				err = as.finishWatch(ctx, programID, now)
			}
			return looked, err
		}
		looked += len(page)
		last := page[len(page)-1]
		after, afterSerial = last.updated, last.serial
		if err := as.watchPage(ctx, programID, page, programGap, dues); err != nil {
			return looked, err
		}
	}
}

// watchedCard is what the watcher reads of a changed card.
type watchedCard struct {
	serial, customer, tier string
	lastPurchase           *time.Time
	updated                time.Time
	// known is the tier the watcher last saw, nil for a card it never saw.
	known *string
	earns []time.Time
}

// changedCards reads a page of cards with q (changedCards or everyCard).
func (as *AutomationStore) changedCards(ctx context.Context, programID, q string, args []any) ([]watchedCard, error) {
	var page []watchedCard
	err := as.s.eachRow(ctx, q, args, func(rows *sql.Rows) error {
		var c watchedCard
		var earn *time.Time
		if err := rows.Scan(&c.serial, &c.customer, &c.tier, &c.lastPurchase, &c.updated, &c.known, &earn); err != nil {
			return err
		}
		if n := len(page); n == 0 || page[n-1].serial != c.serial {
			c.updated = c.updated.UTC()
			page = append(page, c)
		}
		if earn != nil {
			page[len(page)-1].earns = append(page[len(page)-1].earns, *earn)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("changed cards of %s: %w", programID, err)
	}
	return page, nil
}

// watchPage re-estimates the rhythms of a page of cards, records their
// tier changes and writes each card's due date for each repurchase_due
// automation, in one transaction.
func (as *AutomationStore) watchPage(ctx context.Context, programID string, page []watchedCard, programGap time.Duration,
	dues []repurchaseDue) error {
	now := as.s.nowUTC()
	rhythms := make([]any, 0, len(page)*upsertRhythms.Cols)
	var changes, due []any
	for _, c := range page {
		r := loyalty.EstimateRhythm(c.earns, programGap)
		var last any
		if !r.Last.IsZero() {
			last = r.Last.UTC()
		}
		rhythms = append(rhythms, c.serial, programID, c.customer, c.tier, r.Purchases, int64(r.Gap/time.Second), r.Own, last, now)
		if c.known != nil && *c.known != c.tier {
			changes = append(changes, c.serial, programID, c.customer, *c.known, c.tier, c.updated)
		}
		if c.lastPurchase == nil || r.Last.IsZero() {
			continue
		}
		for _, d := range dues {
			due = append(due, d.id, c.serial, c.customer, *c.lastPurchase, r.DueAt(d.percent).UTC())
		}
	}
	return as.s.inTx(ctx, func(tx *writeTx) error {
		for _, w := range []struct {
			what string
			m    multiRow
			rows []any
		}{{"rhythms", upsertRhythms, rhythms}, {"tier changes", insertTierChanges, changes}, {"due dates", upsertDues, due}} {
			if _, err := w.m.exec(ctx, tx, w.rows); err != nil {
				return fmt.Errorf("%s: %w", w.what, err)
			}
		}
		return nil
	})
}

// finishWatch records the program's typical gap (the median of its
// customers' own gaps) and that it was watched up to now.
func (as *AutomationStore) finishWatch(ctx context.Context, programID string, now time.Time) error {
	var own int64
	if err := as.s.read.QueryRowContext(ctx, countOwnGaps, programID).Scan(&own); err != nil {
		return fmt.Errorf("count rhythms: %w", err)
	}
	var median int64
	if own > 0 {
		if err := as.s.read.QueryRowContext(ctx, medianOwnGap, programID, own/2).Scan(&median); err != nil {
			return fmt.Errorf("median gap: %w", err)
		}
	}
	_, err := as.s.write.ExecContext(ctx, finishWatch, now, median, programID)
	return err
}

// CardRhythm estimates the rhythm of the merchant's card now, from its
// purchases, with its program's typical gap for a customer who has not
// bought often enough to have their own.
func (as *AutomationStore) CardRhythm(ctx context.Context, merchantID, serial string) (loyalty.Rhythm, error) {
	var programID string
	err := as.s.read.QueryRowContext(ctx, selectCardProgram, merchantID, serial).Scan(&programID)
	if errors.Is(err, sql.ErrNoRows) {
		return loyalty.Rhythm{}, ErrNotFound
	}
	if err != nil {
		return loyalty.Rhythm{}, fmt.Errorf("load card: %w", err)
	}
	var times []time.Time
	err = as.s.eachRow(ctx, selectEarnsOf, []any{merchantID, serial}, func(rows *sql.Rows) error {
		var at time.Time
		err := rows.Scan(&at)
		times = append(times, at.UTC())
		return err
	})
	if err != nil {
		return loyalty.Rhythm{}, fmt.Errorf("purchase times: %w", err)
	}
	gap := loyalty.DefaultProgramGap
	var since time.Time
	var seconds int64
	if err := as.s.read.QueryRowContext(ctx, selectWatch, programID).Scan(&since, &seconds); err == nil && seconds > 0 {
		gap = time.Duration(seconds) * time.Second
	}
	return loyalty.EstimateRhythm(times, gap), nil
}
