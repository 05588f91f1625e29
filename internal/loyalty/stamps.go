package loyalty

import "fmt"

// StampGoal is what stamps do on a card of a program whose goal is goal
// stamps: the card's stamps plus added make rewards whole goals, and the
// rest stays on the card. A goal below 1 makes no rewards.
func StampGoal(stamps, added, goal int64) (remainder, rewards int64) {
	total := stamps + added
	if goal < 1 {
		return total, 0
	}
	return total % goal, total / goal
}

// decideStamps is decide for a stamps program. A stamp (or a positive
// adjustment) adds stamps; every completed goal turns that many stamps
// into one reward at once, the card's oldest stamps first, so the card
// keeps the remainder. A redeem_reward uses one reward (ErrNoReward when
// there is none); a negative adjustment takes stamps away.
func decideStamps(st State, p Posting) (line, error) {
	c, prog := st.Card, st.Program
	switch {
	case p.Kind == RedeemReward:
		if c.Rewards < 1 {
			return line{}, ErrNoReward
		}
		return line{Kind: p.Kind, Rewards: -1, Reason: p.Reason}, nil
	case p.Kind == Adjust && p.Points < 0:
		if c.Balance+p.Points < 0 {
			return line{}, &InsufficientPointsError{Balance: c.Balance, Debit: -p.Points}
		}
		return line{Kind: p.Kind, Points: p.Points, Reason: p.Reason}, nil
	case p.Points <= 0:
		return line{}, fieldErrorf("count", "a stamp adds 1 or more stamps")
	}
	if need := prog.StampMinPurchase * p.Points; p.Kind == Stamp && need > 0 && p.PurchaseAmount < need {
		return line{}, &PurchaseTooSmallError{Need: need, Purchase: p.PurchaseAmount}
	}
	goal := int64(prog.StampsRequired)
	if goal < 1 {
		return line{}, fmt.Errorf("program %s has no stamp goal", prog.ID)
	}
	_, rewards := StampGoal(c.Balance, p.Points, goal)
	converted := rewards * goal
	// The reward takes the card's stamps before the new ones; the new
	// ones it leaves make the line's lot.
	fromCard := min(converted, c.Balance)
	l := line{Kind: p.Kind, Points: p.Points - converted, Reason: p.Reason, Rewards: rewards,
		lot: p.Points - (converted - fromCard), LifetimePoints: p.Points}
	l.credit = l.lot > 0
	if fromCard > 0 {
		l.uses = Consume(OrderLots(st.Lots, ""), fromCard)
	}
	if p.Kind == Stamp && p.PurchaseAmount > 0 {
		l.PurchaseAmount, l.Purchase, l.LifetimeSpend = p.PurchaseAmount, true, p.PurchaseAmount
	}
	return l, nil
}
