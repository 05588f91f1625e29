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
	ExpiresAt      *time.Time
	CreatedAt      time.Time
}

// Posting asks for one ledger line on a card. Which fields matter depends
// on Kind: earn takes PurchaseAmount; redeem takes Points (> 0); adjust
// takes signed Points and a Reason; refund takes RefundOf and optionally
// PurchaseAmount (zero refunds what is left of the purchase); welcome
// takes Points.
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
// lots, so that Post needs them in State.Lots.
func (p Posting) Debits() bool {
	return p.Kind == Redeem || p.Kind == Refund || p.Kind == Adjust && p.Points < 0
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
	Lot            bool     // a credit that later debits draw on
	Purchase       bool     // counts as the card's last purchase
	LifetimePoints int64    // change of the card's lifetime points
	LifetimeSpend  int64    // change of the card's lifetime spend
	RefundedAmount int64    // for a refund: amount to add to the earn line
	uses           []LotUse // set beforehand by an expiry; else drawn by apply
}

// Post decides what req does to the card in st at now: the line, the
// card's new balance, tier and totals, and the points it takes from which
// lots. It refuses a voided card (ErrCardVoided), a balance that would go
// below zero (*InsufficientPointsError), a refund of something that is
// not an earn of the card (ErrRefundTarget) or of more than is left of
// the purchase (*RefundTooLargeError).
func Post(st State, req Posting, now time.Time) (Outcome, error) {
	if st.Card.Status != CardActive {
		return Outcome{}, ErrCardVoided
	}
	if kind := st.Program.Kind; kind != "" && kind != KindPoints {
		return Outcome{}, fmt.Errorf("%w: program kind %q", ErrUnknownKind, kind)
	}
	l, err := decide(st, req)
	if err != nil {
		return Outcome{}, err
	}
	return apply(st, l, now)
}

// decide turns a posting into a line by the program's rules.
func decide(st State, p Posting) (line, error) {
	c := st.Card
	switch p.Kind {
	case Earn:
		pts := st.Program.Rules().EarnPoints(p.PurchaseAmount, c.Tier)
		return line{Kind: p.Kind, Points: pts, PurchaseAmount: p.PurchaseAmount, Reason: p.Reason, Lot: true,
			Purchase: true, LifetimePoints: pts, LifetimeSpend: p.PurchaseAmount}, nil
	case Redeem:
		if c.Balance < p.Points {
			return line{}, &InsufficientPointsError{Balance: c.Balance, Debit: p.Points}
		}
		return line{Kind: p.Kind, Points: -p.Points, Reason: p.Reason}, nil
	case Adjust:
		if c.Balance+p.Points < 0 {
			return line{}, &InsufficientPointsError{Balance: c.Balance, Debit: -p.Points}
		}
		return line{Kind: p.Kind, Points: p.Points, Reason: p.Reason, Lot: p.Points > 0}, nil
	case Welcome:
		return line{Kind: p.Kind, Points: p.Points, Reason: p.Reason, Lot: true}, nil
	case Refund:
		return refund(c, st.Earn, p)
	}
	return line{}, fmt.Errorf("%w: transaction kind %q", ErrUnknownKind, p.Kind)
}

// refund decides what a refund of part or all of earn's purchase reverses.
func refund(c Card, earn *Transaction, p Posting) (line, error) {
	if earn == nil || earn.Kind != Earn || earn.SerialNumber != c.SerialNumber {
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
// balance, totals, tier and version.
func apply(st State, l line, now time.Time) (Outcome, error) {
	c := st.Card
	if l.Points < 0 && l.uses == nil {
		l.uses = Consume(OrderLots(st.Lots, l.RefundOf), -l.Points)
	}
	var used int64
	for _, u := range l.uses {
		used += u.Points
	}
	if l.Points < 0 && used != -l.Points {
		return Outcome{}, fmt.Errorf("card %s: %w: lots hold %d points, the debit needs %d",
			c.SerialNumber, ErrLotsOutOfBalance, used, -l.Points)
	}
	balance := c.Balance + l.Points
	if balance < 0 {
		return Outcome{}, &InsufficientPointsError{Balance: c.Balance, Debit: -l.Points}
	}
	rules := st.Program.Rules()
	out := Outcome{Card: c, Uses: l.uses, Purchase: l.Purchase, Refunded: l.RefundedAmount}
	n := &out.Card
	n.Balance = balance
	n.LifetimePoints += l.LifetimePoints
	n.LifetimeSpend += l.LifetimeSpend
	n.Tier = rules.TierFor(c.Tier, n.LifetimePoints, n.LifetimeSpend)
	n.Version++
	n.UpdatedAt = now
	if l.Purchase {
		n.LastPurchaseAt = &now
	}
	out.Line = Transaction{SerialNumber: c.SerialNumber, Seq: n.Version, Kind: l.Kind, Points: l.Points,
		PurchaseAmount: l.PurchaseAmount, Reason: l.Reason, RefundOf: l.RefundOf, BalanceAfter: balance, CreatedAt: now}
	if l.Lot {
		out.Lot = l.Points
		out.Line.ExpiresAt = ExpiresAt(rules, now)
	}
	return out, nil
}
