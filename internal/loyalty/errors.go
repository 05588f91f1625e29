package loyalty

import (
	"errors"
	"fmt"
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
