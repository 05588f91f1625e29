package loyalty

// decideGift is decide for a gift program: the balance is money in minor
// units of the program's currency; a load adds to it, a spend takes from
// it and never below zero (*InsufficientFundsError).
func decideGift(st State, p Posting) (line, error) {
	if p.Points <= 0 {
		return line{}, fieldErrorf("amount", "amount must be 1 or more minor units")
	}
	if p.Kind == Load {
		return creditLine(Load, p.Points, p.Reason), nil
	}
	if st.Card.Balance < p.Points {
		return line{}, &InsufficientFundsError{Balance: st.Card.Balance, Debit: p.Points}
	}
	return line{Kind: p.Kind, Points: -p.Points, Reason: p.Reason}, nil
}

// currencyDigits are the ISO 4217 currencies loyalpass counts money in,
// with the digits of their minor unit.
var currencyDigits = map[string]int{
	"RUB": 2, "BYN": 2, "KZT": 2, "UAH": 2, "UZS": 2, "KGS": 2, "TJS": 2, "AMD": 2, "AZN": 2, "GEL": 2,
	"MDL": 2, "TRY": 2, "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CNY": 2, "AED": 2, "PLN": 2, "CZK": 2,
	"SEK": 2, "NOK": 2, "DKK": 2, "CAD": 2, "AUD": 2, "ILS": 2, "INR": 2, "THB": 2, "RSD": 2, "HUF": 2,
	"JPY": 0, "KRW": 0, "VND": 0, "ISK": 0, "CLP": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// CurrencyDigits is how many digits the minor unit of an ISO 4217
// currency has (2 for RUB: 300000 is 3,000.00 ₽), and false for a code
// loyalpass does not know.
func CurrencyDigits(code string) (int, bool) {
	d, ok := currencyDigits[code]
	return d, ok
}

// Liability is what a program owes its cards' holders.
type Liability struct {
	// Outstanding is the sum of the active cards' balances in the
	// program's own unit: points, or minor units of a gift program.
	Outstanding int64
	// Amount is Outstanding in minor units of Currency: a gift balance as
	// it is, points at the program's point value.
	Amount   int64
	Currency string
}

// defaultPointValue is what a point is worth when a program sets no
// value: one major unit, the value EarnPoints credits it for.
const defaultPointValue = minorPerUnit

// ProgramLiability values outstanding (the sum of a program's card
// balances) as money: a gift program's balances are money already; a
// points program's points are worth PointValue minor units each (one
// major unit when unset). Other kinds owe no money (ErrNoLiability).
func ProgramLiability(p Program, outstanding int64) (Liability, error) {
	l := Liability{Outstanding: outstanding, Currency: p.CurrencyOf()}
	switch p.KindOf() {
	case KindGift:
		l.Amount = outstanding
	case KindPoints:
		value := p.PointValue
		if value == 0 {
			value = defaultPointValue
		}
		l.Amount = mulDiv(max(outstanding, 0), value, 1)
	default:
		return Liability{}, ErrNoLiability
	}
	return l, nil
}
