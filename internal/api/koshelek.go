package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// The partner side of «Кошелёк»'s Loyalty Online API: Кошелёк calls it to
// find, issue and show a program's cards, at the program's base URL
// <public_url>/koshelek/{program_id} (koshelek_base_url). This file is
// the one place that knows the API's wire shapes; what the public
// documentation states is marked [D], what only a partner's code shows
// [I], what we inferred [Inf] (../shared/reference/koshelek.md).
//
//   - [D] HTTP Basic with the login the merchant issued, checked in
//     constant time; UTF-8 JSON; every answer carries Content-Type
//     application/json; charset=utf-8 (the documentation writes it with
//     a trailing ";", which is not valid MIME: left out); only 200 and
//     422; a 422 is {"code","description"} and every scalar of any answer
//     is a string.
//   - [D] GET /v1/card?msisdn=&email=&birthDate= finds a card, the
//     parameters combined with OR; unknown ones are ignored; a miss is a
//     200 with an empty body; a blocked (voided) card is a 422, not the
//     card. [Inf] msisdn decides before email (a phone is what Кошелёк
//     verified); birthDate is never a match on its own (thousands share
//     one) and so matches nothing; the parameters are also read from a
//     JSON body, as one copy of the docs lists them as body parameters.
//   - [D] POST /v1/card/anonymous issues a card without reserving a
//     number first (v1.2). Its body is [N]: we take the profile keys a
//     partner's code reads [I] (phone, email, firstname, surname,
//     patronymic, birthDate, …; "msisdn" for the phone too) and answer
//     {"card":{…}} as the search does.
//   - [D] PUT /v1/card/{cardNumber}/communication {"allow":[…],"deny":[…]}
//     is sent when Кошелёк issues the card; each channel becomes a
//     consent record with source "koshelek"; an unknown value is kept.
//   - [I] GET /v1/card/{cardNumber} is the card with "bonus":
//     {"total","available","bonuses":[{"description","amount","validUntil"}]}.
//   - [I] GET /v1/card/{cardNumber}/purchases?startDate=&endDate= is the
//     history: [{"date","item","amount","quantity","location","bonuses"}],
//     amount in minor units. [Inf] startDate may be left out.
//   - [I] PUT or POST /v1/card/{cardNumber} with the profile keys is a
//     profile change; a phone of another card is refused.
//   - [N] The error codes are ours: koshelekCode* below.
//   - The Push Callback API is served at <base URL>/push-callback and
//     below (koshelek_callback.go; its body is push/koshelek.Callback).
//     Both check the login in koshelek_auth.go.

// koshelekContentType is the Content-Type of every answer.
const koshelekContentType = "application/json; charset=utf-8"

// koshelekCallbackPath is the Push Callback API under a program's base
// URL: the callback base URL the merchant gives Cardsmobile.
const koshelekCallbackPath = "/push-callback"

// The error codes of our 422 answers.
const (
	koshelekCodeAuth      = "100" // the login or password is wrong, or the program does not take Кошелёк
	koshelekCodeInvalid   = "101" // a parameter or the body is not what the method takes
	koshelekCodeNotFound  = "102" // no card with that number in the program
	koshelekCodeBlocked   = "103" // the card is blocked (voided): ask the merchant
	koshelekCodeConflict  = "104" // the phone belongs to another card
	koshelekCodeThrottled = "105" // too many failed logins from this address: try later
	koshelekCodeNoMethod  = "106" // no such method
	koshelekCodeInternal  = "500" // our fault: try again
)

// koshelekError is a 422 answer.
type koshelekError struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	err         error
}

func (e *koshelekError) Error() string { return e.Code + ": " + e.Description }

func koshelekFail(code, format string, args ...any) *koshelekError {
	return &koshelekError{Code: code, Description: fmt.Sprintf(format, args...)}
}

var (
	errKoshelekAuth = koshelekFail(koshelekCodeAuth, "authorization failed")
	errNoCard       = koshelekFail(koshelekCodeNotFound, "card not found")
	errBlocked      = koshelekFail(koshelekCodeBlocked, "the card is blocked; please contact the merchant")
)

