package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The cashier page: find a card by scanning its code with the camera
// (cashier.js) or typing its number, see the customer and what the card
// holds by its kind, and act on it: earn or redeem points, stamp or
// redeem a reward, record a purchase on a discount card, redeem a coupon,
// spend from or load a gift card, refund a purchase (cashier_refund.go).
// Each form carries an idempotency key made when it was shown, so a
// double tap or a resent form posts once; the posting is the API's
// transaction route (cashier_post.go).

type cashierView struct {
	layout
	Number   string
	NotFound bool
	Card     *cashierCard
	// Last is the card's newest ledger line, shown after a posting.
	Last string
	// Forms are the actions the card's kind takes, in the order shown.
	Forms   []cashierForm
	Decoder string // the URL of the fallback QR decoder
}

type cashierCard struct {
	Serial, Number, Name, Program, Tier, Status string
	Active                                      bool
	// Facts are what the card holds, by its kind; the first is the
	// headline figure (id "balance").
	Facts []cashierFact
	kind  string
	prog  apiProgram
	card  apiCard
	// purchases are those the card can refund, when its kind refunds.
	purchases []refundable
}

// cashierFact is one thing the card holds: a label and its value; ID
// names the element for tests and screen readers.
type cashierFact struct {
	ID, Label, Value string
}

// cashierForm is one action's form: the transaction kind it posts, its
// idempotency key, its fields (none: a button alone), and its errors.
type cashierForm struct {
	Action, Key, Button string
	// Secondary draws the button as the lesser action; Focus puts the
	// focus in the form (the first one's, or the one that came back with
	// its errors).
	Secondary, Focus bool
	Fields           []cashierField
	Errors           formErrors
}

// cashierField is one input of an action's form. Name is the posted name
// ("value" for the action's one figure, "purchase" for a stamp's
// purchase amount).
type cashierField struct {
	ID, Name, Label, Value, Mode string
	Required, Focus              bool
	// Options make the field a choice of one of them.
	Options []cashierOption
}

// cashierOption is one choice of a field: the value posted and the label.
type cashierOption struct{ Value, Label string }

// cashierActions are the actions the cashier page offers, by card kind;
// the API decides what each does. Adjustments (which need a reason and a
// manager) are on the customer's page, not here.
var cashierActions = map[string][]string{
	loyalty.KindPoints:   {loyalty.Earn, loyalty.Redeem, loyalty.Refund},
	loyalty.KindStamps:   {loyalty.Stamp, loyalty.RedeemReward},
	loyalty.KindDiscount: {loyalty.Purchase, loyalty.Refund},
	loyalty.KindCoupon:   {loyalty.RedeemCoupon},
	loyalty.KindGift:     {loyalty.Spend, loyalty.Load},
}

func (con *Console) cashierShow(c *gin.Context, v *viewer) {
	con.renderCashier(c, v, http.StatusOK, c.Query("number"), nil)
}

// renderCashier draws the page for number; failed, when set, is the form
// that comes back with what was typed and its errors.
func (con *Console) renderCashier(c *gin.Context, v *viewer, status int, number string, failed *cashierForm) {
	lang := v.lang
	cv := &cashierView{layout: con.newLayout(c, v, lang.Text("con_nav_cashier")),
		Number: cardNumber(number), Decoder: con.static.urls["jsQR.js"]}
	cv.Scripts = []string{"cashier.js"}
	if cv.Number != "" {
		card, err := con.findCard(c, v, cv.Number)
		if err != nil {
			con.fail(c, err)
			return
		}
		cv.NotFound = card == nil
		if card != nil {
			cv.Card = card
			if card.Active {
				cv.Forms = cashierForms(v, card, failed)
			}
			if c.Query("done") == "1" && failed == nil {
				cv.Last, err = con.lastLine(c, v, card)
				if err != nil {
					con.fail(c, err)
					return
				}
			}
		}
	}
	if cv.NotFound && status == http.StatusOK {
		status = http.StatusNotFound
	}
	con.render(c, status, "cashier", cv)
}

