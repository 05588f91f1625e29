package delivery

import (
	"strconv"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// What a «Кошелёк» holder is told of a change, by the program's kind. A
// points card tells its balance in points, a gift card in money; a stamp
// card, a discount card and a coupon tell their state instead
// (store.KoshelekPush.State), so a stamp or a used reward never reads as
// points.

// koshelekBalanceText is the message of a balance change, and false when
// there is none to tell: the balance is where the holder last saw it, or
// the kind does not tell its balance.
func koshelekBalanceText(p store.KoshelekPush, l *locale.Lang) (string, bool) {
	delta := p.Balance - p.SentBalance
	if delta == 0 {
		return "", false
	}
	switch p.Program.KindOf() {
	case loyalty.KindPoints:
		key := "koshelek_credited"
		if delta < 0 {
			key, delta = "koshelek_debited", -delta
		}
		return l.Plural(key, delta, "balance", l.Points(p.Balance)), true
	case loyalty.KindGift:
		currency := p.Program.CurrencyOf()
		digits, _ := loyalty.CurrencyDigits(currency)
		key := "koshelek_gift_loaded"
		if delta < 0 {
			key, delta = "koshelek_gift_spent", -delta
		}
		return l.Text(key, "amount", l.MoneyIn(delta, currency, digits), "balance", l.MoneyIn(p.Balance, currency, digits)), true
	}
	return "", false
}

// koshelekStateText is the message of a change of a card's state, and
// false when there is none to tell. A state never told ("", a card in
// Кошелёк from before states were kept) is recorded quietly, except a
// stamp card's whose stamps moved since the balance last told.
func koshelekStateText(p store.KoshelekPush, l *locale.Lang) (string, bool) {
	if p.State == p.SentState || p.State == "" {
		return "", false
	}
	prog := p.Program
	switch prog.KindOf() {
	case loyalty.KindStamps:
		if p.SentState == "" && p.Balance == p.SentBalance {
			return "", false
		}
		text := l.Text("koshelek_stamps", "stamps", l.StampsOf(p.Balance, int64(prog.StampsRequired)))
		if p.Rewards > 0 {
			text += ". " + l.Plural("koshelek_rewards", p.Rewards, "reward", prog.Reward)
		}
		return text, true
	case loyalty.KindDiscount:
		if p.SentState == "" {
			return "", false
		}
		return l.Text("koshelek_discount_changed", "percent", strconv.Itoa(prog.DiscountFor(p.Tier))), true
	case loyalty.KindCoupon:
		if p.State != store.KoshelekCouponRedeemed {
			return "", false
		}
		return l.Text("koshelek_coupon_used", "offer", prog.Offer), true
	}
	return "", false
}