// koshelekCard is the card object of the answers; every value a string.
type koshelekCard struct {
	CardNumber string          `json:"cardNumber"`
	CardState  string          `json:"cardState"` // active | inactive
	Barcode    koshelekBarcode `json:"barcode"`
	Bonus      *koshelekBonus  `json:"bonus,omitempty"`
	// Discount is a discount card's percent. [Inf] The online card's
	// field is not documented; the offline registry carries a card's
	// "discount" [D], so the card info carries it by that name.
	Discount string `json:"discount,omitempty"`
}

type koshelekBarcode struct {
	BarcodeNumber string `json:"barcodeNumber"`
	BarcodeType   string `json:"barcodeType"` // EAN_8 | EAN_13 | CODE_128 | UPC_A | QR_CODE
}

type koshelekBonus struct {
	Total     string              `json:"total"`
	Available string              `json:"available"`
	Bonuses   []koshelekBonusLine `json:"bonuses"`
}

type koshelekBonusLine struct {
	Description string `json:"description"`
	Amount      string `json:"amount"`
	ValidUntil  string `json:"validUntil,omitempty"`
}

type koshelekPurchase struct {
	Date     string `json:"date"`
	Item     string `json:"item"`
	Amount   string `json:"amount"`
	Quantity string `json:"quantity"`
	Location string `json:"location"`
	Bonuses  string `json:"bonuses"`
}

// koshelekBarcodeType is how Кошелёк draws a program's barcode. It knows
// no PDF417 or Aztec: those programs' numbers are drawn as Code 128,
// which every till scanner reads. [Inf]
func koshelekBarcodeType(format string) string {
	if format == passes.BarcodeQR {
		return "QR_CODE"
	}
	return "CODE_128"
}

func toKoshelekCard(c loyalty.Card, barcodeFormat string) koshelekCard {
	state := "active"
	if c.Status != loyalty.CardActive {
		state = "inactive"
	}
	return koshelekCard{CardNumber: c.Number, CardState: state,
		Barcode: koshelekBarcode{BarcodeNumber: c.Number, BarcodeType: koshelekBarcodeType(barcodeFormat)}}
}

// readProfile reads a profile body leniently: Кошелёк may add keys.
func readProfile(body []byte, country string) (store.KoshelekProfile, *koshelekError) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return store.KoshelekProfile{}, koshelekFail(koshelekCodeInvalid, "the body must be a JSON object")
	}
	str := func(key string) string {
		switch v := raw[key].(type) {
		case string:
			return strings.TrimSpace(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	p := store.KoshelekProfile{Profile: string(body)}
	msisdn := str("phone")
	if msisdn == "" {
		msisdn = str("msisdn")
	}
	if msisdn != "" {
		e164, ok := koshelekPhone(msisdn, country)
		if !ok {
			return p, koshelekFail(koshelekCodeInvalid, "phone is not a phone number: send the digits with the country code")
		}
		p.Phone = e164
	}
	name := strings.Join(strings.Fields(str("firstname")+" "+str("surname")), " ")
	if utf8.RuneCountInString(name) > 100 || strings.ContainsFunc(name, func(c rune) bool { return isControl(c, false) }) {
		name = ""
	}
	p.Name = name
	if e := str("email"); e != "" {
		if a, err := mail.ParseAddress(e); err == nil && a.Address == e && len(e) <= 254 {
			p.Email = e
		}
	}
	if d := str("birthDate"); d != "" {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return p, koshelekFail(koshelekCodeInvalid, "birthDate must be YYYY-MM-DD")
		}
		p.BirthDate = d
	}
	return p, nil
}

// koshelekPhone reads an msisdn (digits, country code first, no "+"; a
// "+" and separators are forgiven) as E.164.
func koshelekPhone(msisdn, country string) (string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return 'x'
	}, msisdn)
	if digits == "" || len(digits) > 15 || strings.Contains(digits, "x") {
		return "", false
	}
	e164, err := phone.Normalize("+"+digits, country)
	return e164, err == nil
}

