package loyalty

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// transactionKinds are the transactions each program kind takes from a
// merchant; internalKinds those loyalpass posts itself (an expiry goes
// through ExpireLapsed, not Post).
var (
	transactionKinds = map[string][]string{
		KindPoints:   {Earn, Redeem, Adjust, Refund},
		KindStamps:   {Stamp, RedeemReward, Adjust},
		KindDiscount: {Purchase, Refund},
		KindCoupon:   {RedeemCoupon},
		KindGift:     {Load, Spend},
	}
	internalKinds = map[string][]string{
		KindPoints: {Welcome},
		KindCoupon: {Issue},
	}
)

// TransactionKinds lists the transactions a program of kind takes; nil
// for an unknown kind.
func TransactionKinds(kind string) []string {
	return slices.Clone(transactionKinds[kind])
}

// checkTransactionKind refuses a posting its program's kind has no rule
// for: a kind of another program with *KindMismatchError, one no program
// has with ErrUnknownKind.
func checkTransactionKind(programKind, txKind string) error {
	allowed, ok := transactionKinds[programKind]
	if !ok {
		return fmt.Errorf("%w: program kind %q", ErrUnknownKind, programKind)
	}
	if slices.Contains(allowed, txKind) || slices.Contains(internalKinds[programKind], txKind) {
		return nil
	}
	for _, kinds := range transactionKinds {
		if slices.Contains(kinds, txKind) {
			return &KindMismatchError{Program: programKind, Transaction: txKind, Allowed: slices.Clone(allowed)}
		}
	}
	return fmt.Errorf("%w: transaction kind %q", ErrUnknownKind, txKind)
}

// Limits of the kinds' settings.
const (
	MinStamps       = 2
	MaxStamps       = 20
	MaxRewardLen    = 100
	MaxOfferLen     = 60 // Google's OfferClass.title
	MaxValidDays    = 3650
	MaxPointValue   = 1_000_000
	maxMinorAmount  = 1_000_000_000_000
	defaultCurrency = "RUB"
)

// ValidateProgram checks a program's settings against the rules of its
// kind and says what is wrong as a *FieldError naming the API's field:
// each kind's own settings are in range, and settings of other kinds are
// left unset (zero). The texts common to every kind (name, colours,
// locale) are the API's to check.
func ValidateProgram(p Program) error {
	if err := ValidateKind(p.Kind); err != nil {
		return err
	}
	kind := p.KindOf()
	// Settings of one kind only: given on another, they would be ignored
	// without a word.
	only := []struct {
		field string
		kinds []string
		set   bool
	}{
		{"earn_rate_bp", []string{KindPoints}, p.EarnRateBP != 0},
		{"welcome_bonus", []string{KindPoints}, p.WelcomeBonus != 0},
		{"point_value", []string{KindPoints}, p.PointValue != 0},
		{"stamps_required", []string{KindStamps}, p.StampsRequired != 0},
		{"reward", []string{KindStamps}, p.Reward != ""},
		{"stamp_min_purchase", []string{KindStamps}, p.StampMinPurchase != 0},
		{"discount_percent", []string{KindDiscount}, p.DiscountPercent != 0},
		{"offer", []string{KindCoupon}, p.Offer != ""},
		{"valid_days", []string{KindCoupon}, p.ValidDays != 0},
		{"valid_until", []string{KindCoupon}, p.ValidUntil != nil},
		{"currency", []string{KindPoints, KindGift}, p.Currency != ""},
		{"tiers", []string{KindPoints, KindDiscount}, len(p.Tiers) > 0},
		{"tier_downgrade", []string{KindPoints, KindDiscount}, p.TierDowngrade},
		{"points_lifetime_days", []string{KindPoints, KindStamps}, p.PointsLifetimeDays != 0},
	}
	for _, o := range only {
		if o.set && !slices.Contains(o.kinds, kind) {
			return fieldErrorf(o.field, "%s is not a setting of %s programs", o.field, kind)
		}
	}
	// An unset basis is the store's default (points) when no tier needs it.
	if p.TierBasis != "" || len(p.Tiers) > 0 {
		if err := ValidateTiers(p.Tiers, p.TierBasis); err != nil {
			return err
		}
	}
	if p.PointsLifetimeDays < 0 || p.PointsLifetimeDays > MaxValidDays {
		return fieldErrorf("points_lifetime_days", "points_lifetime_days must be 0 (never expire) to %d", MaxValidDays)
	}
	if p.Currency != "" {
		if _, ok := CurrencyDigits(p.Currency); !ok {
			return fieldErrorf("currency", "currency %q is not an ISO 4217 code loyalpass knows (RUB, USD, EUR, …)", p.Currency)
		}
	}
	switch kind {
	case KindPoints:
		if p.PointValue < 0 || p.PointValue > MaxPointValue {
			return fieldErrorf("point_value", "point_value (minor units one point is worth) must be 0 to %d", MaxPointValue)
		}
	case KindStamps:
		return validateStamps(p)
	case KindDiscount:
		return validateDiscount(p)
	case KindCoupon:
		return validateCoupon(p)
	case KindGift:
		if p.Currency == "" {
			return fieldErrorf("currency", "a gift program needs its currency, such as RUB")
		}
	}
	return nil
}

