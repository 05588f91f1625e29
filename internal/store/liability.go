package store

import (
	"context"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// LiabilityStore reads what programs owe their cards' holders.
type LiabilityStore struct{ s *Store }

// Liabilities returns the liability aggregate.
func (s *Store) Liabilities() *LiabilityStore { return &LiabilityStore{s} }

// Outstanding is the sum of a program's active card balances.
type Outstanding struct {
	Program loyalty.Program
	Balance int64 // in the program's unit: points, stamps, minor units
	Cards   int64 // active cards counted
}

// selectOutstanding sums the balances of a program's active cards; a
// voided card's balance went with it.
const selectOutstanding = `SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT), COUNT(*) FROM cards
	WHERE merchant_id = ? AND program_id = ? AND status = 'active'`

// Outstanding sums the balances of the merchant's program's active cards,
// or ErrNotFound when the merchant has no such program.
func (ls *LiabilityStore) Outstanding(ctx context.Context, merchantID, programID string) (Outstanding, error) {
	p, err := ls.s.program(ctx, ls.s.read, merchantID, programID)
	if err != nil {
		return Outstanding{}, err
	}
	o := Outstanding{Program: p}
	if err := ls.s.read.QueryRowContext(ctx, selectOutstanding, merchantID, programID).Scan(&o.Balance, &o.Cards); err != nil {
		return Outstanding{}, fmt.Errorf("sum balances of program %s: %w", programID, err)
	}
	return o, nil
}