// cashierForms are the forms of card's actions, each with a fresh key;
// failed replaces the one it names.
func cashierForms(v *viewer, card *cashierCard, failed *cashierForm) []cashierForm {
	var out []cashierForm
	for i, action := range cashierActions[card.kind] {
		if failed != nil && failed.Action == action {
			f := *failed
			f.Secondary = i > 0
			out = append(out, f)
			continue
		}
		f, ok := newCashierForm(v, card, action)
		if !ok {
			continue
		}
		f.Secondary = i > 0
		out = append(out, f)
	}
	for i := range out {
		out[i].Focus = failed == nil && i == 0 || failed != nil && out[i].Action == failed.Action
		if out[i].Focus {
			focusField(&out[i])
		}
	}
	return out
}

// focusField puts the focus of f on its first field with an error, or
// on its first field.
func focusField(f *cashierForm) {
	if len(f.Fields) == 0 {
		return
	}
	at := slices.IndexFunc(f.Fields, func(fl cashierField) bool { return f.Errors[fl.Name] != "" })
	f.Fields[max(at, 0)].Focus = true
}

// newCashierForm is the empty form of action on card; false when the card
// cannot take it now (a coupon that is no longer active, no purchase left
// to refund).
func newCashierForm(v *viewer, card *cashierCard, action string) (cashierForm, bool) {
	lang := v.lang
	f := cashierForm{Action: action, Key: newToken(), Errors: formErrors{}}
	field := func(id, label, mode, value string) cashierField {
		return cashierField{ID: id, Name: "value", Label: lang.Text(label), Mode: mode, Value: value, Required: true}
	}
	switch action {
	case loyalty.Earn:
		f.Button, f.Fields = lang.Text("con_earn"), []cashierField{field("amount", "con_cashier_amount", "decimal", "")}
	case loyalty.Redeem:
		f.Button, f.Fields = lang.Text("con_redeem"), []cashierField{field("redeem-points", "con_cashier_redeem_points", "numeric", "")}
	case loyalty.Stamp:
		f.Button, f.Fields = lang.Text("con_cashier_stamp"), []cashierField{field("stamp-count", "con_cashier_stamps", "numeric", "1")}
		if card.prog.StampMinPurchase > 0 {
			amount := field("stamp-purchase", "con_cashier_amount", "decimal", "")
			amount.Name = "purchase"
			f.Fields = append(f.Fields, amount)
		}
	case loyalty.RedeemReward:
		f.Button = lang.Text("con_cashier_redeem_reward", "reward", card.prog.Reward)
	case loyalty.Purchase:
		f.Button, f.Fields = lang.Text("con_cashier_purchase"), []cashierField{field("purchase-amount", "con_cashier_amount", "decimal", "")}
	case loyalty.RedeemCoupon:
		f.Button = lang.Text("con_cashier_redeem_coupon")
		return f, card.card.CouponState == loyalty.CouponActive
	case loyalty.Spend:
		f.Button, f.Fields = lang.Text("con_cashier_spend"), []cashierField{field("spend-amount", "con_cashier_spend_amount", "decimal", "")}
	case loyalty.Load:
		f.Button, f.Fields = lang.Text("con_cashier_load"), []cashierField{field("load-amount", "con_cashier_load_amount", "decimal", "")}
	case loyalty.Refund:
		f.Button, f.Fields = lang.Text("con_cashier_refund"), refundFields(v, card)
		return f, len(card.purchases) > 0
	default:
		return f, false
	}
	return f, true
}

// cardNumber is a typed or scanned card number without its spaces.
func cardNumber(s string) string {
	s = strings.Join(strings.Fields(s), "")
	if len(s) > 64 {
		return ""
	}
	return s
}

// findCard looks the number up through the API, as a POS does; nil when
// there is no such card.
func (con *Console) findCard(c *gin.Context, v *viewer, number string) (*cashierCard, error) {
	ctx, mid := c.Request.Context(), v.user.MerchantID
	var found struct {
		Cards []apiCard `json:"cards"`
	}
	err := con.api.call(ctx, mid, http.MethodGet, "/api/v1/cards?number="+url.QueryEscape(number), nil, "", &found)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound || err == nil && len(found.Cards) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	card := found.Cards[0]
	var p apiProgram
	if err := con.api.call(ctx, mid, http.MethodGet, "/api/v1/programs/"+url.PathEscape(card.ProgramID), nil, "", &p); err != nil {
		return nil, err
	}
	tier := card.Tier // tiers are a points and a discount card's
	if k := kindOf(p); k != loyalty.KindPoints && k != loyalty.KindDiscount {
		tier = ""
	}
	cc := &cashierCard{Serial: card.SerialNumber, Number: card.Number, Name: card.Customer.Name, Program: p.Name,
		Tier: tier, Status: card.Status, Active: card.Status == loyalty.CardActive, kind: kindOf(p), prog: p, card: card}
	cc.Facts = cardFacts(v, cc)
	if cc.Active && slices.Contains(cashierActions[cc.kind], loyalty.Refund) {
		if cc.purchases, err = con.refundables(c, v, cc.Serial); err != nil {
			return nil, err
		}
	}
	return cc, nil
}

