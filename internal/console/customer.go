package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// A customer's page: their consents, and every card with its balance,
// installs and ledger, and a form to adjust the balance with a reason.
// The ledger and the installs are the API's; an adjustment is an API
// transaction of kind adjust whose idempotency key was made when the form
// was shown.

// ledgerPage is how many ledger lines a card shows.
const ledgerPage = 50

type customerView struct {
	layout
	CustomerID, Name, Phone, Email, Consent, OptedOut string
	Cards                                             []cardPanel
	Adjusted                                          bool
}

type cardPanel struct {
	Serial, Number, Program, Balance, Status, Tier string
	Active                                         bool
	ShortURL, LastPurchase, NextExpiry             string
	Installs                                       []installRow
	Ledger                                         []ledgerRow
	// The adjustment form: its key, what was typed and its errors.
	Key, Points, Reason string
	Errors              formErrors
}

type installRow struct{ Channel, Installed, Uninstalled, First string }

type ledgerRow struct{ When, Kind, Points, Amount, Balance, Reason string }

func (con *Console) customerShow(c *gin.Context, v *viewer) {
	cards, ok := con.customerCards(c, v)
	if !ok {
		return
	}
	con.renderCustomer(c, v, http.StatusOK, cards, "", cardPanel{})
}

// renderCustomer draws the page; failed, when set, is the serial of the
// card whose adjustment form comes back with what was typed and its errors.
func (con *Console) renderCustomer(c *gin.Context, v *viewer, status int, cards []loyalty.Card, failed string, form cardPanel) {
	ctx, mid, lang := c.Request.Context(), v.user.MerchantID, v.lang
	progs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	names := map[string]string{}
	for _, p := range progs {
		names[p.ID] = p.Name
	}
	cust := cards[0].Customer
	cv := &customerView{layout: con.newLayout(c, v, cust.Name), CustomerID: cust.ID, Name: cust.Name, Phone: cust.Phone, Email: cust.Email,
		Consent: lang.Text("con_consent_none"), Adjusted: c.Query("adjusted") == "1"}
	if cv.Name == "" {
		cv.Title = cust.Phone
	}
	if cust.SMSConsent {
		cv.Consent = lang.Text("con_consent_sms", "source", cust.SMSConsentSource)
		if cust.SMSConsentAt != nil {
			cv.Consent += " · " + when(lang, *cust.SMSConsentAt)
		}
	}
	if cust.OptedOut {
		cv.OptedOut = lang.Text("con_opted_out")
	}
	for _, card := range cards {
		var detail apiCard
		path := "/api/v1/cards/" + url.PathEscape(card.SerialNumber)
		if err := con.api.call(ctx, mid, http.MethodGet, path, nil, "", &detail); err != nil {
			con.fail(c, err)
			return
		}
		var ledger struct {
			Transactions []apiTransaction `json:"transactions"`
		}
		if err := con.api.call(ctx, mid, http.MethodGet, path+"/transactions?limit="+strconv.Itoa(ledgerPage), nil, "", &ledger); err != nil {
			con.fail(c, err)
			return
		}
		p := cardPanel{Serial: card.SerialNumber, Number: card.Number, Program: names[card.ProgramID],
			Balance: lang.Points(detail.Balance), Status: detail.Status, Tier: detail.Tier,
			Active: detail.Status == loyalty.CardActive, ShortURL: detail.ShortURL, Key: newToken(), Errors: formErrors{}}
		if detail.LastPurchaseAt != nil {
			p.LastPurchase = when(lang, *detail.LastPurchaseAt)
		}
		if e := detail.NextExpiry; e != nil {
			p.NextExpiry = lang.Expiring(e.Points, e.At)
		}
		for _, in := range detail.Installs {
			p.Installs = append(p.Installs, installRow{Channel: in.Channel, Installed: strconv.Itoa(in.Installed),
				Uninstalled: strconv.Itoa(in.Uninstalled), First: when(lang, in.FirstInstallAt)})
		}
		for _, t := range ledger.Transactions {
			row := ledgerRow{When: when(lang, t.CreatedAt), Kind: lang.Text("con_txn_" + t.Kind),
				Points: signed(lang.Int(t.Points), t.Points), Balance: lang.Int(t.BalanceAfter), Reason: t.Reason}
			if t.PurchaseAmount != 0 {
				row.Amount = lang.Money(t.PurchaseAmount)
			}
			p.Ledger = append(p.Ledger, row)
		}
		if card.SerialNumber == failed {
			p.Key, p.Points, p.Reason, p.Errors = form.Key, form.Points, form.Reason, form.Errors
		}
		cv.Cards = append(cv.Cards, p)
	}
	con.render(c, status, "customer", cv)
}

// signed puts a plus before a positive number.
func signed(s string, n int64) string {
	if n > 0 {
		return "+" + s
	}
	return s
}

// customerAdjust posts an adjustment to one of the customer's cards.
func (con *Console) customerAdjust(c *gin.Context, v *viewer) {
	cards, ok := con.customerCards(c, v)
	if !ok {
		return
	}
	serial := postForm(c, "serial")
	i := slices.IndexFunc(cards, func(card loyalty.Card) bool { return card.SerialNumber == serial })
	if i < 0 {
		con.notFound(c)
		return
	}
	f := cardPanel{Key: postForm(c, "key"), Points: postForm(c, "points"), Reason: postForm(c, "reason"), Errors: formErrors{}}
	points, ok := parseInt(f.Points)
	if !ok || points == 0 {
		f.Errors["points"] = v.lang.Text("con_err_points_signed")
	}
	if f.Reason == "" {
		f.Errors["reason"] = v.lang.Text("con_err_reason")
	}
	if len(f.Key) < 16 || len(f.Key) > 64 {
		f.Errors[""] = v.lang.Text("con_err_reload")
		f.Key = newToken()
	}
	if len(f.Errors) > 0 {
		con.renderCustomer(c, v, http.StatusUnprocessableEntity, cards, serial, f)
		return
	}
	var posted apiPosted
	ctx := con.audited(c, v, store.AuditEntry{Action: "ledger.adjust", Subject: cards[i].Number,
		Detail: signed(strconv.FormatInt(points, 10), points) + ": " + f.Reason, Ref: "form:" + f.Key})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost,
		"/api/v1/cards/"+url.PathEscape(serial)+"/transactions",
		map[string]any{"kind": loyalty.Adjust, "points": points, "reason": f.Reason}, "console-"+f.Key, &posted)
	if ae, ok := asAPIError(err); ok {
		f.Errors.fromAPI(ae, v.lang, map[string]string{"Idempotency-Key": ""})
		con.renderCustomer(c, v, http.StatusUnprocessableEntity, cards, serial, f)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/customers/"+url.PathEscape(c.Param("id"))+"?adjusted=1#card-"+cards[i].Number)
}
