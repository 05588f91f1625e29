package loyalty

// DiscountFor is the discount, in percent, a card in tier gets: the tier's own
// when it sets one, else the program's. A program without discounts
// (points, stamps, coupon, gift) gives 0 unless its tiers name one.
func (p Program) DiscountFor(tier string) int {
	for _, t := range p.Tiers {
		if t.Code == tier && t.DiscountPercent > 0 {
			return t.DiscountPercent
		}
	}
	if p.KindOf() != KindDiscount {
		return 0
	}
	return p.DiscountPercent
}

// decideDiscount is decide for a discount program: a purchase counts
// towards the spend that moves the card's tier, and so its discount; a
// refund of a purchase takes its amount back (and, with tier_downgrade,
// may lower the tier). Neither moves a balance.
func decideDiscount(st State, p Posting) (line, error) {
	if p.Kind == Refund {
		return refund(st.Card, st.Earn, p, Purchase)
	}
	if p.PurchaseAmount <= 0 {
		return line{}, fieldErrorf("purchase_amount", "a purchase needs its amount")
	}
	return line{Kind: p.Kind, PurchaseAmount: p.PurchaseAmount, Reason: p.Reason, Purchase: true,
		LifetimeSpend: p.PurchaseAmount}, nil
}