// koshelekStore is what the partner API needs of the database
// (store.KoshelekStore).
type koshelekStore interface {
	Find(ctx context.Context, programID, phone, email string) (loyalty.Card, error)
	Issue(ctx context.Context, programID string, p store.KoshelekProfile) (loyalty.Card, bool, bool, error)
	Card(ctx context.Context, programID, number string) (loyalty.Card, []loyalty.Lot, error)
	History(ctx context.Context, programID, number string, from, to time.Time, limit int) (loyalty.Card, []loyalty.Transaction, error)
	Communication(ctx context.Context, programID, number string, consents []store.KoshelekConsent, evidence string) (loyalty.Card, bool, error)
	UpdateProfile(ctx context.Context, programID, number string, p store.KoshelekProfile) (loyalty.Card, bool, error)
	RecordInstall(ctx context.Context, serial string, respond store.Respond) error
}

// koshelekHandlers serve the partner API.
type koshelekHandlers struct {
	base
	auth  *koshelekAuth
	store koshelekStore
}

func (h *koshelekHandlers) routes(r gin.IRouter) {
	g := r.Group("/koshelek/:program", h.authenticate)
	g.GET("/v1/card", h.wrapK(h.search))
	g.POST("/v1/card/anonymous", h.wrapK(h.issue))
	g.GET("/v1/card/:number", h.wrapK(h.card))
	g.PUT("/v1/card/:number", h.wrapK(h.profile))
	g.POST("/v1/card/:number", h.wrapK(h.profile))
	g.GET("/v1/card/:number/purchases", h.wrapK(h.history))
	g.PUT("/v1/card/:number/communication", h.wrapK(h.communication))
}

// koshelekHandler is a partner API handler: it returns its error.
type koshelekHandler func(c *gin.Context, kp store.KoshelekProgram) *koshelekError

// authenticate checks the credentials before any route runs.
func (h *koshelekHandlers) authenticate(c *gin.Context) {
	kp, kerr := h.auth.check(c)
	if kerr != nil {
		h.writeKoshelek(c, kerr)
		c.Abort()
		return
	}
	c.Set(koshelekProgramKey, kp)
	c.Next()
}

func (h *koshelekHandlers) wrapK(fn koshelekHandler) gin.HandlerFunc {
	return func(c *gin.Context) {
		kp, _ := c.Get(koshelekProgramKey)
		if h.store == nil {
			h.writeKoshelek(c, errKoshelekAuth)
			return
		}
		if kerr := fn(c, kp.(store.KoshelekProgram)); kerr != nil {
			h.writeKoshelek(c, kerr)
		}
	}
}

// writeKoshelek writes a 422 in the API's shape, logging our own faults.
func (b base) writeKoshelek(c *gin.Context, e *koshelekError) {
	if e.err != nil {
		b.log.ErrorContext(c.Request.Context(), "koshelek request failed", "route", c.FullPath(), "err", e.err)
	} else {
		b.log.DebugContext(c.Request.Context(), "koshelek request refused", "route", c.FullPath(), "code", e.Code)
	}
	body, _ := json.Marshal(e)
	c.Data(http.StatusUnprocessableEntity, koshelekContentType, body)
}

// koshelekOK writes a 200 with v as JSON, or an empty body for nil.
func koshelekOK(c *gin.Context, v any) *koshelekError {
	if v == nil {
		c.Data(http.StatusOK, koshelekContentType, nil)
		return nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return koshelekInternal(err)
	}
	c.Data(http.StatusOK, koshelekContentType, body)
	return nil
}

func koshelekInternal(err error) *koshelekError {
	return &koshelekError{Code: koshelekCodeInternal, Description: "internal error; try again", err: err}
}

