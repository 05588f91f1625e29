package loyalty

// Opening is the posting a new card of p starts with, and false when it
// starts empty: a points card's welcome bonus (once per customer:
// hadWelcome), a coupon card's one coupon, a gift card's initial amount
// (minor units; more than zero only for a gift program, or
// *FieldError naming "initial_amount").
func Opening(p Program, hadWelcome bool, initialAmount int64) (Posting, bool, error) {
	kind := p.KindOf()
	switch {
	case initialAmount < 0 || initialAmount > maxMinorAmount:
		return Posting{}, false, fieldErrorf("initial_amount", "initial_amount must be 0 to %d minor units", int64(maxMinorAmount))
	case initialAmount > 0 && kind != KindGift:
		return Posting{}, false, fieldErrorf("initial_amount", "only gift cards take an initial_amount")
	}
	switch kind {
	case KindCoupon:
		return Posting{Kind: Issue, Points: 1, Reason: "coupon issued"}, true, nil
	case KindGift:
		if initialAmount == 0 {
			return Posting{}, false, nil
		}
		return Posting{Kind: Load, Points: initialAmount, Reason: "initial amount"}, true, nil
	}
	req, ok := WelcomeBonus(p, hadWelcome)
	return req, ok, nil
}
