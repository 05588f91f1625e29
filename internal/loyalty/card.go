package loyalty

import "time"

// Card statuses.
const (
	CardActive = "active"
	CardVoided = "voided"
)

// Customer is a person, keyed by phone number within a merchant.
type Customer struct {
	ID               string
	MerchantID       string
	Phone            string // E.164
	Name             string
	Email            string
	SMSConsent       bool
	SMSConsentAt     *time.Time
	SMSConsentSource string
	OptedOut         bool
	CreatedAt        time.Time
	// Birthday is "YYYY-MM-DD" or ""; ErasedAt is set once the customer's
	// personal data was erased on their request.
	Birthday string
	ErasedAt *time.Time
}

// Card is one customer's card in one program.
type Card struct {
	SerialNumber string
	MerchantID   string
	ProgramID    string
	CustomerID   string
	Number       string
	AuthToken    string
	Balance      int64
	Tier         string
	Status       string
	Version      int64
	// LifetimePoints and LifetimeSpend are what purchases earned and cost,
	// net of refunds: the measures tiers are reached by.
	LifetimePoints int64
	LifetimeSpend  int64
	LastPurchaseAt *time.Time
	// ChangeSeq is the update tag of the card's last change; PassModified
	// is its pass's Last-Modified, which grows by at least a second with
	// every change so If-Modified-Since never hides one.
	ChangeSeq    int64
	PassModified time.Time
	// Message is the lock-screen message shown on the pass.
	Message string
	// LinkToken is the card's own short link token (/c/{token}).
	LinkToken string
	// Rewards are a stamp card's rewards earned and not yet used; the sum
	// of its ledger's Rewards, as Balance is the sum of its Points.
	Rewards int64
	// ValidUntil is when a coupon lapses (nil for other kinds); RedeemedAt
	// when it was used, nil while it was not.
	ValidUntil *time.Time
	RedeemedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	VoidedAt   *time.Time
	Customer   Customer
}
