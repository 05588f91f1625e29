package loyalty

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the domain's decisions, for errors.Is. The typed errors below
// match them and carry the numbers behind the refusal.
var (
	ErrInsufficientPoints = errors.New("insufficient points")
	ErrCardVoided         = errors.New("card is voided")
	ErrRefundTarget       = errors.New("refund target is not an earn of this card")
	ErrRefundTooLarge     = errors.New("refund exceeds what is left of the purchase")
	ErrUnknownKind        = errors.New("unknown kind")
	// ErrLotsOutOfBalance means a card's lots no longer add up to what a
	// debit takes: the ledger is refused rather than written unbalanced.
	ErrLotsOutOfBalance = errors.New("lots do not cover the debit")
)

// InsufficientPointsError is a posting that would take a card's balance
// below zero.
type InsufficientPointsError struct {
	Balance int64 // the card's balance before the posting
	Debit   int64 // what the posting would take
}

func (e *InsufficientPointsError) Error() string {
	return fmt.Sprintf("insufficient points: the balance is %d, the posting takes %d", e.Balance, e.Debit)
}

// Is makes the error match ErrInsufficientPoints.
func (e *InsufficientPointsError) Is(target error) bool { return target == ErrInsufficientPoints }

// RefundTooLargeError is a refund of more than is left of its purchase.
type RefundTooLargeError struct {
	Left     int64 // purchase amount not yet refunded, in minor units
	Purchase int64 // the whole purchase amount
}

func (e *RefundTooLargeError) Error() string {
	return fmt.Sprintf("%v: %d of %d is left", ErrRefundTooLarge, e.Left, e.Purchase)
}

// Is makes the error match ErrRefundTooLarge.
func (e *RefundTooLargeError) Is(target error) bool { return target == ErrRefundTooLarge }

// FieldError is a program setting the domain refuses; Field names it as
// the API spells it ("tiers", "tier_basis", "kind").
type FieldError struct {
	Field   string
	Message string
	// Cause, if set, is the sentinel the refusal matches (ErrBonusKind).
	Cause error
}

func (e *FieldError) Error() string { return e.Message }

// Unwrap returns the refusal's sentinel, if any.
func (e *FieldError) Unwrap() error { return e.Cause }

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Refusals of the card kinds other than points, for errors.Is. Each maps
// to one stable API code (no_reward, coupon_redeemed, coupon_expired,
// insufficient_funds).
var (
	// ErrNoReward refuses redeem_reward on a stamp card without a reward.
	ErrNoReward = errors.New("no reward available")
	// ErrCouponRedeemed refuses a second redemption of a coupon.
	ErrCouponRedeemed = errors.New("coupon already redeemed")
	// ErrCouponExpired refuses a coupon past its date, or issuing one of a
	// program whose fixed date has passed.
	ErrCouponExpired = errors.New("coupon expired")
	// ErrInsufficientFunds refuses a gift card spend beyond its balance.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrKindMismatch refuses a transaction its program's kind does not
	// have (a stamp on a gift card, an earn on a coupon).
	ErrKindMismatch = errors.New("transaction kind does not fit the program kind")
	// ErrPurchaseTooSmall refuses stamps for less than the program's
	// minimum purchase per stamp.
	ErrPurchaseTooSmall = errors.New("purchase too small for the stamps")
	// ErrNoLiability: only gift and points programs owe money.
	ErrNoLiability = errors.New("the program kind carries no liability")
)

// InsufficientFundsError is a gift card spend of more than the balance.
type InsufficientFundsError struct {
	Balance int64 // minor units on the card before the spend
	Debit   int64 // what the spend would take
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("insufficient funds: the balance is %d, the spend takes %d", e.Balance, e.Debit)
}

// Is makes the error match ErrInsufficientFunds.
func (e *InsufficientFundsError) Is(target error) bool { return target == ErrInsufficientFunds }

// KindMismatchError is a transaction kind its program's kind has no rule
// for; Allowed lists the ones it has, for the refusal's message.
type KindMismatchError struct {
	Program     string
	Transaction string
	Allowed     []string
}

func (e *KindMismatchError) Error() string {
	return fmt.Sprintf("a %s program takes %s transactions, not %q", e.Program, strings.Join(e.Allowed, ", "), e.Transaction)
}

// Is makes the error match ErrKindMismatch.
func (e *KindMismatchError) Is(target error) bool { return target == ErrKindMismatch }

// PurchaseTooSmallError is a stamp posting whose purchase is below the
// program's minimum for that many stamps.
type PurchaseTooSmallError struct {
	Need     int64 // minimum purchase for the stamps asked, minor units
	Purchase int64
}

func (e *PurchaseTooSmallError) Error() string {
	return fmt.Sprintf("%v: %d needs a purchase of at least %d", ErrPurchaseTooSmall, e.Purchase, e.Need)
}

// Is makes the error match ErrPurchaseTooSmall.
func (e *PurchaseTooSmallError) Is(target error) bool { return target == ErrPurchaseTooSmall }
