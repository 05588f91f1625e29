package loyalty

import (
	"math/big"
	"time"
	"unicode/utf8"
)

// Tier bases: what a tier threshold is compared with.
const (
	BasisPoints = "points" // lifetime points earned by purchases (net of refunds)
	BasisSpend  = "spend"  // lifetime purchase amount in minor units (net of refunds)
)

// BaseTier is the tier of a program that defines none.
const BaseTier = "base"

// Tier is a level of a program: reaching Threshold (in the program's
// basis) moves a card to it, and its earn rate replaces the program's. A
// tier whose EarnRateBP is 0 (left out) earns at the program's rate.
type Tier struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Threshold  int64  `json:"threshold"`
	EarnRateBP int    `json:"earn_rate_bp"`
	// DiscountPercent is the discount a card in the tier gets (a discount
	// program's tiers); 0 keeps the program's.
	DiscountPercent int `json:"discount_percent,omitempty"`
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
	return mulDiv(amount, int64(r.EarnRate(tier)), 10000*minorPerUnit)
}

// EarnRate is the earn rate, in basis points, of a card in tier: the
// tier's own rate, or the program's when the tier sets none (0) or the
// program has no such tier: a merchant who adds tiers only to name
// levels keeps earning as before.
func (r Rules) EarnRate(tier string) int {
	for _, t := range r.Tiers {
		if t.Code == tier && t.EarnRateBP > 0 {
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

// ValidateTiers checks a program's tier list and says what is wrong, as a
// *FieldError naming "tier_basis" or "tiers".
func ValidateTiers(tiers []Tier, basis string) error {
	if basis != BasisPoints && basis != BasisSpend {
		return fieldErrorf("tier_basis", "tier_basis must be %q or %q", BasisPoints, BasisSpend)
	}
	if len(tiers) > 10 {
		return fieldErrorf("tiers", "a program has at most 10 tiers")
	}
	seen := map[string]bool{}
	for i, t := range tiers {
		switch {
		case t.Code == "" || utf8.RuneCountInString(t.Code) > 32:
			return fieldErrorf("tiers", "tiers[%d].code must be 1 to 32 characters", i)
		case seen[t.Code]:
			return fieldErrorf("tiers", "tiers[%d].code %q is used twice", i, t.Code)
		case t.Name == "" || utf8.RuneCountInString(t.Name) > 30:
			return fieldErrorf("tiers", "tiers[%d].name must be 1 to 30 characters", i)
		case t.EarnRateBP < 0 || t.EarnRateBP > 10000:
			return fieldErrorf("tiers", "tiers[%d].earn_rate_bp must be 0 to 10000", i)
		case t.DiscountPercent < 0 || t.DiscountPercent > 100:
			return fieldErrorf("tiers", "tiers[%d].discount_percent must be 0 to 100", i)
		case i == 0 && t.Threshold != 0:
			return fieldErrorf("tiers", "tiers[0].threshold must be 0: every card starts in the first tier")
		case i > 0 && t.Threshold <= tiers[i-1].Threshold:
			return fieldErrorf("tiers", "tiers[%d].threshold must be above tiers[%d].threshold", i, i-1)
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
