package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// DashboardStore counts what the console's dashboard plots: cards issued
// and voided, installs and removals by channel, points issued, redeemed
// and expired, and each join cohort's purchases. Reach it with
// Store.Dashboard.
//
// Counting every card and ledger line on each view would not stay fast
// as a program grows, so the figures of days that have ended are rolled
// up once into dashboard_days (a program's first view rolls up its whole
// history, a month per transaction) and a view reads those rows plus what
// happened since, counted live from time indexes.
type DashboardStore struct{ s *Store }

// Dashboard returns the dashboard's store.
func (s *Store) Dashboard() *DashboardStore { return &DashboardStore{s} }

// The figures a day, or a join cohort's month, holds.
const (
	metricCardsIssued    = "cards_issued"
	metricCardsVoided    = "cards_voided"
	metricPointsIssued   = "points_issued"
	metricPointsRedeemed = "points_redeemed"
	metricPointsExpired  = "points_expired"
	metricPointsOther    = "points_other"
	metricInstall        = "install:"   // + channel
	metricUninstall      = "uninstall:" // + channel
	metricCohortCards    = "c_cards"
	metricCohortRevenue  = "c_revenue"
	metricCohortBuys     = "c_purchases"
	metricCohortRepeat   = "c_repeat"
)

// rollupGrace is how long after midnight (UTC) a day is left to be
// counted live: a ledger line is stamped before its transaction commits,
// so the last lines of a day may land a moment after it ended.
const rollupGrace = 10 * time.Minute

// rollupChunk is the most days one roll-up transaction adds, so a
// program's first roll-up holds the writer for short spells only.
const rollupChunk = 31

// DayFigures are what happened on one day (or, summed, on several).
type DayFigures struct {
	CardsIssued, CardsVoided int64
	// Points counts in the program's unit: issued is every line that
	// added, redeemed and expired are those lines' kinds, other the
	// remaining lines that took away (refunds, corrections).
	PointsIssued, PointsRedeemed, PointsExpired, PointsOther int64
	// Installs and Uninstalls count wallet registrations made and ended,
	// by channel (apple, google, walletpasses, …).
	Installs, Uninstalls map[string]int64
}

// Net is the change of the outstanding points that day: what the
// ledger added less what it took away.
func (d DayFigures) Net() int64 {
	return d.PointsIssued - d.PointsRedeemed - d.PointsExpired - d.PointsOther
}

func (d *DayFigures) add(metric string, v int64) {
	switch metric {
	case metricCardsIssued:
		d.CardsIssued += v
	case metricCardsVoided:
		d.CardsVoided += v
	case metricPointsIssued:
		d.PointsIssued += v
	case metricPointsRedeemed:
		d.PointsRedeemed += v
	case metricPointsExpired:
		d.PointsExpired += v
	case metricPointsOther:
		d.PointsOther += v
	default:
		if ch, ok := strings.CutPrefix(metric, metricInstall); ok {
			if d.Installs == nil {
				d.Installs = map[string]int64{}
			}
			d.Installs[ch] += v
		} else if ch, ok := strings.CutPrefix(metric, metricUninstall); ok {
			if d.Uninstalls == nil {
				d.Uninstalls = map[string]int64{}
			}
			d.Uninstalls[ch] += v
		}
	}
}

// Cohort is the customers whose cards were issued in one month, and
// what they bought in each month since.
type Cohort struct {
	Month time.Time // the first day of the month the cards were issued
	Cards int64
	// Months are the cohort's purchases by calendar month, oldest first,
	// from the cohort's own month on; months without any are absent.
	Months []CohortMonth
}

// CohortMonth is a cohort's purchases in one month.
type CohortMonth struct {
	Month time.Time
	// Revenue is the purchase amounts, net of refunds, in minor units.
	Revenue   int64
	Purchases int64
	// Repeat counts the cards whose second purchase fell in the month.
	Repeat int64
}

// DashboardFigures are a program's figures.
type DashboardFigures struct {
	// Days maps each day from the asked start on ('YYYY-MM-DD' in its zone) to
	// its figures; days when nothing happened are absent.
	Days map[string]DayFigures
	// Before sums every day before the start: the opening of the running
	// totals (cards, installs, outstanding points).
	Before DayFigures
	// Cohorts lists the join cohorts, oldest first.
	Cohorts []Cohort
	// RolledUp is the first day counted live rather than read from the
	// roll-up.
	RolledUp time.Time
}

