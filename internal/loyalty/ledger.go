package loyalty

import (
	"fmt"
	"time"
)

// Transaction is one line of the ledger.
type Transaction struct {
	ID             string
	SerialNumber   string
	Seq            int64 // the card's version after this line
	Kind           string
	Points         int64
	PurchaseAmount int64
	Reason         string
	RefundOf       string
	RefundedAmount int64 // on an earn: how much of the purchase was refunded
	BalanceAfter   int64
	// Rewards is the line's change of a stamp card's rewards available.
	Rewards   int64
	ExpiresAt *time.Time
	CreatedAt time.Time
}

// Posting asks for one ledger line on a card. Which fields matter depends
// on Kind: earn takes PurchaseAmount; redeem takes Points (> 0); adjust
// takes signed Points and a Reason; refund takes RefundOf and optionally
// PurchaseAmount (zero refunds what is left of the purchase); welcome
// takes Points. Points always counts the card's own unit: a stamp takes
// the number of stamps in Points (and the purchase, if the program sets
// a minimum per stamp); load and spend the amount in minor units;
// purchase a PurchaseAmount; redeem_reward and redeem_coupon nothing.
type Posting struct {
	MerchantID     string
	Serial         string
	Kind           string
	PurchaseAmount int64
	Points         int64
	Reason         string
	RefundOf       string
	// IdempotencyKey and RequestHash make the posting safe to retry: the
	// same key and hash return the stored answer and write nothing.
	IdempotencyKey string
	RequestHash    []byte
}

// Debits reports whether the posting may take points from the card's
// lots, so that Post needs them in State.Lots. A stamp may too, when it
// completes a goal: State.NeedsLots knows, from the card.
func (p Posting) Debits() bool {
	switch p.Kind {
	case Redeem, Refund, RedeemCoupon, Spend:
		return true
	case Adjust:
		return p.Points < 0
	}
	return false
}

// NeedsLots reports whether Post needs the card's lots in st.Lots to
// decide p: a debit, or stamps that complete a goal and so take the
// card's stamps into a reward. st needs Card and Program only.
func (st State) NeedsLots(p Posting) bool {
	if st.Program.KindOf() == KindStamps && (p.Kind == Stamp || p.Kind == Adjust && p.Points > 0) {
		goal := int64(st.Program.StampsRequired)
		return goal > 0 && st.Card.Balance+p.Points >= goal
	}
	return p.Debits()
}

// State is what the ledger holds of a card when a posting arrives.
type State struct {
	Card    Card
	Program Program // its rules: earn rate, tiers, points lifetime
	// Lots are the card's open lots, in any order. Post reads them only
	// for a posting that Debits.
	Lots []Lot
	// Earn is, for a refund, the card's line named by RefundOf; nil when
	// there is none.
	Earn *Transaction
}

// Outcome is what a posting does, for the store to save.
type Outcome struct {
	// Line is the ledger line to write; the store gives it its ID.
	Line Transaction
	// Card is the card after the line: balance, tier, lifetime totals,
	// version, UpdatedAt and, for a purchase, LastPurchaseAt.
	Card Card
	// Uses is what the line takes from each of the card's lots.
	Uses []LotUse
	// Lot is what later debits may draw on the new line: its points for a
	// credit that makes a lot, otherwise 0.
	Lot int64
	// Purchase tells that the line is a purchase (the card's last one).
	Purchase bool
	// Refunded is, for a refund, the purchase amount to add to the
	// refunded earn's RefundedAmount.
	Refunded int64
}

// line is a ledger line decided but not yet applied to the card.
type line struct {
	Kind           string
	Points         int64 // signed
	PurchaseAmount int64
	Reason         string
	RefundOf       string
	Rewards        int64 // signed change of the rewards available
	// credit marks a line that makes a lot later debits draw on; lot is
	// how many points that lot holds (Points, unless stamps of the line
	// went into a reward at once), and expiresAt, when set, when it
	// lapses instead of the program's points lifetime.
	credit         bool
	lot            int64
	expiresAt      *time.Time
	Purchase       bool     // counts as the card's last purchase
	LifetimePoints int64    // change of the card's lifetime points
	LifetimeSpend  int64    // change of the card's lifetime spend
	RefundedAmount int64    // for a refund: amount to add to the earn line
	redeemed       bool     // a coupon's redemption
	uses           []LotUse // set beforehand by an expiry or a stamp goal; else drawn by apply
}

// creditLine is a line that credits points as a lot of their own.
func creditLine(kind string, points int64, reason string) line {
	return line{Kind: kind, Points: points, Reason: reason, credit: true, lot: points}
}

// Post decides what req does to the card in st at now: the line, the
// card's new balance, rewards, tier and totals, and the points it takes
// from which lots, by the rules of the program's kind. It refuses a
// voided card (ErrCardVoided), a transaction the program's kind has no
// rule for (*KindMismatchError), a balance that would go below zero
// (*InsufficientPointsError, for a gift card *InsufficientFundsError), a
// refund of something that is not a purchase of the card
// (ErrRefundTarget) or of more than is left of it (*RefundTooLargeError),
// and the refusals of each kind: ErrNoReward, ErrCouponRedeemed,
// ErrCouponExpired, *PurchaseTooSmallError.
func Post(st State, req Posting, now time.Time) (Outcome, error) {
	if st.Card.Status != CardActive {
		return Outcome{}, ErrCardVoided
	}
	l, err := decide(st, req, now)
	if err != nil {
		return Outcome{}, err
	}
	return apply(st, l, now)
}

