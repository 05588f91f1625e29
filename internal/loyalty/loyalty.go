// Package loyalty is loyalpass's domain: programs, cards, customers and
// the ledger's postings, and the decisions about them as plain functions
// over values: what a posting does to a card's balance, lots and tier,
// what a refund may reverse, when points expire; and the same for the
// other kinds of card a program may have: stamps that turn into rewards,
// a discount that grows with spend, a coupon used once, a gift card's
// money. It knows no database and no HTTP; the store loads the values,
// asks, and saves the answer inside one transaction.
package loyalty

// Transaction kinds. Earn, Redeem, Adjust and Refund move points; Stamp
// and RedeemReward a stamp card; Purchase (and Refund) a discount card's
// spend; RedeemCoupon a coupon; Load and Spend a gift card's money.
// Welcome, Issue and Expire are posted by loyalpass itself.
const (
	Earn         = "earn"
	Redeem       = "redeem"
	Adjust       = "adjust"
	Welcome      = "welcome"
	Expire       = "expire"
	Refund       = "refund"
	Stamp        = "stamp"
	RedeemReward = "redeem_reward"
	Purchase     = "purchase"
	RedeemCoupon = "redeem_coupon"
	Issue        = "issue"
	Load         = "load"
	Spend        = "spend"
)
