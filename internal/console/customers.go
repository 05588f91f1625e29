package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Customers screen: search by phone, name or card number, and issue a
// card. Issuing goes through the API's card route, so the card is the
// API's (idempotent per phone, welcome bonus, webhook).

// maxResults bounds a search's answer.
const maxResults = 50

type customersView struct {
	layout
	Query    string
	Searched bool
	Results  []customerRow
	Programs []option
	Issue    issueForm
	Errors   formErrors
}

type customerRow struct {
	CustomerID, Name, Phone, Number, Program, Balance, Status string
}

type issueForm struct {
	Program, Phone, Name, Email string
	SMSConsent                  bool
}

func (con *Console) customersShow(c *gin.Context, v *viewer) {
	con.renderCustomers(c, v, http.StatusOK, issueForm{}, formErrors{})
}

func (con *Console) renderCustomers(c *gin.Context, v *viewer, status int, f issueForm, errs formErrors) {
	ctx := c.Request.Context()
	progs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	names := map[string]string{}
	cv := &customersView{layout: con.newLayout(c, v, v.lang.Text("con_nav_customers")), Issue: f, Errors: errs,
		Query: strings.TrimSpace(c.Query("q"))}
	for _, p := range progs {
		names[p.ID] = p.Name
		cv.Programs = append(cv.Programs, option{Value: p.ID, Text: p.Name, Selected: p.ID == f.Program})
	}
	if cv.Query != "" && len(cv.Query) <= 100 {
		m, err := con.opts.Merchants.Merchant(ctx, v.user.MerchantID)
		if err != nil {
			con.fail(c, err)
			return
		}
		cards, err := con.opts.Customers.Search(ctx, v.user.MerchantID, customerQuery(cv.Query, m.Country), maxResults)
		if err != nil {
			con.fail(c, err)
			return
		}
		cv.Searched = true
		for _, card := range cards {
			cv.Results = append(cv.Results, customerRow{CustomerID: card.CustomerID, Name: card.Customer.Name,
				Phone: card.Customer.Phone, Number: card.Number, Program: names[card.ProgramID],
				Balance: v.lang.Points(card.Balance), Status: card.Status})
		}
	}
	con.render(c, status, "customers", cv)
}

// customerQuery reads what was typed into the search box: a phone number
// (whole, or its last digits), a card number, or else part of a name.
func customerQuery(q, country string) store.CustomerQuery {
	if strings.Trim(q, "+0123456789 ()-") != "" {
		return store.CustomerQuery{Name: q}
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	out := store.CustomerQuery{Number: strings.ReplaceAll(q, " ", "")}
	if e164, err := phone.Normalize(q, country); err == nil {
		out.Phone = e164
	}
	if len(digits) >= 4 && len(digits) <= 10 {
		out.PhoneDigits = digits
	}
	return out
}

// customersIssue issues a card through the API and opens its customer.
func (con *Console) customersIssue(c *gin.Context, v *viewer) {
	f := issueForm{Program: postForm(c, "program"), Phone: postForm(c, "phone"), Name: postForm(c, "name"),
		Email: postForm(c, "email"), SMSConsent: postForm(c, "sms_consent") == "yes"}
	errs := formErrors{}
	if f.Program == "" {
		errs["program"] = v.lang.Text("con_err_program")
		con.renderCustomers(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	token := formToken(c)
	if token == "" {
		con.renderCustomers(c, v, http.StatusUnprocessableEntity, f, formErrors{"": v.lang.Text("con_err_reload")})
		return
	}
	// Issuing to a phone that has the program's card returns that card
	// and records nothing; the token keeps the entry to one all the same.
	var card apiCard
	err := con.api.call(con.audited(c, v, store.AuditEntry{Action: "card.issue", Ref: "form:" + token}), v.user.MerchantID, http.MethodPost,
		"/api/v1/programs/"+url.PathEscape(f.Program)+"/cards",
		map[string]any{"phone": f.Phone, "name": f.Name, "email": f.Email, "sms_consent": f.SMSConsent}, "", &card)
	if ae, ok := asAPIError(err); ok {
		if ae.Status == http.StatusNotFound {
			ae.Field = "program"
		}
		errs.fromAPI(ae, v.lang, nil)
		con.renderCustomers(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	found, err := con.opts.Customers.Search(c.Request.Context(), v.user.MerchantID,
		store.CustomerQuery{Number: card.Number}, 1)
	if err != nil || len(found) == 0 {
		con.fail(c, errors.Join(err, errors.New("issued card not found")))
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/customers/"+url.PathEscape(found[0].CustomerID)+"#card-"+card.Number)
}

// customerCards returns the customer of the route's :id with their cards,
// or answers 404 itself.
func (con *Console) customerCards(c *gin.Context, v *viewer) ([]loyalty.Card, bool) {
	cards, err := con.opts.Customers.CustomerCards(c.Request.Context(), v.user.MerchantID, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return nil, false
	}
	if len(cards) == 0 {
		con.notFound(c)
		return nil, false
	}
	return cards, true
}
