package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The cashier page: find a card by scanning its code with the camera
// (cashier.js) or typing its number, see the customer and the balance, and
// earn for a purchase or redeem points. Each form carries an idempotency
// key made when it was shown, so a double tap or a resent form posts once;
// the posting is the API's transaction route.

type cashierView struct {
	layout
	Number   string
	NotFound bool
	Card     *cashierCard
	// Last is the card's newest ledger line, shown after a posting.
	Last string
	// Earn and Redeem are the two forms: keys, what was typed, errors.
	Earn, Redeem cashierForm
	Decoder      string // the URL of the fallback QR decoder
}

type cashierCard struct {
	Serial, Number, Name, Program, Balance, Tier, Status string
	Active                                               bool
}

type cashierForm struct {
	Key, Value string
	Errors     formErrors
}

func (con *Console) cashierShow(c *gin.Context, v *viewer) {
	con.renderCashier(c, v, http.StatusOK, c.Query("number"), "", cashierForm{})
}

// renderCashier draws the page for number; failed names the form
// ("earn", "redeem") that comes back with what was typed and its errors.
func (con *Console) renderCashier(c *gin.Context, v *viewer, status int, number, failed string, form cashierForm) {
	lang := v.lang
	cv := &cashierView{layout: con.newLayout(c, v, lang.Text("con_nav_cashier")),
		Number: cardNumber(number), Decoder: con.static.urls["jsQR.js"],
		Earn: cashierForm{Key: newToken(), Errors: formErrors{}}, Redeem: cashierForm{Key: newToken(), Errors: formErrors{}}}
	cv.Scripts = []string{"cashier.js"}
	switch failed {
	case "earn":
		cv.Earn = form
	case "redeem":
		cv.Redeem = form
	}
	if cv.Number != "" {
		card, err := con.findCard(c, v, cv.Number)
		if err != nil {
			con.fail(c, err)
			return
		}
		cv.NotFound = card == nil
		if card != nil {
			cv.Card = card
			if c.Query("done") == "1" {
				cv.Last, err = con.lastLine(c, v, card.Serial)
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
	return &cashierCard{Serial: card.SerialNumber, Number: card.Number, Name: card.Customer.Name, Program: p.Name,
		Balance: v.lang.Points(card.Balance), Tier: card.Tier, Status: card.Status,
		Active: card.Status == loyalty.CardActive}, nil
}

// lastLine describes the card's newest ledger line.
func (con *Console) lastLine(c *gin.Context, v *viewer, serial string) (string, error) {
	var ledger struct {
		Transactions []apiTransaction `json:"transactions"`
	}
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/cards/"+url.PathEscape(serial)+"/transactions?limit=1", nil, "", &ledger)
	if err != nil || len(ledger.Transactions) == 0 {
		return "", err
	}
	t := ledger.Transactions[0]
	return v.lang.Text("con_txn_"+t.Kind) + " " + signed(v.lang.Int(t.Points), t.Points), nil
}

// cashierPost earns or redeems on the card of the form.
func (con *Console) cashierPost(c *gin.Context, v *viewer) {
	action, number, serial := postForm(c, "action"), cardNumber(postForm(c, "number")), postForm(c, "serial")
	f := cashierForm{Key: postForm(c, "key"), Value: postForm(c, "value"), Errors: formErrors{}}
	body := map[string]any{"kind": action}
	switch action {
	case loyalty.Earn:
		amount, ok := parseMoney(f.Value)
		if !ok || amount <= 0 {
			f.Errors["value"] = v.lang.Text("con_err_amount")
		}
		body["purchase_amount"] = amount
	case loyalty.Redeem:
		points, ok := parseInt(f.Value)
		if !ok || points <= 0 {
			f.Errors["value"] = v.lang.Text("con_err_points")
		}
		body["points"] = points
	default: // not a form of ours
		con.message(c, v, http.StatusBadRequest, "con_refused_title", "con_refused_body")
		return
	}
	if len(f.Key) < 16 || len(f.Key) > 64 {
		f.Errors[""] = v.lang.Text("con_err_reload")
		f.Key = newToken()
	}
	if len(f.Errors) > 0 {
		con.renderCashier(c, v, http.StatusUnprocessableEntity, number, action, f)
		return
	}
	var posted apiPosted
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodPost,
		"/api/v1/cards/"+url.PathEscape(serial)+"/transactions", body, "console-"+f.Key, &posted)
	if ae, ok := asAPIError(err); ok {
		f.Errors.fromAPI(ae, v.lang, map[string]string{"purchase_amount": "value", "points": "value", "Idempotency-Key": ""})
		con.renderCashier(c, v, ae.Status, number, action, f)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	t := posted.Transaction
	con.audit(c, v, store.AuditEntry{Action: "ledger." + action, Subject: posted.Card.Number,
		Detail: signed(strconv.FormatInt(t.Points, 10), t.Points), Ref: "txn:" + t.ID})
	c.Redirect(http.StatusSeeOther, "/console/cashier?number="+url.QueryEscape(posted.Card.Number)+"&done=1")
}