func validateStamps(p Program) error {
	switch n := utf8.RuneCountInString(p.Reward); {
	case p.StampsRequired < MinStamps || p.StampsRequired > MaxStamps:
		return fieldErrorf("stamps_required", "stamps_required must be %d to %d", MinStamps, MaxStamps)
	case n == 0 || n > MaxRewardLen:
		return fieldErrorf("reward", "reward (what a full card gives) must be 1 to %d characters", MaxRewardLen)
	case p.StampMinPurchase < 0 || p.StampMinPurchase > maxMinorAmount:
		return fieldErrorf("stamp_min_purchase", "stamp_min_purchase must be 0 (none) to %d minor units", int64(maxMinorAmount))
	}
	return nil
}

func validateDiscount(p Program) error {
	if p.DiscountPercent < 0 || p.DiscountPercent > 100 {
		return fieldErrorf("discount_percent", "discount_percent must be 0 to 100")
	}
	if len(p.Tiers) > 0 && p.TierBasis != BasisSpend {
		return fieldErrorf("tier_basis", "a discount program's tiers are reached by spend: tier_basis must be %q", BasisSpend)
	}
	return nil
}

func validateCoupon(p Program) error {
	if n := utf8.RuneCountInString(p.Offer); n == 0 || n > MaxOfferLen {
		return fieldErrorf("offer", "offer (what the coupon gives) must be 1 to %d characters", MaxOfferLen)
	}
	switch {
	case p.ValidDays != 0 && p.ValidUntil != nil:
		return fieldErrorf("valid_until", "give valid_days or valid_until, not both")
	case p.ValidDays == 0 && p.ValidUntil == nil:
		return fieldErrorf("valid_days", "a coupon needs valid_days (from its issue) or a fixed valid_until")
	case p.ValidDays < 0 || p.ValidDays > MaxValidDays:
		return fieldErrorf("valid_days", "valid_days must be 1 to %d", MaxValidDays)
	}
	return nil
}

// CheckValidUntil refuses a coupon program's fixed date that is not after
// now: every coupon issued under it would be born expired.
func CheckValidUntil(p Program, now time.Time) error {
	if p.ValidUntil != nil && !p.ValidUntil.After(now) {
		return fieldErrorf("valid_until", "valid_until must be in the future")
	}
	return nil
}

// CurrencyOf is the program's currency, RUB when unset.
func (p Program) CurrencyOf() string {
	if p.Currency == "" {
		return defaultCurrency
	}
	return p.Currency
}
