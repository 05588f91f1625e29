package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// Refunds on the cashier page. A points or discount card's recent
// purchases that still have money to give back are offered in one form:
// a choice of the purchase and the amount (blank: all that is left of
// it). The posting is the API's refund, as a POS sends it, so the ledger
// takes back what the refunded part earned, the tier what it counted,
// and a referral its bonuses when the purchase falls below the minimum.

// refundable is a purchase of the card that can still be refunded.
type refundable struct {
	ID    string
	Left  int64  // minor units not yet refunded
	Label string // the purchase as the cashier picks it
}

// The purchases offered for refund: the newest maxRefundable with money
// left, among the card's last refundLookback ledger lines.
const (
	maxRefundable  = 10
	refundLookback = 50
)

// refundables lists card's purchases with money left to refund, newest
// first, each labelled with its time in the merchant's zone (its date
// too when not today there).
func (con *Console) refundables(c *gin.Context, v *viewer, serial string) ([]refundable, error) {
	ctx, mid, lang := c.Request.Context(), v.user.MerchantID, v.lang
	var ledger struct {
		Transactions []apiTransaction `json:"transactions"`
	}
	err := con.api.call(ctx, mid, http.MethodGet, "/api/v1/cards/"+url.PathEscape(serial)+"/transactions?limit="+
		strconv.Itoa(refundLookback), nil, "", &ledger)
	if err != nil {
		return nil, err
	}
	loc, err := con.zone(ctx, mid)
	if err != nil {
		return nil, err
	}
	today := con.now().In(loc).Format(time.DateOnly)
	var out []refundable
	for _, t := range ledger.Transactions {
		left := t.PurchaseAmount - t.RefundedAmount
		if t.Kind != loyalty.Earn && t.Kind != loyalty.Purchase || left <= 0 {
			continue
		}
		at := t.CreatedAt.In(loc)
		label := at.Format("15:04") + " · " + lang.Money(t.PurchaseAmount)
		if at.Format(time.DateOnly) != today { // lang.Date writes the UTC calendar day: give it the local one
			label = lang.Date(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)) + " " + label
		}
		if t.RefundedAmount > 0 {
			label += " · " + lang.Text("con_cashier_refund_left", "amount", lang.Money(left))
		}
		out = append(out, refundable{ID: t.ID, Left: left, Label: label})
		if len(out) == maxRefundable {
			break
		}
	}
	return out, nil
}

// refundFields are the refund form's fields: the purchase (the newest
// chosen) and the amount.
func refundFields(v *viewer, card *cashierCard) []cashierField {
	lang := v.lang
	pick := cashierField{ID: "refund-purchase", Name: "transaction", Label: lang.Text("con_cashier_refund_purchase"),
		Required: true}
	for _, p := range card.purchases {
		pick.Options = append(pick.Options, cashierOption{Value: p.ID, Label: p.Label})
	}
	if len(card.purchases) > 0 {
		pick.Value = card.purchases[0].ID
	}
	amount := cashierField{ID: "refund-amount", Name: "value", Label: lang.Text("con_cashier_refund_amount"), Mode: "decimal"}
	return []cashierField{pick, amount}
}

// refundBody reads the refund form into body: the purchase must be one
// the page offers, the amount no more than is left of it (blank: all of
// it).
func refundBody(v *viewer, card *cashierCard, f *cashierForm, body map[string]any) {
	lang, id, typed := v.lang, f.fieldValue("transaction"), f.fieldValue("value")
	body["transaction_id"] = id
	amount, ok := parseMoney(typed)
	if typed != "" {
		body["purchase_amount"] = amount
	}
	i := slices.IndexFunc(card.purchases, func(p refundable) bool { return p.ID == id })
	switch {
	case i < 0:
		f.Errors["transaction"] = lang.Text("con_err_refund_purchase")
	case typed == "": // all that is left
	case !ok || amount <= 0:
		f.Errors["value"] = lang.Text("con_err_refund_amount")
	case amount > card.purchases[i].Left:
		f.Errors["value"] = lang.Text("con_err_refund_left", "amount", lang.Money(card.purchases[i].Left))
	}
}
