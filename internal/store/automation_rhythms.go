package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

// watchPage is how many changed cards are handled per transaction.
const watchPage = 500

const (
	ensureWatch = `INSERT INTO rhythm_watch (program_id, watched_until, typical_gap_seconds) VALUES (?, ?, 0)
		ON CONFLICT (program_id) DO NOTHING`
	leaseWatch = `UPDATE rhythm_watch SET claimed_until = ? WHERE program_id = ?
		AND (claimed_until IS NULL OR claimed_until < ?)`
	selectWatch  = `SELECT watched_until, typical_gap_seconds FROM rhythm_watch WHERE program_id = ?`
	finishWatch  = `UPDATE rhythm_watch SET watched_until = ?, typical_gap_seconds = ?, claimed_until = NULL WHERE program_id = ?`
	releaseWatch = `UPDATE rhythm_watch SET claimed_until = NULL WHERE program_id = ?`
	changedCards = `SELECT serial_number, customer_id, tier, last_purchase_at, updated_at FROM cards
		WHERE program_id = ? AND (updated_at > ? OR (updated_at = ? AND serial_number > ?))
		ORDER BY updated_at, serial_number LIMIT ?`
	// earnTimesPrefix is completed with an IN list of serials.
	earnTimesPrefix = `SELECT serial_number, created_at FROM transactions WHERE kind = 'earn' AND serial_number IN `
	// knownTiersPrefix is completed with an IN list of serials.
	knownTiersPrefix = `SELECT serial_number, tier FROM card_rhythms WHERE serial_number IN `
	upsertRhythm     = `INSERT INTO card_rhythms (serial_number, program_id, customer_id, tier, purchases, gap_seconds, own,
		last_purchase_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (serial_number) DO UPDATE SET tier = excluded.tier, purchases = excluded.purchases,
		gap_seconds = excluded.gap_seconds, own = excluded.own, last_purchase_at = excluded.last_purchase_at,
		updated_at = excluded.updated_at`
	insertTierChange = `INSERT INTO tier_changes (serial_number, program_id, customer_id, from_tier, to_tier, changed_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	upsertDue = `INSERT INTO automation_dues (automation_id, serial_number, customer_id, last_purchase_at, fire_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (automation_id, serial_number) DO UPDATE SET
		last_purchase_at = excluded.last_purchase_at, fire_at = excluded.fire_at`
	repurchaseAutomations = `SELECT id, due_percent FROM automations
		WHERE program_id = ? AND status = 'active' AND trigger_type = 'repurchase_due'`
	countOwnGaps  = `SELECT COUNT(*) FROM card_rhythms WHERE program_id = ? AND own`
	medianOwnGap  = `SELECT gap_seconds FROM card_rhythms WHERE program_id = ? AND own ORDER BY gap_seconds LIMIT 1 OFFSET ?`
	selectEarnsOf = `SELECT t.created_at FROM transactions t JOIN cards c ON c.serial_number = t.serial_number
		WHERE c.merchant_id = ? AND t.serial_number = ? AND t.kind = 'earn'`
	selectCardProgram = `SELECT program_id FROM cards WHERE merchant_id = ? AND serial_number = ?`
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
	type due struct {
		id      string
		percent int
	}
	var dues []due
	err := as.s.eachRow(ctx, repurchaseAutomations, []any{programID}, func(rows *sql.Rows) error {
		var d due
		err := rows.Scan(&d.id, &d.percent)
		dues = append(dues, d)
		return err
	})
	if err != nil {
		return 0, err
	}
	if !since.IsZero() {
		since = since.Add(-watchMargin)
	}
	after, afterSerial := since.UTC(), ""
	looked := 0
	for {
		page, err := as.changedCards(ctx, programID, after, afterSerial)
		if err != nil || len(page) == 0 {
			if err == nil {
				err = as.finishWatch(ctx, programID, now)
			}
			return looked, err
		}
		looked += len(page)
		last := page[len(page)-1]
		after, afterSerial = last.updated, last.serial
		if err := as.watchPage(ctx, programID, page, programGap, func(tx *writeTx, c watchedCard, r loyalty.Rhythm) error {
			for _, d := range dues {
				if c.lastPurchase == nil || r.Last.IsZero() {
					continue
				}
				if _, err := tx.ExecContext(ctx, upsertDue, d.id, c.serial, c.customer, *c.lastPurchase,
					r.DueAt(d.percent).UTC()); err != nil {
					return fmt.Errorf("due date: %w", err)
				}
			}
			return nil
		}); err != nil {
			return looked, err
		}
	}
}

// watchedCard is what the watcher reads of a changed card.
type watchedCard struct {
	serial, customer, tier string
	lastPurchase           *time.Time
	updated                time.Time
}

func (as *AutomationStore) changedCards(ctx context.Context, programID string, after time.Time, afterSerial string) ([]watchedCard, error) {
	var page []watchedCard
	err := as.s.eachRow(ctx, changedCards, []any{programID, after, after, afterSerial, watchPage}, func(rows *sql.Rows) error {
		var c watchedCard
		err := rows.Scan(&c.serial, &c.customer, &c.tier, &c.lastPurchase, &c.updated)
		c.updated = c.updated.UTC()
		page = append(page, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("changed cards of %s: %w", programID, err)
	}
	return page, nil
}

// watchPage re-estimates the rhythms of a page of cards, records their
// tier changes, and lets dues write each card's due dates, in one
// transaction.
func (as *AutomationStore) watchPage(ctx context.Context, programID string, page []watchedCard, programGap time.Duration,
	dues func(*writeTx, watchedCard, loyalty.Rhythm) error) error {
	serials := make([]string, len(page))
	for i, c := range page {
		serials[i] = c.serial
	}
	in, args := "(?"+strings.Repeat(",?", len(serials)-1)+")", make([]any, len(serials))
	for i, v := range serials {
		args[i] = v
	}
	earns := map[string][]time.Time{}
	err := as.s.eachRow(ctx, earnTimesPrefix+in, args, func(rows *sql.Rows) error {
		var serial string
		var at time.Time
		err := rows.Scan(&serial, &at)
		earns[serial] = append(earns[serial], at)
		return err
	})
	if err != nil {
		return fmt.Errorf("purchase times: %w", err)
	}
	known := map[string]string{}
	err = as.s.eachRow(ctx, knownTiersPrefix+in, args, func(rows *sql.Rows) error {
		var serial, tier string
		err := rows.Scan(&serial, &tier)
		known[serial] = tier
		return err
	})
	if err != nil {
		return fmt.Errorf("known tiers: %w", err)
	}
	return as.s.inTx(ctx, func(tx *writeTx) error {
		now := as.s.nowUTC()
		for _, c := range page {
			r := loyalty.EstimateRhythm(earns[c.serial], programGap)
			var last any
			if !r.Last.IsZero() {
				last = r.Last.UTC()
			}
			if _, err := tx.ExecContext(ctx, upsertRhythm, c.serial, programID, c.customer, c.tier, r.Purchases,
				int64(r.Gap/time.Second), r.Own, last, now); err != nil {
				return fmt.Errorf("rhythm: %w", err)
			}
			if was, ok := known[c.serial]; ok && was != c.tier {
				if _, err := tx.ExecContext(ctx, insertTierChange, c.serial, programID, c.customer, was, c.tier, c.updated); err != nil {
					return fmt.Errorf("tier change: %w", err)
				}
			}
			if err := dues(tx, c, r); err != nil {
				return err
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
