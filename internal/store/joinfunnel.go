package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// JoinFunnelStore counts the join page's funnel for the console's
// dashboard: visits to the page, codes texted, codes entered right, and
// the cards of those who joined that went into a wallet. Reach it with
// Store.JoinFunnel. Steps are counted by the merchant's calendar day, in
// the zone set at the time (join_steps keeps counts, not times, so rows
// written before the zone changed, or before this rule, when days were
// UTC's, stay as they were cut).
type JoinFunnelStore struct{ s *Store }

// JoinFunnel returns the join funnel's store.
func (s *Store) JoinFunnel() *JoinFunnelStore { return &JoinFunnelStore{s} }

// JoinFunnelCounts are the steps of a program's join funnel.
type JoinFunnelCounts struct{ Views, CodesSent, Verified, Installed int64 }

// The counted steps of the join funnel.
const (
	JoinStepView     = "view"     // the join page was shown
	JoinStepCode     = "code"     // a code was texted
	JoinStepVerified = "verified" // a code was entered right: the customer joined
)

const (
	// joinStepProgram is the program of a join code and the time zone its
	// merchant's days are cut in.
	joinStepProgram = `SELECT p.id, COALESCE(s.timezone, ?) FROM programs p
		LEFT JOIN console_settings s ON s.merchant_id = p.merchant_id WHERE p.join_code = ?`
	countJoinStep = `INSERT INTO join_steps (program_id, day, step, count) VALUES (?, ?, ?, 1)
		ON CONFLICT (program_id, step, day) DO UPDATE SET count = join_steps.count + 1`
	selectJoinFunnel = `SELECT
		(SELECT COALESCE(SUM(count), 0) FROM join_steps WHERE program_id = p.id AND step = ? AND day >= ?),
		(SELECT COALESCE(SUM(count), 0) FROM join_steps WHERE program_id = p.id AND step = ? AND day >= ?),
		(SELECT COALESCE(SUM(count), 0) FROM join_steps WHERE program_id = p.id AND step = ? AND day >= ?),
		(SELECT COUNT(DISTINCT c.serial_number) FROM consents k
			JOIN cards c ON c.customer_id = k.customer_id AND c.program_id = p.id
			WHERE k.merchant_id = p.merchant_id AND k.source = ? AND k.channel = ? AND k.created_at >= ?
			AND EXISTS (SELECT 1 FROM registrations r WHERE r.serial_number = c.serial_number))
		FROM programs p WHERE p.id = ? AND p.merchant_id = ?`
)

// CountJoinStep counts one step (JoinStepView, JoinStepCode,
// JoinStepVerified) of the join page of joinCode, on today's date in the
// merchant's time zone (the dashboard's days); an unknown code counts
// nothing.
func (j *JoinFunnelStore) CountJoinStep(ctx context.Context, joinCode, step string) error {
	var programID, zone string
	err := j.s.read.QueryRowContext(ctx, joinStepProgram, DefaultTimezone, joinCode).Scan(&programID, &zone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load join code's program: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("merchant time zone %q: %w", zone, err)
	}
	day := j.s.nowUTC().In(loc).Format(time.DateOnly)
	if _, err := j.s.write.ExecContext(ctx, countJoinStep, programID, day, step); err != nil {
		return fmt.Errorf("count join %s: %w", step, err)
	}
	return nil
}

// Funnel counts a merchant's program's join funnel from the day of from
// on, from given in the merchant's time zone (the dashboard's first
// midnight), whose days the steps are counted by: visits, codes texted,
// codes entered right, and the cards of customers who agreed on the join
// page since from that were installed (in any wallet). Another merchant's
// program is ErrNotFound.
func (j *JoinFunnelStore) Funnel(ctx context.Context, merchantID, programID string, from time.Time) (JoinFunnelCounts, error) {
	var f JoinFunnelCounts
	day := from.Format(time.DateOnly)
	from = from.UTC()
	err := j.s.read.QueryRowContext(ctx, selectJoinFunnel, JoinStepView, day, JoinStepCode, day, JoinStepVerified, day,
		loyalty.SourceJoinPage, loyalty.ConsentPersonalData, from, programID, merchantID).
		Scan(&f.Views, &f.CodesSent, &f.Verified, &f.Installed)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("join funnel: %w", err)
	}
	return f, nil
}
