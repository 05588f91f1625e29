package loyalty

import "time"

// Program kinds: the set of posting rules a program follows. Only points
// programs exist so far; stamps, coupons and the others will join here.
const KindPoints = "points"

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
	// PointsLifetimeDays > 0 makes earned points expire, first in first out.
	Tiers              []Tier
	TierBasis          string
	TierDowngrade      bool
	PointsLifetimeDays int
	// JoinCode names the program's join page, /j/{code}; Join is what
	// the page asks and Referral what bringing a friend pays.
	JoinCode  string
	Join      JoinSettings
	Referral  ReferralTerms
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// CustomImages lists the image kinds ("logo", …) the merchant uploaded.
	CustomImages []string
}

// Rules are the program's point rules.
func (p Program) Rules() Rules {
	return Rules{EarnRateBP: p.EarnRateBP, Tiers: p.Tiers, TierBasis: p.TierBasis,
		Downgrade: p.TierDowngrade, Lifetime: time.Duration(p.PointsLifetimeDays) * 24 * time.Hour}
}

// ValidateKind checks a program kind: only KindPoints for now.
func ValidateKind(kind string) error {
	if kind != "" && kind != KindPoints {
		return fieldErrorf("kind", "kind must be %q", KindPoints)
	}
	return nil
}

// WelcomeBonus is the posting that credits a new card the program's
// welcome bonus, and false when there is none to credit: the program
// offers none, or the customer had it before (once per customer and
// program, not again after a void and a new card).
func WelcomeBonus(p Program, hadBefore bool) (Posting, bool) {
	if p.WelcomeBonus <= 0 || hadBefore {
		return Posting{}, false
	}
	return Posting{Kind: Welcome, Points: p.WelcomeBonus, Reason: "welcome bonus"}, true
}