// dashSQL holds the dashboard's queries in one dialect.
type dashSQL struct {
	cardsIssued, cohortCards, cardsVoided, points, cohortBuys, installs, uninstalls string
}

var dashQueries sync.Map // dialect name and offset → *dashSQL

// dashboardSQL returns the dashboard's queries cutting days at offset
// seconds from UTC.
func (d dialect) dashboardSQL(offset int) *dashSQL {
	key := fmt.Sprintf("%s%+d", d.name, offset)
	if q, ok := dashQueries.Load(key); ok {
		return q.(*dashSQL)
	}
	day := func(col string) string { return fmt.Sprintf(d.dayOf, col, offset) }
	month := func(col string) string { return fmt.Sprintf(d.monthOf, col, offset) }
	q := &dashSQL{
		cardsIssued: `SELECT ` + day("created_at") + `, '', '` + metricCardsIssued + `', COUNT(*) FROM cards
			WHERE program_id = ? AND created_at >= ? AND created_at < ? GROUP BY 1`,
		cohortCards: `SELECT ` + month("created_at") + `, ` + month("created_at") + `, '` + metricCohortCards + `', COUNT(*)
			FROM cards WHERE program_id = ? AND created_at >= ? AND created_at < ? GROUP BY 1`,
		cardsVoided: `SELECT ` + day("voided_at") + `, '', '` + metricCardsVoided + `', COUNT(*) FROM cards
			WHERE program_id = ? AND voided_at >= ? AND voided_at < ? GROUP BY 1`,
		points: `SELECT ` + day("created_at") + `, '', CASE WHEN points > 0 THEN '` + metricPointsIssued + `'
			WHEN kind = 'redeem' THEN '` + metricPointsRedeemed + `' WHEN kind = 'expire' THEN '` + metricPointsExpired + `'
			ELSE '` + metricPointsOther + `' END, SUM(ABS(points)) FROM transactions
			WHERE program_id = ? AND created_at >= ? AND created_at < ? AND points <> 0 GROUP BY 1, 3`,
		// A purchase is a line with a purchase amount; a card's second one
		// makes it a repeat buyer (the earlier ones are found by its seq).
		cohortBuys: `SELECT ` + month("t.created_at") + `, ` + month("c.created_at") + `, SUM(t.purchase_amount),
			SUM(CASE WHEN t.purchase_amount > 0 THEN 1 ELSE 0 END),
			SUM(CASE WHEN t.purchase_amount > 0 AND (SELECT COUNT(*) FROM transactions p
				WHERE p.serial_number = t.serial_number AND p.seq < t.seq AND p.purchase_amount > 0) = 1 THEN 1 ELSE 0 END)
			FROM transactions t JOIN cards c ON c.serial_number = t.serial_number
			WHERE t.program_id = ? AND t.created_at >= ? AND t.created_at < ? AND t.purchase_amount <> 0 GROUP BY 1, 2`,
		installs: `SELECT ` + day("r.created_at") + `, '', '` + metricInstall + `' || r.channel, COUNT(*)
			FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
			WHERE c.program_id = ? AND r.created_at >= ? AND r.created_at < ? GROUP BY 1, 3`,
		uninstalls: `SELECT ` + day("r.unregistered_at") + `, '', '` + metricUninstall + `' || r.channel, COUNT(*)
			FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
			WHERE c.program_id = ? AND r.unregistered_at >= ? AND r.unregistered_at < ? GROUP BY 1, 3`,
	}
	dashQueries.Store(key, q)
	return q
}

