package locale

import (
	"strconv"
	"strings"
	"time"
)

// Int writes n with the language's thousands separator: "1 250" (with a
// no-break space, so it never wraps) in Russian, "1,250" in English.
func (l *Lang) Int(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(l.group)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// Percent writes bp basis points as a percentage number without trailing
// zeros and with the language's decimal separator: 500 → "5", 250 →
// "2,5" or "2.5", 5 → "0,05".
func (l *Lang) Percent(bp int) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	whole, frac := bp/100, bp%100
	s := sign + strconv.Itoa(whole)
	switch {
	case frac == 0:
		return s
	case frac%10 == 0:
		return s + l.decimal + strconv.Itoa(frac/10)
	}
	return s + l.decimal + strconv.Itoa(frac/10) + strconv.Itoa(frac%10)
}

// Money writes an amount in minor units (kopecks, cents) as major units
// with two decimals, the language's way: 125050 → "1 250,50", "1,250.50".
func (l *Lang) Money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return sign + l.Int(minor/100) + l.decimal + strconv.FormatInt(100+minor%100, 10)[1:]
}

// Date writes a calendar date the language's way ("31.12.2026", "31
// December 2026"), in UTC.
func (l *Lang) Date(t time.Time) string { return t.UTC().Format(l.date) }

// Points is a count of points with the word in the form the count needs:
// "1 250 баллов", "1 point" (joined by a no-break space).
func (l *Lang) Points(n int64) string { return l.Plural("points", n) }

// EarnRate describes an earn rate of bp basis points of the purchase:
// "2,5% от суммы каждой покупки", "2.5% of every purchase".
func (l *Lang) EarnRate(bp int) string { return l.Text("earn_rate", "rate", l.Percent(bp)) }

// Expiring says that n points lapse on day at: "3 балла сгорят
// 31.12.2026", "5 points expire on 31 December 2026".
func (l *Lang) Expiring(n int64, at time.Time) string {
	return l.Plural("expiring", n, "date", l.Date(at))
}

// Text is a fixed text not yet put in a language: a wallet card carries
// each of its texts in every language of the catalogue.
type Text func(*Lang) string

// Msg is the Text of plain message key.
func Msg(key string) Text { return func(l *Lang) string { return l.Text(key) } }

// EarnRateText is the Text of Lang.EarnRate.
func EarnRateText(bp int) Text { return func(l *Lang) string { return l.EarnRate(bp) } }

// ExpiringText is the Text of Lang.Expiring.
func ExpiringText(n int64, at time.Time) Text {
	return func(l *Lang) string { return l.Expiring(n, at) }
}

// StampsOf is a stamp card's count toward its goal: "3 из 6", "3 of 6".
func (l *Lang) StampsOf(n, goal int64) string {
	return l.Text("stamps_of", "n", l.Int(n), "goal", l.Int(goal))
}

// StampsOfText is the Text of Lang.StampsOf.
func StampsOfText(n, goal int64) Text { return func(l *Lang) string { return l.StampsOf(n, goal) } }

// currencySymbols are the signs of the currencies people know by sign;
// others are written by their ISO 4217 code.
var currencySymbols = map[string]string{"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "KZT": "₸", "UAH": "₴",
	"BYN": "Br", "TRY": "₺", "CNY": "¥", "JPY": "¥", "INR": "₹", "GEL": "₾", "AMD": "֏", "AZN": "₼"}

// MoneyIn writes minor units of currency, whose minor unit has digits
// digits, with the currency's sign, the language's way: "3 000,00 ₽" in
// Russian, "₽ 3,000.00" in English (no-break spaces).
func (l *Lang) MoneyIn(minor int64, currency string, digits int) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	amount := sign + l.Int(minor/scale)
	if digits > 0 {
		frac := strconv.FormatInt(minor%scale, 10)
		amount += l.decimal + strings.Repeat("0", digits-len(frac)) + frac
	}
	symbol, ok := currencySymbols[currency]
	if !ok {
		symbol = currency
	}
	return l.Text("money", "amount", amount, "currency", symbol)
}