// decide turns a posting into a line by the rules of the program's kind.
func decide(st State, p Posting, now time.Time) (line, error) {
	kind := st.Program.KindOf()
	if err := checkTransactionKind(kind, p.Kind); err != nil {
		return line{}, err
	}
	switch kind {
	case KindStamps:
		return decideStamps(st, p)
	case KindDiscount:
		return decideDiscount(st, p)
	case KindCoupon:
		return decideCoupon(st, p, now)
	case KindGift:
		return decideGift(st, p)
	}
	return decidePoints(st, p)
}

// decidePoints is decide for a points program.
func decidePoints(st State, p Posting) (line, error) {
	c := st.Card
	switch p.Kind {
	case Earn:
		pts := st.Program.Rules().EarnPoints(p.PurchaseAmount, c.Tier)
		l := creditLine(p.Kind, pts, p.Reason)
		l.PurchaseAmount, l.Purchase, l.LifetimePoints, l.LifetimeSpend = p.PurchaseAmount, true, pts, p.PurchaseAmount
		return l, nil
	case Redeem:
		if c.Balance < p.Points {
			return line{}, &InsufficientPointsError{Balance: c.Balance, Debit: p.Points}
		}
		return line{Kind: p.Kind, Points: -p.Points, Reason: p.Reason}, nil
	case Adjust:
		if c.Balance+p.Points < 0 {
			return line{}, &InsufficientPointsError{Balance: c.Balance, Debit: -p.Points}
		}
		if p.Points > 0 {
			return creditLine(p.Kind, p.Points, p.Reason), nil
		}
		return line{Kind: p.Kind, Points: p.Points, Reason: p.Reason}, nil
	case Welcome:
		return creditLine(p.Kind, p.Points, p.Reason), nil
	case Refund:
		return refund(c, st.Earn, p, Earn)
	}
	return line{}, fmt.Errorf("%w: transaction kind %q", ErrUnknownKind, p.Kind)
}

// refund decides what a refund of part or all of earn's purchase reverses;
// the refunded line must be of kind purchase (Earn, or a discount card's
// Purchase).
func refund(c Card, earn *Transaction, p Posting, purchase string) (line, error) {
	if earn == nil || earn.Kind != purchase || earn.SerialNumber != c.SerialNumber {
		return line{}, ErrRefundTarget
	}
	left := earn.PurchaseAmount - earn.RefundedAmount
	amount := p.PurchaseAmount
	if amount == 0 {
		amount = left
	}
	if amount <= 0 || amount > left {
		return line{}, &RefundTooLargeError{Left: left, Purchase: earn.PurchaseAmount}
	}
	reverse := RefundPoints(earn.Points, earn.PurchaseAmount, earn.RefundedAmount, amount)
	// Points already spent cannot be taken back: the balance never goes
	// below zero, so the reversal stops there. The card's lifetime points
	// still lose all of it, so a refund cannot keep a tier it paid for.
	taken := min(reverse, c.Balance)
	return line{Kind: p.Kind, Points: -taken, PurchaseAmount: -amount, Reason: p.Reason, RefundOf: earn.ID,
		LifetimePoints: -reverse, LifetimeSpend: -amount, RefundedAmount: amount}, nil
}

// apply works a line out on the card: the lots a debit draws on, the new
// balance, rewards, totals, tier and version. Whatever the kind, the
// card's lots change by exactly the line's points: what the line's own
// lot holds less what it takes from the others.
func apply(st State, l line, now time.Time) (Outcome, error) {
	c := st.Card
	if l.Points < 0 && l.uses == nil {
		l.uses = Consume(OrderLots(st.Lots, l.RefundOf), -l.Points)
	}
	var used int64
	for _, u := range l.uses {
		used += u.Points
	}
	if l.lot-used != l.Points {
		return Outcome{}, fmt.Errorf("card %s: %w: lots hold %d points, the line needs %d",
			c.SerialNumber, ErrLotsOutOfBalance, used, l.lot-l.Points)
	}
	balance := c.Balance + l.Points
	if balance < 0 {
		if st.Program.KindOf() == KindGift {
			return Outcome{}, &InsufficientFundsError{Balance: c.Balance, Debit: -l.Points}
		}
		return Outcome{}, &InsufficientPointsError{Balance: c.Balance, Debit: -l.Points}
	}
	if c.Rewards+l.Rewards < 0 {
		return Outcome{}, ErrNoReward
	}
	rules := st.Program.Rules()
	out := Outcome{Card: c, Uses: l.uses, Purchase: l.Purchase, Refunded: l.RefundedAmount}
	n := &out.Card
	n.Balance = balance
	n.Rewards += l.Rewards
	n.LifetimePoints += l.LifetimePoints
	n.LifetimeSpend += l.LifetimeSpend
	n.Tier = rules.TierFor(c.Tier, n.LifetimePoints, n.LifetimeSpend)
	n.Version++
	n.UpdatedAt = now
	if l.Purchase {
		n.LastPurchaseAt = &now
	}
	if l.redeemed {
		n.RedeemedAt = &now
	}
	out.Line = Transaction{SerialNumber: c.SerialNumber, Seq: n.Version, Kind: l.Kind, Points: l.Points,
		PurchaseAmount: l.PurchaseAmount, Reason: l.Reason, RefundOf: l.RefundOf, BalanceAfter: balance,
		Rewards: l.Rewards, CreatedAt: now}
	out.Lot = l.lot
	if l.credit {
		out.Line.ExpiresAt = l.expiresAt
		if l.expiresAt == nil {
			out.Line.ExpiresAt = ExpiresAt(rules, now)
		}
	}
	return out, nil
}