const (
	selectDashProgram = `SELECT created_at FROM programs WHERE id = ? AND merchant_id = ?`
	selectFirstCard   = `SELECT MIN(created_at) FROM cards WHERE program_id = ?`
	selectRollup      = `SELECT through FROM dashboard_rollups WHERE program_id = ?`
	selectRollupZone  = `SELECT through, zone FROM dashboard_rollups WHERE program_id = ?`
	insertRollup      = `INSERT INTO dashboard_rollups (program_id, through, zone) VALUES (?, ?, ?)
		ON CONFLICT (program_id) DO NOTHING`
	deleteRolledDays = `DELETE FROM dashboard_days WHERE program_id = ?`
	deleteRollup     = `DELETE FROM dashboard_rollups WHERE program_id = ? AND zone <> ?`
	updateRollup     = `UPDATE dashboard_rollups SET through = ? WHERE program_id = ?`
	addFigure        = `INSERT INTO dashboard_days (program_id, day, cohort, metric, value) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (program_id, cohort, day, metric) DO UPDATE SET value = dashboard_days.value + excluded.value`
	selectDays = `SELECT day, metric, value FROM dashboard_days WHERE program_id = ? AND cohort = '' AND day >= ?`
	sumBefore  = `SELECT metric, SUM(value) FROM dashboard_days WHERE program_id = ? AND cohort = '' AND day < ?
		GROUP BY metric`
	selectCohorts = `SELECT day, cohort, metric, value FROM dashboard_days WHERE program_id = ? AND cohort <> ''`
)

// figure is one counted figure: a day's (cohort "") or a cohort's month's.
type figure struct {
	day, cohort, metric string
	value               int64
}

// Figures returns the figures of a merchant's program: each day from
// from on, the sums of the days before, and the join cohorts. Days and
// months are cut at midnight in from's location, the merchant's time
// zone (from is a midnight there). It rolls up the days that ended since
// the last call first; a roll-up cut in another zone is done again. A
// program of another merchant is ErrNotFound.
func (ds *DashboardStore) Figures(ctx context.Context, merchantID, programID string, from time.Time) (DashboardFigures, error) {
	var created any
	err := ds.s.read.QueryRowContext(ctx, selectDashProgram, programID, merchantID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return DashboardFigures{}, ErrNotFound
	}
	if err != nil {
		return DashboardFigures{}, fmt.Errorf("dashboard program: %w", err)
	}
	createdAt, err := dbTime(created)
	if err != nil {
		return DashboardFigures{}, err
	}
	loc := from.Location()
	through, err := ds.rollUp(ctx, programID, createdAt, loc)
	if err != nil {
		return DashboardFigures{}, err
	}
	// Whatever happened since the roll-up, even stamped ahead of the clock.
	live, err := ds.count(ctx, programID, through, through.AddDate(100, 0, 0), loc)
	if err != nil {
		return DashboardFigures{}, err
	}
	out := DashboardFigures{Days: map[string]DayFigures{}, RolledUp: through}
	fromDay := from.Format(time.DateOnly)
	if err := ds.readRolled(ctx, programID, fromDay, &out); err != nil {
		return DashboardFigures{}, err
	}
	cohorts := map[string]*Cohort{}
	months := map[[2]string]*CohortMonth{}
	addCohort := func(f figure) error {
		c, ok := cohorts[f.cohort]
		if !ok {
			m, err := time.Parse("2006-01", f.cohort)
			if err != nil {
				return fmt.Errorf("dashboard cohort %q: %w", f.cohort, err)
			}
			c = &Cohort{Month: m}
			cohorts[f.cohort] = c
		}
		if f.metric == metricCohortCards {
			c.Cards += f.value
			return nil
		}
		cm, ok := months[[2]string{f.cohort, f.day}]
		if !ok {
			m, err := time.Parse("2006-01", f.day)
			if err != nil {
				return fmt.Errorf("dashboard cohort month %q: %w", f.day, err)
			}
			cm = &CohortMonth{Month: m}
			months[[2]string{f.cohort, f.day}] = cm
		}
		switch f.metric {
		case metricCohortRevenue:
			cm.Revenue += f.value
		case metricCohortBuys:
			cm.Purchases += f.value
		case metricCohortRepeat:
			cm.Repeat += f.value
		}
		return nil
	}
	stored, err := ds.cohortFigures(ctx, programID)
	if err != nil {
		return DashboardFigures{}, err
	}
	for _, f := range append(stored, live...) {
		switch {
		case f.cohort != "":
			if err := addCohort(f); err != nil {
				return DashboardFigures{}, err
			}
		case f.day < fromDay:
			out.Before.add(f.metric, f.value)
		default:
			d := out.Days[f.day]
			d.add(f.metric, f.value)
			out.Days[f.day] = d
		}
	}
	for key, cm := range months {
		c := cohorts[key[0]]
		c.Months = append(c.Months, *cm)
	}
	for _, c := range cohorts {
		sort.Slice(c.Months, func(i, j int) bool { return c.Months[i].Month.Before(c.Months[j].Month) })
		out.Cohorts = append(out.Cohorts, *c)
	}
	sort.Slice(out.Cohorts, func(i, j int) bool { return out.Cohorts[i].Month.Before(out.Cohorts[j].Month) })
	return out, nil
}

