package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/store"
)

// cardStore is what the card routes need of the database: the cards and,
// to read a phone number the way its country writes them, the merchant.
type cardStore interface {
	Merchant(ctx context.Context, id string) (store.Merchant, error)
	IssueCard(ctx context.Context, in store.IssueCard) (loyalty.Card, bool, error)
	Card(ctx context.Context, merchantID, serial string) (loyalty.Card, error)
	CardByNumber(ctx context.Context, merchantID, number string) (loyalty.Card, error)
	Cards(ctx context.Context, merchantID string, f store.CardFilter, after store.Cursor, limit int) ([]loyalty.Card, error)
	VoidCard(ctx context.Context, merchantID, serial string) (loyalty.Card, error)
	CardInstalls(ctx context.Context, serial string) ([]store.Installs, error)
	NextExpiry(ctx context.Context, serial string) (int64, time.Time, error)
}

// cardHandlers issue, list, show and void a merchant's cards and serve
// their passes.
type cardHandlers struct {
	base
	store    cardStore
	programs cardPrograms
	urls     cardURLs
	passes   PassSource
}

func (h *cardHandlers) routes(v1 gin.IRouter) {
	v1.POST("/programs/:id/cards", h.wrap(h.issue))
	v1.GET("/cards", h.wrap(h.list))
	v1.GET("/cards/:serial", h.wrap(h.get))
	v1.POST("/cards/:serial/void", h.wrap(h.void))
	v1.GET("/cards/:serial/pass.pkpass", h.wrap(h.pass))
}

// cardURLs are the public addresses an answer names for a card: its pass
// download, its short link and, while Google Wallet is on, its save link.
type cardURLs struct {
	public string // Options.PublicURL without a trailing slash
	short  string // the base of short links
	google bool   // Google Wallet is on
}

type issueCardInput struct {
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	SMSConsent *bool  `json:"sms_consent"`
	// InitialAmount is what a gift card starts with, in minor units.
	InitialAmount *int64 `json:"initial_amount"`
}

