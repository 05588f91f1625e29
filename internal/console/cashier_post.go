package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// cashierPost posts the form's action to the card of the form through the
// API's transaction route, with the form's key as the idempotency key.
// The card is looked up again by its number, so the action must be one
// the page offers for that card's kind: a crafted form cannot reach
// another kind's transactions, nor adjustments.
func (con *Console) cashierPost(c *gin.Context, v *viewer) {
	action, number := postForm(c, "action"), cardNumber(postForm(c, "number"))
	card, err := con.findCard(c, v, number)
	if err != nil {
		con.fail(c, err)
		return
	}
	if card == nil || card.Serial != postForm(c, "serial") {
		con.renderCashier(c, v, http.StatusNotFound, number, nil)
		return
	}
	if !slices.Contains(cashierActions[card.kind], action) {
		con.message(c, v, http.StatusBadRequest, "con_refused_title", "con_refused_body")
		return
	}
	// The card may no longer take the action (a coupon used since the page
	// was shown): the API says why.
	f, _ := newCashierForm(v, card, action)
	f.Key = postForm(c, "key")
	for i := range f.Fields {
		f.Fields[i].Value = postForm(c, f.Fields[i].Name)
	}
	body := cashierBody(v, card, &f)
	// A form sent again after it did its work (from the browser's history)
	// is the API's to answer: the first answer for the same figures, a
	// refusal for changed ones. The page's checks against the card as it
	// is now would refuse it wrongly (a refund's purchase used up by it).
	sent, err := con.formSent(c, v, f.Key)
	if err != nil {
		con.fail(c, err)
		return
	}
	if sent {
		clear(f.Errors)
	}
	if len(f.Key) < 16 || len(f.Key) > 64 {
		f.Errors[""] = v.lang.Text("con_err_reload")
		f.Key = newToken()
	}
	if len(f.Errors) > 0 {
		con.renderCashier(c, v, http.StatusUnprocessableEntity, number, &f)
		return
	}
	var posted apiPosted
	err = con.api.call(con.audited(c, v, store.AuditEntry{Action: "ledger." + action, Subject: card.Number,
		Ref: "form:" + f.Key}), v.user.MerchantID, http.MethodPost,
		"/api/v1/cards/"+url.PathEscape(card.Serial)+"/transactions", body, "console-"+f.Key, &posted)
	if ae, ok := asAPIError(err); ok {
		fields := map[string]string{"purchase_amount": "value", "points": "value", "amount": "value",
			"count": "value", "transaction_id": "transaction", "kind": "", "Idempotency-Key": ""}
		if action == loyalty.Stamp {
			fields["purchase_amount"] = "purchase"
		}
		f.Errors.fromAPI(ae, v.lang, fields)
		if action == loyalty.Refund && ae.Field == "purchase_amount" { // another till refunded it meanwhile
			f.Errors["value"] = v.lang.Text("con_err_refund_changed")
		}
		for name, msg := range f.Errors { // shown beside a field of the form, or above its button
			if name != "" && f.fieldValue(name) == "" && !slices.ContainsFunc(f.Fields, func(fl cashierField) bool { return fl.Name == name }) {
				delete(f.Errors, name)
				f.Errors[""] = msg
			}
		}
		con.renderCashier(c, v, ae.Status, number, &f)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/cashier?number="+url.QueryEscape(posted.Card.Number)+"&done=1")
}

// cashierBody reads f's fields into the API's transaction body for card,
// putting what does not read into f.Errors.
func cashierBody(v *viewer, card *cashierCard, f *cashierForm) map[string]any {
	lang := v.lang
	body := map[string]any{"kind": f.Action}
	value := func() string { return f.fieldValue("value") }
	switch f.Action {
	case loyalty.Earn, loyalty.Purchase:
		amount, ok := parseMoney(value())
		if !ok || amount <= 0 {
			f.Errors["value"] = lang.Text("con_err_amount")
		}
		body["purchase_amount"] = amount
	case loyalty.Redeem:
		points, ok := parseInt(value())
		if !ok || points <= 0 {
			f.Errors["value"] = lang.Text("con_err_points")
		}
		body["points"] = points
	case loyalty.Stamp:
		count, ok := parseInt(value())
		if !ok || count <= 0 {
			f.Errors["value"] = lang.Text("con_err_stamps")
		}
		body["count"] = count
		if card.prog.StampMinPurchase > 0 {
			amount, ok := parseMoney(f.fieldValue("purchase"))
			if !ok || amount <= 0 {
				f.Errors["purchase"] = lang.Text("con_err_amount")
			}
			body["purchase_amount"] = amount
		}
	case loyalty.Refund:
		refundBody(v, card, f, body)
	case loyalty.Spend, loyalty.Load:
		digits, known := loyalty.CurrencyDigits(card.card.Currency)
		if !known {
			digits = 2
		}
		amount, ok := parseMinor(value(), digits)
		if !ok || amount <= 0 {
			f.Errors["value"] = lang.Text("con_err_amount")
		}
		body["amount"] = amount
	}
	return body
}

// fieldValue is what was typed in the field posted as name.
func (f *cashierForm) fieldValue(name string) string {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl.Value
		}
	}
	return ""
}
