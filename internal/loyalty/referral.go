package loyalty

import (
	"errors"
	"time"
)

// ReferralTerms are a program's "bring a friend" rules: both are credited
// when the friend's first purchase of at least MinPurchaseAmount is posted.
type ReferralTerms struct {
	ReferrerPoints    int64 `json:"referrer_points"`
	FriendPoints      int64 `json:"friend_points"`
	MinPurchaseAmount int64 `json:"min_purchase_amount"`
	// MonthlyLimit caps the friends one card may bring in 30 days;
	// 0 means DefaultReferralMonthlyLimit.
	MonthlyLimit int `json:"monthly_limit"`
}

// DefaultReferralMonthlyLimit is the monthly cap of terms that set none.
const DefaultReferralMonthlyLimit = 10

// ReferralMonth is the window of the monthly limit.
const ReferralMonth = 30 * Day

// Enabled reports whether the program pays for referrals at all.
func (t ReferralTerms) Enabled() bool { return t.ReferrerPoints > 0 || t.FriendPoints > 0 }

// Limit is the monthly cap in force.
func (t ReferralTerms) Limit() int {
	if t.MonthlyLimit <= 0 {
		return DefaultReferralMonthlyLimit
	}
	return t.MonthlyLimit
}

// Validate checks the terms; the error names the field under "referral.".
func (t ReferralTerms) Validate() error {
	switch {
	case t.ReferrerPoints < 0 || t.ReferrerPoints > 1_000_000:
		return fieldErrorf("referral.referrer_points", "referral.referrer_points must be 0 to 1000000")
	case t.FriendPoints < 0 || t.FriendPoints > 1_000_000:
		return fieldErrorf("referral.friend_points", "referral.friend_points must be 0 to 1000000")
	case t.MinPurchaseAmount < 0 || t.MinPurchaseAmount > 1_000_000_000:
		return fieldErrorf("referral.min_purchase_amount", "referral.min_purchase_amount must be 0 to 1000000000 (minor units)")
	case t.MonthlyLimit < 0 || t.MonthlyLimit > 1000:
		return fieldErrorf("referral.monthly_limit", "referral.monthly_limit must be 0 (the default, %d) to 1000", DefaultReferralMonthlyLimit)
	}
	return nil
}

// Why a referral is refused at the friend's join.
var (
	ErrReferralOff   = errors.New("the program pays no referrals")
	ErrSelfReferral  = errors.New("a customer cannot refer themselves")
	ErrKnownFriend   = errors.New("the friend's phone is already a customer")
	ErrReferralLimit = errors.New("the referrer brought the most friends a month allows")
	ErrReferrerGone  = errors.New("the referrer's card is voided")
)

// ReferralAttempt is what the store knows when a friend joins through a
// referral link.
type ReferralAttempt struct {
	Terms ReferralTerms
	// ReferrerCustomer and FriendCustomer are the two customers' ids;
	// ReferrerActive that the referrer's card is active.
	ReferrerCustomer, FriendCustomer string
	ReferrerActive                   bool
	// FriendKnown tells that the friend's phone was a customer of the
	// merchant before this join.
	FriendKnown bool
	// ThisMonth is how many friends the referrer brought in the last
	// ReferralMonth.
	ThisMonth int
}

// AttributeReferral decides whether a friend's join counts as the
// referrer's: nil, or the reason it does not.
func AttributeReferral(a ReferralAttempt) error {
	switch {
	case !a.Terms.Enabled():
		return ErrReferralOff
	case a.ReferrerCustomer == a.FriendCustomer:
		return ErrSelfReferral
	case a.FriendKnown:
		return ErrKnownFriend
	case !a.ReferrerActive:
		return ErrReferrerGone
	case a.ThisMonth >= a.Terms.Limit():
		return ErrReferralLimit
	}
	return nil
}

// Qualifies reports whether a ledger line on the friend's card is the
// purchase that pays a pending referral: an earn of at least the minimum.
func Qualifies(t ReferralTerms, line Transaction) bool {
	return line.Kind == Earn && line.PurchaseAmount > 0 && line.PurchaseAmount >= t.MinPurchaseAmount
}

// ReferralCredits are the two postings that pay a referral, to the
// referrer's and to the friend's card; a zero amount has no posting.
func ReferralCredits(t ReferralTerms) (referrer, friend Posting) {
	if t.ReferrerPoints > 0 {
		referrer = Posting{Kind: Adjust, Points: t.ReferrerPoints, Reason: "referral bonus: a friend's first purchase"}
	}
	if t.FriendPoints > 0 {
		friend = Posting{Kind: Adjust, Points: t.FriendPoints, Reason: "referral bonus: first purchase"}
	}
	return referrer, friend
}

// Referral is a friend brought in by a referrer's link.
type Referral struct {
	ID               string
	ProgramID        string
	ReferrerSerial   string
	FriendSerial     string
	Status           string // pending, qualified
	ReferrerPoints   int64
	FriendPoints     int64
	CreatedAt        time.Time
	QualifiedAt      *time.Time
	ReferrerCustomer string
	FriendCustomer   string
}

// Referral statuses.
const (
	ReferralPending   = "pending"
	ReferralQualified = "qualified"
	// ReferralReversed is a qualified referral whose purchase was refunded
	// below the terms' minimum: both bonuses taken back, as far as the
	// cards still hold them.
	ReferralReversed = "reversed"
)

// StillQualifies reports whether a qualifying purchase of which remaining
// is left after refunds still earns the referral.
func StillQualifies(t ReferralTerms, remaining int64) bool {
	return Qualifies(t, Transaction{Kind: Earn, PurchaseAmount: remaining})
}
