// Package loyalty is loyalpass's domain: programs, cards, customers and
// the ledger's postings, and the decisions about them as plain functions
// over values: what a posting does to a card's balance, lots and tier,
// what a refund may reverse, when points expire. It knows no database and
// no HTTP; the store loads the values, asks, and saves the answer inside
// one transaction.
package loyalty

// Transaction kinds.
const (
	Earn    = "earn"
	Redeem  = "redeem"
	Adjust  = "adjust"
	Welcome = "welcome"
	Expire  = "expire"
	Refund  = "refund"
)
