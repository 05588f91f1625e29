// Package passes builds the wallet representations of a loyalty card: the
// signed Apple Wallet package (.pkpass) here, and the Google Wallet objects
// next to it. It knows nothing about HTTP or storage: callers hand it plain
// values and get bytes back.
package passes

import "time"

// Barcode formats a program may choose; the values are the API's names.
const (
	BarcodeQR      = "qr"
	BarcodePDF417  = "pdf417"
	BarcodeAztec   = "aztec"
	BarcodeCode128 = "code128"
)

// Program kinds, as internal/loyalty names them: each has its own look.
// Points, stamps, discount and gift cards are store cards; a coupon is a
// coupon pass.
const (
	KindPoints   = "points"
	KindStamps   = "stamps"
	KindDiscount = "discount"
	KindCoupon   = "coupon"
	KindGift     = "gift"
)

// Languages loyalpass ships. A program's Locale may be any language of
// the catalogue (internal/locale); these two are the ones code names.
const (
	LocaleRU = "ru"
	LocaleEN = "en"
)

// Design is how a program's cards look. Colours are "#rrggbb".
type Design struct {
	BackgroundColor string
	ForegroundColor string
	LabelColor      string
	LogoText        string
	// Images maps a package file name ("icon.png", "icon@2x.png",
	// "logo@3x.png", "strip.png", …) to PNG bytes. Missing kinds fall back to
	// the embedded defaults in assets/.
	Images map[string][]byte
	// StampIcon is the PNG a stamp card draws each filled stamp with (the
	// merchant's "stamp" image, its largest scale); nil draws the default.
	StampIcon []byte
}

// Program is what a pass needs to know about the loyalty program.
type Program struct {
	ID               string
	OrganizationName string // the merchant's name, shown at the top of the card
	Name             string // the program's name, used in the description
	CurrencyLabel    string // what points are called ("баллы", "points")
	EarnRateBP       int    // earn rate in basis points of the purchase amount
	Terms            string // program terms, shown on the back
	BarcodeFormat    string // one of the Barcode* constants
	Locale           string // a language of the catalogue ("ru", "en"): the pass's default language
	Design           Design
	Version          int64 // grows when the program's look or terms change

	// Kind is one of the Kind* constants; empty is KindPoints.
	Kind string
	// StampsRequired and Reward are a stamp card's goal and what it gives.
	StampsRequired int
	Reward         string
	// Offer is what a coupon gives ("−20% на всё").
	Offer string
	// Currency (ISO 4217) and CurrencyDigits (of its minor unit) are what
	// a gift card's balance is counted in.
	Currency       string
	CurrencyDigits int
}

// kind is p.Kind, KindPoints when unset.
func (p Program) kind() string {
	if p.Kind == "" {
		return KindPoints
	}
	return p.Kind
}

// Field is an extra label/value pair for the back of the card.
type Field struct {
	Key   string
	Label string
	Value string
	// URL, when set, is a link the field carries (also written in Value):
	// Google shows it as a tappable link module; Apple Wallet links URLs
	// in back fields' values by itself.
	URL string
}

// Card is one customer's card as the pass shows it.
type Card struct {
	SerialNumber        string
	AuthenticationToken string
	Number              string // the card number carried by the barcode
	HolderName          string
	Balance             int64
	Tier                string
	Voided              bool
	Version             int64
	UpdatedAt           time.Time
	// EarnRateBP is the rate this card earns at, in basis points of the
	// purchase, when it is not the program's (a tier with its own rate);
	// 0 means the program's rate.
	EarnRateBP int
	// Expiring are the points that lapse next; none when Points is 0.
	Expiring   Expiry
	BackFields []Field // extra back fields, shown as given
	// Message is the merchant's latest message: a back field whose change
	// shows on the lock screen. Empty means none.
	Message string

	// Balance counts the card's own unit: points, stamps on a stamp card
	// (toward the program's goal), minor units of a gift card's currency.
	// Rewards are a stamp card's rewards ready to use.
	Rewards int64
	// DiscountPercent is the discount a discount card gives now.
	DiscountPercent int
	// ValidUntil is when a coupon lapses; Redeemed that it was used, which
	// voids the pass.
	ValidUntil *time.Time
	Redeemed   bool
}

// Expiry is a number of points and the day they lapse.
type Expiry struct {
	Points int64
	At     time.Time
}