// koshelekStoreError maps the store's answers about a card.
func koshelekStoreError(err error) *koshelekError {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoCard
	case errors.Is(err, store.ErrKoshelekBlocked):
		return errBlocked
	case errors.Is(err, store.ErrKoshelekPhoneMismatch):
		return koshelekFail(koshelekCodeConflict, "the phone belongs to another card")
	}
	return koshelekInternal(err)
}

// body reads the request body, at most maxBody bytes.
func (h *koshelekHandlers) body(c *gin.Context) ([]byte, *koshelekError) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, koshelekFail(koshelekCodeInvalid, "the body is larger than %d bytes", h.maxBody)
	}
	if err != nil {
		return nil, koshelekFail(koshelekCodeInvalid, "could not read the body")
	}
	if !utf8.Valid(b) {
		return nil, koshelekFail(koshelekCodeInvalid, "the body is not UTF-8")
	}
	return b, nil
}

func (h *koshelekHandlers) search(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	msisdn, email := c.Query("msisdn"), strings.TrimSpace(c.Query("email"))
	if msisdn == "" && email == "" && c.Request.ContentLength != 0 {
		body, kerr := h.body(c)
		if kerr != nil {
			return kerr
		}
		var in map[string]any
		if json.Unmarshal(bytes.TrimSpace(body), &in) == nil {
			msisdn, _ = in["msisdn"].(string)
			if n, ok := in["msisdn"].(float64); ok {
				msisdn = strconv.FormatFloat(n, 'f', -1, 64)
			}
			e, _ := in["email"].(string)
			email = strings.TrimSpace(e)
		}
	}
	e164, _ := koshelekPhone(msisdn, kp.Country)
	card, err := h.store.Find(c.Request.Context(), kp.Program.ID, e164, email)
	if errors.Is(err, store.ErrNotFound) {
		return koshelekOK(c, nil)
	}
	if err != nil {
		return koshelekStoreError(err)
	}
	return koshelekOK(c, map[string]koshelekCard{"card": toKoshelekCard(card, kp.Program.BarcodeFormat)})
}

func (h *koshelekHandlers) issue(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	body, kerr := h.body(c)
	if kerr != nil {
		return kerr
	}
	p, kerr := readProfile(body, kp.Country)
	if kerr != nil {
		return kerr
	}
	if p.Phone == "" {
		return koshelekFail(koshelekCodeInvalid, "phone is required: the user's verified number, digits with the country code")
	}
	ctx := c.Request.Context()
	card, created, installed, err := h.store.Issue(ctx, kp.Program.ID, p)
	if err != nil {
		return koshelekStoreError(err)
	}
	if created {
		h.log.InfoContext(ctx, "card issued", "serial", card.SerialNumber, "phone", phone.Mask(p.Phone), "channel", store.ChannelKoshelek)
	}
	if kerr := h.installed(ctx, card, installed); kerr != nil {
		return kerr
	}
	return koshelekOK(c, map[string]koshelekCard{"card": toKoshelekCard(card, kp.Program.BarcodeFormat)})
}

// installed attributes a new install to the campaigns that texted the
// card, as the wallet's registrations do.
func (h *koshelekHandlers) installed(ctx context.Context, card loyalty.Card, installed bool) *koshelekError {
	if !installed {
		return nil
	}
	h.log.InfoContext(ctx, "card installed", "serial", card.SerialNumber, "channel", store.ChannelKoshelek)
	if err := h.store.RecordInstall(ctx, card.SerialNumber, bonusAnswer); err != nil {
		return koshelekInternal(err)
	}
	return nil
}

func (h *koshelekHandlers) card(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	card, lots, err := h.store.Card(c.Request.Context(), kp.Program.ID, c.Param("number"))
	if err != nil {
		return koshelekStoreError(err)
	}
	out := toKoshelekCard(card, kp.Program.BarcodeFormat)
	out.Bonus = koshelekBonusOf(kp.Program, card, lots, locale.Shipped().Lang(kp.Program.Locale), h.auth.now())
	if kp.Program.KindOf() == loyalty.KindDiscount {
		out.Discount = strconv.Itoa(kp.Program.DiscountFor(card.Tier))
	}
	return koshelekOK(c, map[string]koshelekCard{"card": out})
}

