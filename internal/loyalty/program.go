package loyalty

import "time"

// Program kinds: the set of rules a program's cards follow.
const (
	// KindPoints earns points on purchases and spends them (the default).
	KindPoints = "points"
	// KindStamps counts stamps towards a goal that turns into a reward.
	KindStamps = "stamps"
	// KindDiscount gives a fixed discount that grows with spend.
	KindDiscount = "discount"
	// KindCoupon makes each card one offer, redeemable once until a date.
	KindCoupon = "coupon"
	// KindGift is a stored-value certificate in minor units of a currency.
	KindGift = "gift"
)

// Kinds lists every program kind, the default first.
var Kinds = []string{KindPoints, KindStamps, KindDiscount, KindCoupon, KindGift}

// Program is a merchant's loyalty program: its rules and its card's look.
type Program struct {
	ID         string
	MerchantID string
	// Kind is the program's kind; empty reads as KindPoints.
	Kind            string
	Name            string
	CurrencyLabel   string
	EarnRateBP      int
	WelcomeBonus    int64
	Terms           string
	BarcodeFormat   string
	Locale          string
	BackgroundColor string
	ForegroundColor string
	LabelColor      string
	LogoText        string
	// Tiers, TierBasis and TierDowngrade define the program's levels;
	// PointsLifetimeDays > 0 makes earned points (a stamps program's
	// stamps, a gift program's loads) expire, first in first out.
	Tiers              []Tier
	TierBasis          string
	TierDowngrade      bool
	PointsLifetimeDays int
	// JoinCode names the program's join page, /j/{code}; Join is what
	// the page asks and Referral what bringing a friend pays.
	JoinCode string
	Join     JoinSettings
	Referral ReferralTerms

	// StampsRequired is a stamps program's goal (2–20 stamps make one
	// Reward); StampMinPurchase > 0 is the purchase, in minor units, each
	// stamp needs.
	StampsRequired   int
	Reward           string
	StampMinPurchase int64
	// DiscountPercent is a discount program's discount before any tier
	// sets its own.
	DiscountPercent int
	// Offer is a coupon's text; a coupon is valid ValidDays from its issue
	// or, when ValidUntil is set, until then.
	Offer      string
	ValidDays  int
	ValidUntil *time.Time
	// Currency (ISO 4217) is what a gift card's balance and a points
	// program's liability are counted in; PointValue is what one point is
	// worth in its minor units.
	Currency   string
	PointValue int64

	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// CustomImages lists the image kinds ("logo", …) the merchant uploaded.
	CustomImages []string
}

// KindOf is the program's kind, KindPoints when unset.
func (p Program) KindOf() string {
	if p.Kind == "" {
		return KindPoints
	}
	return p.Kind
}

// Rules are the program's point rules.
func (p Program) Rules() Rules {
	return Rules{EarnRateBP: p.EarnRateBP, Tiers: p.Tiers, TierBasis: p.TierBasis,
		Downgrade: p.TierDowngrade, Lifetime: time.Duration(p.PointsLifetimeDays) * 24 * time.Hour}
}

// ValidateKind checks a program kind: one of Kinds (empty is points).
func ValidateKind(kind string) error {
	if kind == "" {
		return nil
	}
	for _, k := range Kinds {
		if k == kind {
			return nil
		}
	}
	return fieldErrorf("kind", "kind must be one of points, stamps, discount, coupon, gift")
}

// WelcomeBonus is the posting that credits a new card the program's
// welcome bonus, and false when there is none to credit: the program
// offers none, or the customer had it before (once per customer and
// program, not again after a void and a new card).
func WelcomeBonus(p Program, hadBefore bool) (Posting, bool) {
	if p.WelcomeBonus <= 0 || hadBefore || p.KindOf() != KindPoints {
		return Posting{}, false
	}
	return Posting{Kind: Welcome, Points: p.WelcomeBonus, Reason: "welcome bonus"}, true
}