// cardFacts says what card holds, the way its kind counts.
func cardFacts(v *viewer, card *cashierCard) []cashierFact {
	lang, c, p := v.lang, card.card, card.prog
	var out []cashierFact
	add := func(id, label, value string) {
		out = append(out, cashierFact{ID: id, Label: lang.Text(label), Value: value})
	}
	switch card.kind {
	case loyalty.KindStamps:
		var stamps, rewards int64
		if c.Stamps != nil {
			stamps = *c.Stamps
		}
		if c.RewardsAvailable != nil {
			rewards = *c.RewardsAvailable
		}
		add("balance", "con_cashier_stamps_held", lang.StampsOf(stamps, c.StampsRequired))
		add("rewards", "con_cashier_rewards", lang.Int(rewards)+" · "+p.Reward)
	case loyalty.KindDiscount:
		add("balance", "con_cashier_discount", lang.Int(int64(c.DiscountPercent))+"\u00a0%")
	case loyalty.KindCoupon:
		add("balance", "con_cashier_offer", p.Offer)
		add("coupon-state", "con_cashier_coupon_state", lang.Text("con_coupon_"+c.CouponState))
		if c.ValidUntil != nil {
			add("valid-until", "con_cashier_valid_until", lang.Date(*c.ValidUntil))
		}
		if c.RedeemedAt != nil {
			add("redeemed-at", "con_cashier_redeemed_at", when(lang, *c.RedeemedAt))
		}
	case loyalty.KindGift:
		add("balance", "con_balance", giftMoney(v, c.Balance, c.Currency))
	default:
		add("balance", "con_balance", lang.Points(c.Balance))
	}
	return out
}

// giftMoney writes minor units of a gift card's currency.
func giftMoney(v *viewer, minor int64, currency string) string {
	digits, ok := loyalty.CurrencyDigits(currency)
	if !ok {
		digits = 2
	}
	return v.lang.MoneyIn(minor, currency, digits)
}

// lastLine describes the card's newest ledger line in the card's unit.
func (con *Console) lastLine(c *gin.Context, v *viewer, card *cashierCard) (string, error) {
	var ledger struct {
		Transactions []apiTransaction `json:"transactions"`
	}
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/cards/"+url.PathEscape(card.Serial)+"/transactions?limit=1", nil, "", &ledger)
	if err != nil || len(ledger.Transactions) == 0 {
		return "", err
	}
	t, lang := ledger.Transactions[0], v.lang
	what := lang.Text("con_txn_" + t.Kind)
	if t.Kind == loyalty.Refund { // money given back, and on a points card the points it had earned
		if card.kind == loyalty.KindPoints {
			return what + " " + lang.Money(-t.PurchaseAmount) + " · " + signed(lang.Int(t.Points), t.Points), nil
		}
		return what + " " + lang.Money(-t.PurchaseAmount), nil
	}
	switch card.kind {
	case loyalty.KindStamps:
		if t.Rewards != 0 {
			return what + " " + signed(lang.Int(t.Points), t.Points) + " · " + lang.Text("con_cashier_rewards") + " " +
				signed(lang.Int(t.Rewards), t.Rewards), nil
		}
		return what + " " + signed(lang.Int(t.Points), t.Points), nil
	case loyalty.KindDiscount:
		return what + " " + lang.Money(t.PurchaseAmount), nil
	case loyalty.KindCoupon:
		return what, nil
	case loyalty.KindGift:
		return what + " " + signed(giftMoney(v, t.Points, card.card.Currency), t.Points), nil
	}
	return what + " " + signed(lang.Int(t.Points), t.Points), nil
}
