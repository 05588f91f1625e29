package loyalty

import (
	"errors"
	"time"
)

// Coupon states, as a coupon card shows them.
const (
	CouponActive   = "active"
	CouponRedeemed = "redeemed"
	CouponExpired  = "expired"
	CouponVoided   = "voided"
)

// CouponValidUntil is when a coupon of p issued at now lapses: the
// program's fixed date, or ValidDays later. A fixed date already past
// refuses the issue (ErrCouponExpired). Other kinds have none (nil).
func CouponValidUntil(p Program, now time.Time) (*time.Time, error) {
	if p.KindOf() != KindCoupon {
		return nil, nil
	}
	if p.ValidUntil != nil {
		if !p.ValidUntil.After(now) {
			return nil, ErrCouponExpired
		}
		at := p.ValidUntil.UTC()
		return &at, nil
	}
	at := now.AddDate(0, 0, p.ValidDays).UTC()
	return &at, nil
}

// CouponState is what a coupon card is at now: voided, redeemed (even
// once its date has passed: it was used, not lost), expired, or active.
func CouponState(c Card, now time.Time) string {
	switch {
	case c.Status == CardVoided:
		return CouponVoided
	case c.RedeemedAt != nil:
		return CouponRedeemed
	case c.ValidUntil != nil && !now.Before(*c.ValidUntil) || c.Balance < 1:
		return CouponExpired
	}
	return CouponActive
}

// decideCoupon is decide for a coupon program. A coupon card holds one
// coupon: the issue line credits it as a lot that lapses at the card's
// ValidUntil (so the expiry job takes it then), and redeem_coupon takes
// it, once: ErrCouponRedeemed after, ErrCouponExpired past its date.
func decideCoupon(st State, p Posting, now time.Time) (line, error) {
	c := st.Card
	if p.Kind == Issue {
		l := creditLine(Issue, 1, p.Reason)
		l.expiresAt = c.ValidUntil
		return l, nil
	}
	switch CouponState(c, now) {
	case CouponRedeemed:
		return line{}, ErrCouponRedeemed
	case CouponExpired:
		return line{}, ErrCouponExpired
	}
	return line{Kind: p.Kind, Points: -1, Reason: p.Reason, redeemed: true}, nil
}

// ErrNotCoupon refuses issuing coupons in bulk into a program that is not
// a coupon program.
var ErrNotCoupon = errors.New("not a coupon program")

// CheckCouponIssue says whether coupons of p may be issued to a segment
// at now: p must be a coupon program whose coupons can still be issued.
func CheckCouponIssue(p Program, now time.Time) error {
	if p.KindOf() != KindCoupon {
		return ErrNotCoupon
	}
	_, err := CouponValidUntil(p, now)
	return err
}
