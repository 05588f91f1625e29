package api

import (
	"context"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// cardPrograms is what a card's answer reads of its program: the kind
// and the settings that decide what the card shows.
type cardPrograms interface {
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
}

// cardKindJSON is what a card shows by its program's kind, beside its
// balance (points, stamps toward the goal, minor units of a gift card's
// currency; a coupon's 1 until used or lapsed).
type cardKindJSON struct {
	Kind string `json:"kind"`
	// Stamps, StampsRequired and RewardsAvailable: a stamp card's stamps
	// toward its goal and the rewards it holds.
	Stamps           *int64 `json:"stamps,omitempty"`
	StampsRequired   int    `json:"stamps_required,omitempty"`
	RewardsAvailable *int64 `json:"rewards_available,omitempty"`
	// DiscountPercent is the discount the card gives now, by its tier: a
	// discount card's, or 0 (what a POS lookup reads).
	DiscountPercent int `json:"discount_percent"`
	// Currency is a gift card's (its balance is in minor units of it).
	Currency string `json:"currency,omitempty"`
	// ValidUntil, RedeemedAt and CouponState: a coupon's date, use and
	// state (active, redeemed, expired, voided).
	ValidUntil  *time.Time `json:"valid_until,omitempty"`
	RedeemedAt  *time.Time `json:"redeemed_at,omitempty"`
	CouponState string     `json:"coupon_state,omitempty"`
}

// cardKind is what card c of program p shows by its kind at now.
func cardKind(c loyalty.Card, p loyalty.Program, now time.Time) cardKindJSON {
	k := cardKindJSON{Kind: p.KindOf(), DiscountPercent: p.DiscountFor(c.Tier)}
	switch k.Kind {
	case loyalty.KindStamps:
		k.Stamps, k.StampsRequired, k.RewardsAvailable = &c.Balance, p.StampsRequired, &c.Rewards
	case loyalty.KindGift:
		k.Currency = p.CurrencyOf()
	case loyalty.KindCoupon:
		k.ValidUntil, k.RedeemedAt, k.CouponState = c.ValidUntil, c.RedeemedAt, loyalty.CouponState(c, now)
	}
	return k
}

// programsOf looks up the programs of cards once each.
type programsOf struct {
	store cardPrograms
	mid   string
	seen  map[string]loyalty.Program
}

func (po *programsOf) of(ctx context.Context, c loyalty.Card) (loyalty.Program, error) {
	if p, ok := po.seen[c.ProgramID]; ok {
		return p, nil
	}
	p, err := po.store.Program(ctx, po.mid, c.ProgramID)
	if err != nil {
		return p, err
	}
	if po.seen == nil {
		po.seen = map[string]loyalty.Program{}
	}
	po.seen[c.ProgramID] = p
	return p, nil
}
