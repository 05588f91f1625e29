package passes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// buildFields lays out the fields of card c by its program's kind. Every
// kind keeps the card number at the bottom of the front and on the back,
// the merchant's message first on the back and the terms after it; what
// changes is the front:
//
//   - points: the balance as the primary field, holder and tier beside it;
//   - stamps: no primary field (the stamp strip sits behind it), the count
//     "3 of 6" and the rewards ready as secondary fields with change
//     messages, since the strip alone is silent on the lock screen and the
//     Watch shows no strip;
//   - discount: the discount as the primary field, the tier in the header
//     (the only row seen while passes are stacked);
//   - coupon: the offer as the primary field and its date (the pass also
//     carries expirationDate and, once used, voided);
//   - gift: the balance as a number with the currency's code, which
//     Wallet formats for the customer's locale.
func buildFields(p Program, c Card, l *localizer) (*passFields, error) {
	sf := &passFields{}
	holder := field{Key: keyHolder, Label: l.key(textHolder), Value: c.HolderName}
	number := field{Key: keyNumber, Label: l.key(textCardNumber), Value: c.Number}
	switch p.kind() {
	case KindPoints:
		sf.PrimaryFields = []field{{Key: keyBalance, Label: l.key(textBalance), Value: c.Balance, // a number, so %@ shows it
			ChangeMessage: l.key(textBalanceChange), NumberStyle: "PKNumberStyleDecimal"}}
		if c.HolderName != "" {
			sf.SecondaryFields = append(sf.SecondaryFields, holder)
		}
		if c.Tier != "" {
			sf.SecondaryFields = append(sf.SecondaryFields, field{Key: keyTier, Label: l.key(textTier), Value: c.Tier})
		}
		sf.AuxiliaryFields = []field{number}
	case KindStamps:
		if p.StampsRequired < 1 {
			return nil, fmt.Errorf("program %s: a stamp card needs its goal", p.ID)
		}
		sf.SecondaryFields = []field{
			{Key: keyStamps, Label: l.key(textStamps), ChangeMessage: l.key(textStampsChange),
				Value: l.key(locale.StampsOfText(min(c.Balance, int64(p.StampsRequired)), int64(p.StampsRequired)))},
			{Key: keyRewards, Label: l.key(textRewards), Value: c.Rewards, ChangeMessage: l.key(textRewardsChange),
				NumberStyle: "PKNumberStyleDecimal"},
		}
		sf.AuxiliaryFields = []field{number}
		if c.HolderName != "" {
			sf.AuxiliaryFields = []field{holder, number}
		}
	case KindDiscount:
		sf.PrimaryFields = []field{{Key: keyDiscount, Label: l.key(textDiscount),
			Value: strconv.Itoa(c.DiscountPercent) + "%", ChangeMessage: l.key(textDiscountChange)}}
		if c.Tier != "" {
			sf.HeaderFields = []field{{Key: keyTier, Label: l.key(textTier), Value: c.Tier, ChangeMessage: l.key(textTierChange)}}
		}
		if c.HolderName != "" {
			sf.SecondaryFields = []field{holder}
		}
		sf.AuxiliaryFields = []field{number}
	case KindCoupon:
		if p.Offer == "" {
			return nil, fmt.Errorf("program %s: a coupon needs its offer", p.ID)
		}
		sf.PrimaryFields = []field{{Key: keyOffer, Label: l.key(textOffer), Value: p.Offer}}
		if c.ValidUntil != nil {
			sf.SecondaryFields = []field{{Key: keyValidUntil, Label: l.key(textValidUntil),
				Value: c.ValidUntil.UTC().Format(time.RFC3339), DateStyle: "PKDateStyleMedium", TimeStyle: "PKDateStyleNone"}}
		}
		if c.HolderName != "" {
			sf.SecondaryFields = append(sf.SecondaryFields, holder)
		}
		sf.AuxiliaryFields = []field{number}
	case KindGift:
		if !currencyCode(p.Currency) {
			return nil, fmt.Errorf("program %s: gift card currency %q is not an ISO 4217 code", p.ID, p.Currency)
		}
		sf.PrimaryFields = []field{{Key: keyBalance, Label: l.key(textGiftBalance), Value: majorUnits(c.Balance, p.CurrencyDigits),
			CurrencyCode: p.Currency, ChangeMessage: l.key(textGiftBalanceChange)}}
		if c.HolderName != "" {
			sf.SecondaryFields = []field{holder}
		}
		sf.AuxiliaryFields = []field{number}
	default:
		return nil, fmt.Errorf("program %s: unknown kind %q", p.ID, p.Kind)
	}

	// The merchant's message goes first on the back; a new text changes the
	// field, and its changeMessage puts the text on the lock screen.
	if c.Message != "" {
		sf.BackFields = append(sf.BackFields, field{Key: keyMessage, Label: l.key(textMessage), Value: c.Message, ChangeMessage: "%@"})
	}
	if p.kind() == KindStamps && p.Reward != "" {
		sf.BackFields = append(sf.BackFields, field{Key: keyReward, Label: l.key(textReward), Value: p.Reward})
	}
	if p.Terms != "" {
		sf.BackFields = append(sf.BackFields, field{Key: keyTerms, Label: l.key(textTerms), Value: p.Terms})
	}
	if rate := effectiveRate(p, c); rate > 0 && p.kind() == KindPoints {
		sf.BackFields = append(sf.BackFields, field{Key: keyEarn, Label: l.key(textEarn), Value: l.key(locale.EarnRateText(rate))})
	}
	sf.BackFields = append(sf.BackFields, field{Key: keyBackNumber, Label: l.key(textCardNumber), Value: c.Number})
	if e := c.Expiring; e.Points > 0 && p.kind() == KindPoints {
		sf.BackFields = append(sf.BackFields, field{Key: keyExpiring, Label: l.key(textExpiring),
			Value: l.key(locale.ExpiringText(e.Points, e.At))})
	}
	for _, f := range c.BackFields {
		sf.BackFields = append(sf.BackFields, field{Key: f.Key, Label: f.Label, Value: f.Value})
	}
	return sf, nil
}

// majorUnits writes minor units as a JSON number of major units with the
// currency's digits: 300050 with 2 digits is 3000.50. A number (not a
// string) is what lets Wallet format it with the currency code.
func majorUnits(minor int64, digits int) json.Number {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	s := strconv.FormatInt(minor, 10)
	if digits <= 0 {
		return json.Number(sign + s)
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return json.Number(sign + s[:len(s)-digits] + "." + s[len(s)-digits:])
}

// currencyCode reports whether s looks like an ISO 4217 code.
func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