type cardJSON struct {
	SerialNumber string `json:"serial_number"`
	Number       string `json:"number"`
	ProgramID    string `json:"program_id"`
	Balance      int64  `json:"balance"`
	Tier         string `json:"tier"`
	Status       string `json:"status"`
	Version      int64  `json:"version"`
	// LifetimePoints and LifetimeSpend are what purchases earned and cost,
	// net of refunds: what tiers are reached by.
	LifetimePoints int64        `json:"lifetime_points"`
	LifetimeSpend  int64        `json:"lifetime_spend"`
	LastPurchaseAt *time.Time   `json:"last_purchase_at"`
	Customer       customerJSON `json:"customer"`
	PassURL        string       `json:"pass_url"`
	// ShortURL is the card's own short link: the landing page that hands
	// the customer the right wallet button.
	ShortURL  string     `json:"short_url"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	VoidedAt  *time.Time `json:"voided_at,omitempty"`

	// GoogleSaveURL is the card's "Add to Google Wallet" link (see
	// GoogleSaveLink); absent when Google Wallet is off or the card voided.
	GoogleSaveURL string `json:"google_save_url,omitempty"`

	cardKindJSON
}

type customerJSON struct {
	ID         string `json:"id"`
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	SMSConsent bool   `json:"sms_consent"`
}

// cardJSON is card c of program p as the API shows it.
func (u cardURLs) cardJSON(c loyalty.Card, p loyalty.Program) cardJSON {
	return cardJSON{cardKindJSON: cardKind(c, p, time.Now()), SerialNumber: c.SerialNumber, Number: c.Number, ProgramID: c.ProgramID,
		Balance: c.Balance, Tier: c.Tier, Status: c.Status, Version: c.Version,
		LifetimePoints: c.LifetimePoints, LifetimeSpend: c.LifetimeSpend, LastPurchaseAt: c.LastPurchaseAt,
		Customer: customerJSON{ID: c.Customer.ID, Phone: c.Customer.Phone, Name: c.Customer.Name, Email: c.Customer.Email,
			SMSConsent: c.Customer.SMSConsent},
		PassURL:   u.public + "/api/v1/cards/" + c.SerialNumber + "/pass.pkpass",
		ShortURL:  u.shortLink(c.LinkToken),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, VoidedAt: c.VoidedAt,
		GoogleSaveURL: u.activeGoogleSaveLink(c)}
}

func (u cardURLs) shortLink(token string) string {
	if token == "" {
		return ""
	}
	return u.short + "/c/" + token
}

// phoneShape is what a phone number is written with, as openapi.json
// states it; phone.Normalize decides whether it is a real number.
var phoneShape = regexp.MustCompile(`^\+?[0-9 ().-]+$`)

func (h *cardHandlers) issue(c *gin.Context) error {
	var in issueCardInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	mid := merchantID(c)
	m, err := h.store.Merchant(c.Request.Context(), mid)
	if err != nil {
		return internal(err)
	}
	if strings.TrimSpace(in.Phone) == "" {
		return invalid("phone", "phone is required")
	}
	e164, err := phone.Normalize(in.Phone, m.Country)
	if n := len(strings.TrimSpace(in.Phone)); err != nil || n < 5 || n > 32 || !phoneShape.MatchString(strings.TrimSpace(in.Phone)) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_phone", Field: "phone",
			Message: "phone is not a valid phone number; write it as +79123456789 or 8 (912) 345-67-89"}
	}
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	if err := (textRule{field: "name", max: 100}).check(in.Name); err != nil {
		return err
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			return invalid("email", "email is not a valid address")
		}
	}
	issue := store.IssueCard{MerchantID: mid, ProgramID: c.Param("id"), Phone: e164, Name: in.Name, Email: in.Email,
		SMSConsent: in.SMSConsent}
	if in.InitialAmount != nil {
		if *in.InitialAmount < 1 || *in.InitialAmount > maxAmount {
			return invalid("initial_amount", "initial_amount must be 1 to %d minor units", int64(maxAmount))
		}
		issue.InitialAmount = *in.InitialAmount
	}
	card, created, err := h.store.IssueCard(c.Request.Context(), issue)
	if err != nil {
		return issueError(err)
	}
	prog, err := h.programs.Program(c.Request.Context(), mid, card.ProgramID)
	if err != nil {
		return internal(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		h.log.InfoContext(c.Request.Context(), "card issued", "serial", card.SerialNumber, "phone", phone.Mask(e164))
	}
	c.JSON(status, h.urls.cardJSON(card, prog))
	return nil
}

// issueError maps the refusals of issuing a card.
func issueError(err error) error {
	var fieldErr *loyalty.FieldError
	switch {
	case errors.As(err, &fieldErr):
		return invalid(fieldErr.Field, "%s", fieldErr.Message)
	case errors.Is(err, store.ErrCardExists):
		return &Error{Status: http.StatusConflict, Code: "card_exists", Field: "phone",
			Message: "the customer already has a card of this program; add money to it with a load transaction"}
	case errors.Is(err, loyalty.ErrCouponExpired):
		return &Error{Status: http.StatusConflict, Code: "coupon_expired",
			Message: "the program's valid_until has passed: its coupons can no longer be issued"}
	}
	return storeError(err, "program")
}

// cardDetailJSON is a single card with its installations and the points
// that expire next.
type cardDetailJSON struct {
	cardJSON
	Installs         []installsJSON `json:"installs"`
	FirstInstalledAt *time.Time     `json:"first_installed_at"`
	NextExpiry       *expiryJSON    `json:"next_expiry"`
}

type installsJSON struct {
	Channel        string    `json:"channel"`
	Installed      int       `json:"installed"`
	Uninstalled    int       `json:"uninstalled"`
	FirstInstallAt time.Time `json:"first_install_at"`
}

type expiryJSON struct {
	Points int64     `json:"points"`
	At     time.Time `json:"at"`
}

func (h *cardHandlers) get(c *gin.Context) error {
	ctx := c.Request.Context()
	card, err := h.store.Card(ctx, merchantID(c), c.Param("serial"))
	if err != nil {
		return storeError(err, "card")
	}
	installs, err := h.store.CardInstalls(ctx, card.SerialNumber)
	if err != nil {
		return internal(err)
	}
	prog, err := h.programs.Program(ctx, card.MerchantID, card.ProgramID)
	if err != nil {
		return internal(err)
	}
	out := cardDetailJSON{cardJSON: h.urls.cardJSON(card, prog), Installs: []installsJSON{}}
	for _, in := range installs {
		out.Installs = append(out.Installs, installsJSON(in))
		if first := in.FirstInstallAt; out.FirstInstalledAt == nil || first.Before(*out.FirstInstalledAt) {
			out.FirstInstalledAt = &first
		}
	}
	points, at, err := h.store.NextExpiry(ctx, card.SerialNumber)
	if err != nil {
		return internal(err)
	}
	if points > 0 {
		out.NextExpiry = &expiryJSON{Points: points, At: at}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

var cardStatuses = []string{loyalty.CardActive, loyalty.CardVoided}

// list lists cards page by page; ?number= finds the card a POS scanned.
func (h *cardHandlers) list(c *gin.Context) error {
	mid := merchantID(c)
	if number, ok := c.GetQuery("number"); ok {
		card, err := h.store.CardByNumber(c.Request.Context(), mid, strings.TrimSpace(number))
		if err != nil {
			return storeError(err, "card")
		}
		prog, err := h.programs.Program(c.Request.Context(), mid, card.ProgramID)
		if err != nil {
			return internal(err)
		}
		c.JSON(http.StatusOK, gin.H{"cards": []cardJSON{h.urls.cardJSON(card, prog)}, "next_cursor": ""})
		return nil
	}
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.CardFilter{ProgramID: c.Query("program_id"), Status: c.Query("status")}
	if f.Status != "" && !slices.Contains(cardStatuses, f.Status) {
		return badRequest("invalid_query", "status", "status must be active or voided")
	}
	cards, err := h.store.Cards(c.Request.Context(), mid, f, after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]cardJSON, len(cards))
	progs := programsOf{store: h.programs, mid: mid}
	for i, card := range cards {
		prog, err := progs.of(c.Request.Context(), card)
		if err != nil {
			return internal(err)
		}
		out[i] = h.urls.cardJSON(card, prog)
	}
	next := ""
	if len(cards) == limit {
		last := cards[len(cards)-1]
		next = store.Cursor{Time: last.CreatedAt, ID: last.SerialNumber}.String()
	}
	c.JSON(http.StatusOK, gin.H{"cards": out, "next_cursor": next})
	return nil
}

func (h *cardHandlers) void(c *gin.Context) error {
	card, err := h.store.VoidCard(c.Request.Context(), merchantID(c), c.Param("serial"))
	if err != nil {
		return storeError(err, "card")
	}
	prog, err := h.programs.Program(c.Request.Context(), card.MerchantID, card.ProgramID)
	if err != nil {
		return internal(err)
	}
	c.JSON(http.StatusOK, h.urls.cardJSON(card, prog))
	return nil
}

func (h *cardHandlers) pass(c *gin.Context) error {
	card, err := h.store.Card(c.Request.Context(), merchantID(c), c.Param("serial"))
	if err != nil {
		return storeError(err, "card")
	}
	pass, err := h.passes.Pass(c.Request.Context(), card)
	if err != nil {
		return internal(err)
	}
	c.Header("Content-Disposition", `attachment; filename="card-`+card.Number+`.pkpass"`)
	servePass(c, pass)
	return nil
}

// servePass writes a signed pass with its validators, an ETag (a digest
// of the bytes) and Last-Modified, and answers a client whose copy is
// current by either (If-None-Match first, then If-Modified-Since) with
// 304 and no body. Last-Modified moves by at least a second on every
// change of the card or its program, so a change within the second of
// the last one is not mistaken for no change.
func servePass(c *gin.Context, pass cardpass.Pass) {
	sum := sha256.Sum256(pass.Data)
	c.Header("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	c.Header("Content-Type", "application/vnd.apple.pkpass")
	http.ServeContent(c.Writer, c.Request, "", pass.Modified, bytes.NewReader(pass.Data))
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// pageParams reads ?limit= and ?cursor=.
func pageParams(c *gin.Context) (store.Cursor, int, error) {
	limit, err := limitParam(c)
	if err != nil {
		return store.Cursor{}, 0, err
	}
	after, err := store.ParseCursor(c.Query("cursor"))
	if err != nil {
		return store.Cursor{}, 0, badRequest("invalid_query", "cursor", "cursor is not one this API returned")
	}
	return after, limit, nil
}

// numberCursor reads a ?cursor= that is a row number (a sequence or id
// this API returned), at least min; absent is 0.
func numberCursor(c *gin.Context, min int64) (int64, error) {
	cur := c.Query("cursor")
	if cur == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cur, 10, 64)
	if err != nil || n < min {
		return 0, badRequest("invalid_query", "cursor", "cursor is not one this API returned")
	}
	return n, nil
}

// limitParam reads ?limit=, the page size.
func limitParam(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("limit")
	if !ok {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, badRequest("invalid_query", "limit", "limit must be an integer from 1 to %d", maxPageSize)
	}
	return n, nil
}