// koshelekHistoryLimit is the most lines a history answer holds, the newest.
const koshelekHistoryLimit = 500

func (h *koshelekHandlers) history(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	from, to := time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"startDate", &from, 0}, {"endDate", &to, 1}} {
		v := c.Query(q.name)
		if v == "" {
			continue
		}
		day, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return koshelekFail(koshelekCodeInvalid, "%s must be a date as YYYY-MM-DD", q.name)
		}
		*q.dst = day.AddDate(0, 0, q.add)
	}
	if !from.Before(to) {
		return koshelekFail(koshelekCodeInvalid, "startDate must not be after endDate")
	}
	_, lines, err := h.store.History(c.Request.Context(), kp.Program.ID, c.Param("number"), from, to, koshelekHistoryLimit)
	if err != nil {
		return koshelekStoreError(err)
	}
	l := locale.Shipped().Lang(kp.Program.Locale)
	out := make([]koshelekPurchase, len(lines))
	for i, t := range lines {
		out[i] = koshelekPurchaseOf(kp.Program, t, l)
	}
	return koshelekOK(c, out)
}

// koshelekChannels is the body of a communication change.
type koshelekChannels struct {
	Allow []any `json:"allow"`
	Deny  []any `json:"deny"`
}

func (h *koshelekHandlers) communication(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	body, kerr := h.body(c)
	if kerr != nil {
		return kerr
	}
	var in koshelekChannels
	if err := json.Unmarshal(body, &in); err != nil {
		return koshelekFail(koshelekCodeInvalid, `the body must be {"allow":[…],"deny":[…]}`)
	}
	if len(in.Allow)+len(in.Deny) > 50 {
		return koshelekFail(koshelekCodeInvalid, "at most 50 channels")
	}
	var consents []store.KoshelekConsent
	// Allow first, deny after: a channel in both ends denied.
	for _, list := range []struct {
		values  []any
		granted bool
	}{{in.Allow, true}, {in.Deny, false}} {
		for _, v := range list.values {
			s, ok := v.(string)
			s = strings.ToLower(strings.TrimSpace(s))
			if !ok || s == "" || utf8.RuneCountInString(s) > 32 || strings.ContainsFunc(s, func(c rune) bool { return isControl(c, false) }) {
				return koshelekFail(koshelekCodeInvalid, "allow and deny must list channel names such as sms, email, call")
			}
			consents = append(consents, store.KoshelekConsent{Channel: s, Granted: list.granted})
		}
	}
	ctx := c.Request.Context()
	card, installed, err := h.store.Communication(ctx, kp.Program.ID, c.Param("number"), consents, string(body))
	if err != nil {
		return koshelekStoreError(err)
	}
	if kerr := h.installed(ctx, card, installed); kerr != nil {
		return kerr
	}
	return koshelekOK(c, nil)
}

func (h *koshelekHandlers) profile(c *gin.Context, kp store.KoshelekProgram) *koshelekError {
	body, kerr := h.body(c)
	if kerr != nil {
		return kerr
	}
	p, kerr := readProfile(body, kp.Country)
	if kerr != nil {
		return kerr
	}
	ctx := c.Request.Context()
	card, installed, err := h.store.UpdateProfile(ctx, kp.Program.ID, c.Param("number"), p)
	if err != nil {
		return koshelekStoreError(err)
	}
	if kerr := h.installed(ctx, card, installed); kerr != nil {
		return kerr
	}
	return koshelekOK(c, nil)
}

// koshelekNoRoute answers a path or method under /koshelek/ that the API
// does not have, in its own shape (only 200 and 422).
func (b base) koshelekNoRoute(c *gin.Context) {
	b.writeKoshelek(c, koshelekFail(koshelekCodeNoMethod, "no such method: %s %s", c.Request.Method, c.Request.URL.Path))
}
