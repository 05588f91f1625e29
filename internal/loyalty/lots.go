package loyalty

import (
	"cmp"
	"slices"
	"time"
)

// Lot is what is left of a positive ledger line: points later debits draw
// on, first in first out.
type Lot struct {
	ID        string
	Remaining int64
	ExpiresAt *time.Time // nil: the points never expire
	Seq       int64      // the line's place in the card's ledger
}

// LotUse is how much a debit takes from one lot.
type LotUse struct {
	ID     string
	Points int64
}

// OrderLots returns lots in the order debits use them: the lot with id
// first (a refund takes back its own purchase's points before others),
// then the soonest to expire, then the points that never expire; lots
// that expire together go oldest first.
func OrderLots(lots []Lot, first string) []Lot {
	out := slices.Clone(lots)
	slices.SortStableFunc(out, func(a, b Lot) int {
		if c := compareBool(a.ID != first, b.ID != first); c != 0 {
			return c
		}
		if c := compareBool(a.ExpiresAt == nil, b.ExpiresAt == nil); c != 0 {
			return c
		}
		if a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt) {
			return a.ExpiresAt.Compare(*b.ExpiresAt)
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Consume takes points from lots in the order given (see OrderLots) and
// returns what it took from each. It takes at most the lots' total.
func Consume(lots []Lot, points int64) []LotUse {
	var uses []LotUse
	for _, l := range lots {
		if points <= 0 {
			break
		}
		take := min(l.Remaining, points)
		if take > 0 {
			uses = append(uses, LotUse{ID: l.ID, Points: take})
			points -= take
		}
	}
	return uses
}
