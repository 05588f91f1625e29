package loyalty

import (
	"errors"
	"fmt"
)

// ErrNoBonus refuses a win-back bonus; BonusRefusedError says why.
var ErrNoBonus = errors.New("no win-back bonus")

// BonusRefusal is why a recipient gets no win-back bonus.
type BonusRefusal string

// The reasons a win-back bonus is refused.
const (
	BonusNone     BonusRefusal = "the campaign offers no bonus"
	BonusHoldout  BonusRefusal = "the recipient is in the holdout, which is never texted"
	BonusNotSent  BonusRefusal = "the recipient was not texted"
	BonusCredited BonusRefusal = "the bonus was already credited"
)

// BonusRefusedError is a win-back bonus the domain refuses.
type BonusRefusedError struct {
	Reason BonusRefusal
}

func (e *BonusRefusedError) Error() string { return fmt.Sprintf("%v: %s", ErrNoBonus, e.Reason) }

// Is makes the error match ErrNoBonus.
func (e *BonusRefusedError) Is(target error) bool { return target == ErrNoBonus }

// CampaignRecipient is what the bonus decision needs to know of one
// recipient of a win-back campaign and of the campaign's offer.
type CampaignRecipient struct {
	CampaignID   string
	CampaignName string
	CustomerID   string
	MerchantID   string
	Serial       string
	BonusPoints  int64  // the campaign's bonus; 0 offers none
	BonusOn      string // when it is credited: "open" or "install"
	Holdout      bool   // in the control group: never texted, never offered
	Sent         bool   // the text went out
	Credited     bool   // the bonus was credited already
}

// BonusOffer is the bonus a recipient's page promises: a holdout
// recipient is offered nothing.
func BonusOffer(r CampaignRecipient) int64 {
	if r.Holdout {
		return 0
	}
	return r.BonusPoints
}

// WinBackBonus decides a recipient's win-back bonus: the posting that
// credits it, or a *BonusRefusedError. Only a texted recipient outside the
// holdout is credited, once; the posting's idempotency key is the campaign
// and the customer, so a repeat (a second open, a retry after a crash)
// replays instead of crediting twice.
func WinBackBonus(r CampaignRecipient) (Posting, error) {
	switch {
	case r.Holdout:
		return Posting{}, &BonusRefusedError{BonusHoldout}
	case r.BonusPoints <= 0:
		return Posting{}, &BonusRefusedError{BonusNone}
	case !r.Sent:
		return Posting{}, &BonusRefusedError{BonusNotSent}
	case r.Credited:
		return Posting{}, &BonusRefusedError{BonusCredited}
	}
	key := "campaign-bonus:" + r.CampaignID + ":" + r.CustomerID
	return Posting{MerchantID: r.MerchantID, Serial: r.Serial, Kind: Adjust, Points: r.BonusPoints,
		Reason: "win-back bonus: " + r.CampaignName, IdempotencyKey: key, RequestHash: []byte(key)}, nil
}
