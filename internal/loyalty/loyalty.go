// Package loyalty holds the rules that turn purchases into points: earn
// rates, tiers, refunds and the first-in-first-out use of point lots. It is
// pure arithmetic; the store applies it inside a database transaction.
package loyalty

import (
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"
)

// Transaction kinds.
const (
	Earn    = "earn"
	Redeem  = "redeem"
	Adjust  = "adjust"
	Welcome = "welcome"
	Expire  = "expire"
	Refund  = "refund"
)

// Tier bases: what a tier threshold is compared with.
const (
	BasisPoints = "points" // lifetime points earned by purchases (net of refunds)
	BasisSpend  = "spend"  // lifetime purchase amount in minor units (net of refunds)
)

// BaseTier is the tier of a program that defines none.
const BaseTier = "base"

// Tier is a level of a program: reaching Threshold (in the program's
// basis) moves a card to it, and its earn rate replaces the program's.
type Tier struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Threshold  int64  `json:"threshold"`
	EarnRateBP int    `json:"earn_rate_bp"`
}

// Rules are the parts of a program that decide points.
type Rules struct {
	EarnRateBP int
	Tiers      []Tier // ascending thresholds, the first at 0; empty means one base tier
	TierBasis  string
	Downgrade  bool          // a card may fall to a lower tier when its totals drop
	Lifetime   time.Duration // how long earned points live; 0 means forever
}

// minorPerUnit: purchase amounts are in minor units (kopecks, cents), and
// a point is worth one major unit.
const minorPerUnit = 100

// EarnPoints is what a purchase of amount minor units earns at tier:
// floor(amount × rate / 10,000 / 100). Rounding is always down, so a
// customer never gets a point for less than a whole point's worth of
// purchase; 1,250.00 ₽ at 5 % (500 bp) earns 62 points, not 62.5.
func (r Rules) EarnPoints(amount int64, tier string) int64 {
	if amount <= 0 {
		return 0
	}
	return mulDiv(amount, int64(r.rateFor(tier)), 10000*minorPerUnit)
}

func (r Rules) rateFor(tier string) int {
	for _, t := range r.Tiers {
		if t.Code == tier {
			return t.EarnRateBP
		}
	}
	return r.EarnRateBP
}

// TierFor returns the tier a card should hold, given its current tier and
// its lifetime totals: the highest tier whose threshold is reached, but
// never lower than current unless the program allows downgrades.
func (r Rules) TierFor(current string, lifetimePoints, lifetimeSpend int64) string {
	if len(r.Tiers) == 0 {
		return BaseTier
	}
	metric := lifetimePoints
	if r.TierBasis == BasisSpend {
		metric = lifetimeSpend
	}
	target, targetIdx, currentIdx := r.Tiers[0].Code, 0, -1
	for i, t := range r.Tiers {
		if metric >= t.Threshold {
			target, targetIdx = t.Code, i
		}
		if t.Code == current {
			currentIdx = i
		}
	}
	if currentIdx > targetIdx && !r.Downgrade {
		return current
	}
	return target
}

// TierName returns the display name of a tier code.
func (r Rules) TierName(code string) string {
	for _, t := range r.Tiers {
		if t.Code == code {
			return t.Name
		}
	}
	return ""
}

// RefundPoints is how many of an earn's points a refund reverses. The
// refunds of one purchase together reverse exactly what it earned when the
// whole amount is refunded, and a part in proportion otherwise:
// floor(earned × refunded-after / purchase) − floor(earned × refunded-before / purchase).
func RefundPoints(earned, purchase, refundedBefore, refundNow int64) int64 {
	if purchase <= 0 || earned <= 0 {
		return 0
	}
	return mulDiv(earned, refundedBefore+refundNow, purchase) - mulDiv(earned, refundedBefore, purchase)
}

// mulDiv is floor(a × b / c) without overflow for non-negative inputs.
func mulDiv(a, b, c int64) int64 {
	if hi, lo := a, b; hi < 1<<31 && lo < 1<<31 {
		return a * b / c
	}
	var x big.Int
	x.Mul(big.NewInt(a), big.NewInt(b)).Quo(&x, big.NewInt(c))
	return x.Int64()
}

// ValidateTiers checks a program's tier list and says what is wrong.
func ValidateTiers(tiers []Tier, basis string) error {
	if basis != BasisPoints && basis != BasisSpend {
		return fmt.Errorf("tier_basis must be %q or %q", BasisPoints, BasisSpend)
	}
	if len(tiers) > 10 {
		return errors.New("a program has at most 10 tiers")
	}
	seen := map[string]bool{}
	for i, t := range tiers {
		switch {
		case t.Code == "" || len(t.Code) > 32:
			return fmt.Errorf("tiers[%d].code must be 1 to 32 characters", i)
		case seen[t.Code]:
			return fmt.Errorf("tiers[%d].code %q is used twice", i, t.Code)
		case t.Name == "" || utf8.RuneCountInString(t.Name) > 30:
			return fmt.Errorf("tiers[%d].name must be 1 to 30 characters", i)
		case t.EarnRateBP < 0 || t.EarnRateBP > 10000:
			return fmt.Errorf("tiers[%d].earn_rate_bp must be 0 to 10000", i)
		case i == 0 && t.Threshold != 0:
			return errors.New("tiers[0].threshold must be 0: every card starts in the first tier")
		case i > 0 && t.Threshold <= tiers[i-1].Threshold:
			return fmt.Errorf("tiers[%d].threshold must be above tiers[%d].threshold", i, i-1)
		}
		seen[t.Code] = true
	}
	return nil
}

// FirstTier is the tier a new card starts in.
func (r Rules) FirstTier() string {
	if len(r.Tiers) == 0 {
		return BaseTier
	}
	return r.Tiers[0].Code
}

// Lot is what is left of a positive ledger line.
type Lot struct {
	ID        string
	Remaining int64
}

// LotUse is how much a debit takes from one lot.
type LotUse struct {
	ID     string
	Points int64
}

// Consume takes points from lots in the order given (oldest expiry first)
// and returns what it took from each. It takes at most the lots' total.
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
