package store

import (
	"context"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The program kinds' own settings (migration 0012), each a column; kind
// comes first and is written once, at creation.
const (
	programKindColumns = `kind, stamps_required, reward, stamp_min_purchase, discount_percent, offer, valid_days,
	valid_until, currency, point_value`
	programKindValues = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	programKindUpdate = `stamps_required = ?, reward = ?, stamp_min_purchase = ?, discount_percent = ?, offer = ?,
		valid_days = ?, valid_until = ?, currency = ?, point_value = ?`
)

// programKindArgs are the values of the kind's settings after kind, in
// the order of programKindUpdate.
func programKindArgs(p *loyalty.Program) []any {
	return []any{p.StampsRequired, p.Reward, p.StampMinPurchase, p.DiscountPercent, p.Offer, p.ValidDays,
		p.ValidUntil, p.Currency, p.PointValue}
}

// programKindDests are where the kind's settings after kind scan to.
func programKindDests(p *loyalty.Program) []any {
	return []any{&p.StampsRequired, &p.Reward, &p.StampMinPurchase, &p.DiscountPercent, &p.Offer, &p.ValidDays,
		&p.ValidUntil, &p.Currency, &p.PointValue}
}

// ProgramByID returns the program with the given id, whoever owns it, or
// ErrNotFound. Only what a program shows in public may be served from it.
func (pg *ProgramStore) ProgramByID(ctx context.Context, id string) (loyalty.Program, error) {
	return scanProgram(pg.s.read.QueryRowContext(ctx, selectProgramByID, id))
}
