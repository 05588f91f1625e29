package api

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// What the Loyalty Online API's card info and history say for each
// program kind. The [I] shape has one "bonus" with a total, what is
// available and lines of text; Кошелёк shows those as they come. [Inf]
// Each kind fills them with its own unit and words, so no card but a
// points card ever speaks of points:
//   - points: the balance, split into what expires when;
//   - stamps: the stamps on the card as total and available, a line
//     "3 из 6", and a line for the rewards waiting, if any (its amount
//     is the count of rewards);
//   - gift: money, given in the currency's units ("2500.00"), with a
//     line "Остаток: 2 500,00 ₽";
//   - discount: no balance (0), a line with the card's discount, and the
//     card's "discount" (koshelekCard.Discount);
//   - coupon: 1 while it can be used, 0 once used or lapsed, and a line
//     with the offer and its date or what became of it.

// koshelekBonusOf is the card's "bonus" as its program's kind shows it.
func koshelekBonusOf(p loyalty.Program, c loyalty.Card, lots []loyalty.Lot, l *locale.Lang, now time.Time) *koshelekBonus {
	count := strconv.FormatInt(c.Balance, 10)
	b := &koshelekBonus{Total: count, Available: count, Bonuses: []koshelekBonusLine{}}
	switch p.KindOf() {
	case loyalty.KindStamps:
		b.Bonuses = append(b.Bonuses, koshelekBonusLine{Amount: count,
			Description: l.Text("koshelek_stamps", "stamps", l.StampsOf(c.Balance, int64(p.StampsRequired)))})
		if c.Rewards > 0 {
			b.Bonuses = append(b.Bonuses, koshelekBonusLine{Amount: strconv.FormatInt(c.Rewards, 10),
				Description: l.Plural("koshelek_rewards", c.Rewards, "reward", p.Reward)})
		}
	case loyalty.KindGift:
		digits, _ := loyalty.CurrencyDigits(p.CurrencyOf())
		amount := koshelekMoney(c.Balance, digits)
		b.Total, b.Available = amount, amount
		b.Bonuses = append(b.Bonuses, koshelekBonusLine{Amount: amount,
			Description: l.Text("koshelek_gift_balance", "balance", l.MoneyIn(c.Balance, p.CurrencyOf(), digits))})
	case loyalty.KindDiscount:
		percent := strconv.Itoa(p.DiscountFor(c.Tier))
		b.Total, b.Available = "0", "0"
		b.Bonuses = append(b.Bonuses, koshelekBonusLine{Amount: percent,
			Description: l.Text("koshelek_discount", "percent", percent)})
	case loyalty.KindCoupon:
		b.Bonuses = append(b.Bonuses, koshelekCouponLine(p, c, l, now))
		if loyalty.CouponState(c, now) != loyalty.CouponActive {
			b.Total, b.Available = "0", "0"
		}
	default:
		b.Bonuses = koshelekPointLines(c, lots, l)
	}
	return b
}

// koshelekPointLines splits a points balance into what expires when; the
// parts add up to the balance. Dates are the UTC day.
func koshelekPointLines(c loyalty.Card, lots []loyalty.Lot, l *locale.Lang) []koshelekBonusLine {
	out := []koshelekBonusLine{}
	byDay := map[string]int64{}
	var days []string
	var expiring int64
	for _, lot := range lots {
		if lot.ExpiresAt == nil || lot.Remaining <= 0 {
			continue
		}
		day := lot.ExpiresAt.UTC().Format(time.DateOnly)
		if _, seen := byDay[day]; !seen {
			days = append(days, day)
		}
		byDay[day] += lot.Remaining
		expiring += lot.Remaining
	}
	slices.Sort(days)
	for _, day := range days {
		at, _ := time.Parse(time.DateOnly, day)
		out = append(out, koshelekBonusLine{Description: l.Expiring(byDay[day], at),
			Amount: strconv.FormatInt(byDay[day], 10), ValidUntil: day})
	}
	if lasting := c.Balance - expiring; lasting > 0 {
		out = append(out, koshelekBonusLine{Description: l.Text("koshelek_lasting"),
			Amount: strconv.FormatInt(lasting, 10)})
	}
	return out
}

// koshelekCouponLine is a coupon's offer with its date while it can be
// used, or what became of it.
func koshelekCouponLine(p loyalty.Program, c loyalty.Card, l *locale.Lang, now time.Time) koshelekBonusLine {
	line := koshelekBonusLine{Amount: "0"}
	offer := []string{"offer", p.Offer}
	switch loyalty.CouponState(c, now) {
	case loyalty.CouponActive:
		line.Amount = "1"
		if c.ValidUntil == nil {
			line.Description = p.Offer
			break
		}
		line.Description = l.Text("koshelek_coupon_valid", append(offer, "date", l.Date(*c.ValidUntil))...)
		line.ValidUntil = c.ValidUntil.UTC().Format(time.DateOnly)
	case loyalty.CouponRedeemed:
		line.Description = l.Text("koshelek_coupon_used", offer...)
	case loyalty.CouponVoided:
		line.Description = l.Text("koshelek_coupon_voided", offer...)
	default:
		line.Description = l.Text("koshelek_coupon_expired", offer...)
	}
	return line
}

// koshelekMoney writes minor units as the currency's units with a point
// and the minor unit's digits ("2500.00"), as every scalar goes: a string.
func koshelekMoney(minor int64, digits int) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if digits <= 0 {
		return sign + strconv.FormatInt(minor, 10)
	}
	s := strconv.FormatInt(minor, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return sign + s[:len(s)-digits] + "." + s[len(s)-digits:]
}

// koshelekPurchaseOf is one history line. [I] "amount" is money in minor
// units and "bonuses" what the line added to or took from the card. A
// gift card's lines move money, not bonuses: their amount is the money
// loaded or spent and their bonuses 0; a coupon's and a discount card's
// lines move no bonuses either; a stamp card's bonuses are its stamps.
func koshelekPurchaseOf(p loyalty.Program, t loyalty.Transaction, l *locale.Lang) koshelekPurchase {
	kind := p.KindOf()
	item := "koshelek_item_" + t.Kind
	if t.Kind == loyalty.Expire && (kind == loyalty.KindStamps || kind == loyalty.KindCoupon || kind == loyalty.KindGift) {
		item += "_" + kind
	}
	amount, bonuses := t.PurchaseAmount, t.Points
	switch kind {
	case loyalty.KindGift:
		amount, bonuses = max(t.Points, -t.Points), 0
	case loyalty.KindCoupon, loyalty.KindDiscount:
		bonuses = 0
	}
	return koshelekPurchase{Date: t.CreatedAt.UTC().Format(time.DateOnly), Item: l.Text(item),
		Amount: strconv.FormatInt(amount, 10), Quantity: "1", Location: p.Name, Bonuses: strconv.FormatInt(bonuses, 10)}
}