// readRolled adds the rolled-up day figures: from fromDay on by day, and
// the days before summed.
func (ds *DashboardStore) readRolled(ctx context.Context, programID, fromDay string, out *DashboardFigures) error {
	rows, err := ds.s.read.QueryContext(ctx, selectDays, programID, fromDay)
	if err != nil {
		return fmt.Errorf("dashboard days: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, metric string
		var v int64
		if err := rows.Scan(&day, &metric, &v); err != nil {
			return fmt.Errorf("dashboard days: %w", err)
		}
		d := out.Days[day]
		d.add(metric, v)
		out.Days[day] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard days: %w", err)
	}
	sums, err := ds.s.read.QueryContext(ctx, sumBefore, programID, fromDay)
	if err != nil {
		return fmt.Errorf("dashboard totals: %w", err)
	}
	defer sums.Close()
	for sums.Next() {
		var metric string
		var v int64
		if err := sums.Scan(&metric, &v); err != nil {
			return fmt.Errorf("dashboard totals: %w", err)
		}
		out.Before.add(metric, v)
	}
	return sums.Err()
}

func (ds *DashboardStore) cohortFigures(ctx context.Context, programID string) ([]figure, error) {
	rows, err := ds.s.read.QueryContext(ctx, selectCohorts, programID)
	if err != nil {
		return nil, fmt.Errorf("dashboard cohorts: %w", err)
	}
	defer rows.Close()
	var out []figure
	for rows.Next() {
		var f figure
		if err := rows.Scan(&f.day, &f.cohort, &f.metric, &f.value); err != nil {
			return nil, fmt.Errorf("dashboard cohorts: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// errRolledElsewhere: another process rolled up the same days first.
var errRolledElsewhere = errors.New("dashboard days rolled up elsewhere")

// rollUp rolls up the program's days in loc that ended (rollupGrace
// ago) and returns the first day it has not: the start of the live count.
func (ds *DashboardStore) rollUp(ctx context.Context, programID string, programCreated time.Time, loc *time.Location) (time.Time, error) {
	cutoff := dayStart(ds.s.nowUTC().Add(-rollupGrace), loc)
	start, known, err := ds.watermark(ctx, programID, loc)
	if err != nil {
		return time.Time{}, err
	}
	if !known {
		start = dayStart(programCreated, loc)
		var first any
		if err := ds.s.read.QueryRowContext(ctx, selectFirstCard, programID).Scan(&first); err != nil {
			return time.Time{}, fmt.Errorf("dashboard first card: %w", err)
		}
		if t, err := dbTime(first); err != nil {
			return time.Time{}, err
		} else if !t.IsZero() && t.Before(start) {
			start = dayStart(t, loc)
		}
	}
	for start.Before(cutoff) {
		end := start.AddDate(0, 0, rollupChunk)
		if end.After(cutoff) {
			end = cutoff
		}
		// Counted on the read side, so the writer is held only to add.
		figures, err := ds.count(ctx, programID, start, end, loc)
		if err != nil {
			return time.Time{}, err
		}
		err = ds.s.inTx(ctx, func(tx *writeTx) error {
			if _, err := tx.ExecContext(ctx, insertRollup, programID, start.Format(time.DateOnly), loc.String()); err != nil {
				return fmt.Errorf("dashboard roll-up mark: %w", err)
			}
			var at string
			if err := tx.QueryRowContext(ctx, selectRollup+ds.s.dialect.forUpdate, programID).Scan(&at); err != nil {
				return fmt.Errorf("dashboard roll-up mark: %w", err)
			}
			if at != start.Format(time.DateOnly) {
				return errRolledElsewhere
			}
			for _, f := range figures {
				if _, err := tx.ExecContext(ctx, addFigure, programID, f.day, f.cohort, f.metric, f.value); err != nil {
					return fmt.Errorf("dashboard roll-up: %w", err)
				}
			}
			_, err := tx.ExecContext(ctx, updateRollup, end.Format(time.DateOnly), programID)
			return err
		})
		if errors.Is(err, errRolledElsewhere) {
			if start, _, err = ds.watermark(ctx, programID, loc); err != nil {
				return time.Time{}, err
			}
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		start = end
	}
	return start, nil
}

// watermark is the first day in loc of the program not rolled up yet;
// known is false before the first roll-up. A roll-up cut in another zone
// is thrown away first, so it is done again in loc.
func (ds *DashboardStore) watermark(ctx context.Context, programID string, loc *time.Location) (time.Time, bool, error) {
	var at, zone string
	err := ds.s.read.QueryRowContext(ctx, selectRollupZone, programID).Scan(&at, &zone)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("dashboard roll-up mark: %w", err)
	}
	if zone != loc.String() {
		err := ds.s.inTx(ctx, func(tx *writeTx) error {
			res, err := tx.ExecContext(ctx, deleteRollup, programID, loc.String())
			if err != nil {
				return fmt.Errorf("dashboard roll-up reset: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // another process reset it already
			}
			if _, err := tx.ExecContext(ctx, deleteRolledDays, programID); err != nil {
				return fmt.Errorf("dashboard roll-up reset: %w", err)
			}
			return nil
		})
		if err != nil {
			return time.Time{}, false, err
		}
		return ds.watermark(ctx, programID, loc)
	}
	t, err := time.ParseInLocation(time.DateOnly, at, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("dashboard roll-up mark %q: %w", at, err)
	}
	return t, true, nil
}

// count counts the program's figures stamped in [from, to), by day and
// month in loc: one count per span of loc's offset from UTC (a summer
// time change splits a span), the last span running to to.
func (ds *DashboardStore) count(ctx context.Context, programID string, from, to time.Time, loc *time.Location) ([]figure, error) {
	var out []figure
	horizon := ds.s.nowUTC().AddDate(0, 0, 2)
	for t := from; t.Before(to); {
		_, offset := t.In(loc).Zone()
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || end.After(to) || !t.Before(horizon) {
			end = to
		}
		fs, err := ds.countAt(ctx, programID, t, end, offset)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
		t = end
	}
	return out, nil
}

// countAt counts the program's figures stamped in [from, to), by day and
// month offset seconds from UTC.
func (ds *DashboardStore) countAt(ctx context.Context, programID string, from, to time.Time, offset int) ([]figure, error) {
	q := ds.s.dialect.dashboardSQL(offset)
	var out []figure
	for _, query := range []string{q.cardsIssued, q.cohortCards, q.cardsVoided, q.points, q.installs, q.uninstalls} {
		rows, err := ds.s.read.QueryContext(ctx, query, programID, from, to)
		if err != nil {
			return nil, fmt.Errorf("dashboard count: %w", err)
		}
		for rows.Next() {
			var f figure
			if err := rows.Scan(&f.day, &f.cohort, &f.metric, &f.value); err != nil {
				rows.Close()
				return nil, fmt.Errorf("dashboard count: %w", err)
			}
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("dashboard count: %w", err)
		}
	}
	rows, err := ds.s.read.QueryContext(ctx, q.cohortBuys, programID, from, to)
	if err != nil {
		return nil, fmt.Errorf("dashboard cohorts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var month, cohort string
		var revenue, buys, repeat int64
		if err := rows.Scan(&month, &cohort, &revenue, &buys, &repeat); err != nil {
			return nil, fmt.Errorf("dashboard cohorts: %w", err)
		}
		out = append(out, figure{month, cohort, metricCohortRevenue, revenue}, figure{month, cohort, metricCohortBuys, buys},
			figure{month, cohort, metricCohortRepeat, repeat})
	}
	return out, rows.Err()
}

// dayStart is the start of t's day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}
