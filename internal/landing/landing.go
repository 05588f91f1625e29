// Package landing serves the page a customer reaches from the short link in
// an SMS, /c/{token}: the card with its balance, the wallet buttons that suit
// the phone (Apple Wallet on iOS, Google Wallet and a .pkpass download for
// Android wallet apps on Android, both plus a QR code on a desktop), a hint
// to leave an app's built-in browser, and the SMS opt-out. Pages are rendered
// on the server in the languages of the text catalogue (internal/locale),
// Russian and English as shipped, and need no JavaScript.
package landing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// ErrNotFound is what a Source returns (possibly wrapped) for a token it does
// not know; the handler answers with the 404 page.
var ErrNotFound = errors.New("landing: unknown link")

// Page is what the landing page shows for one short link.
type Page struct {
	// Token is the short link token.
	Token string
	// ProgramName and OrganizationName head the page and the card.
	ProgramName, OrganizationName string
	// Locale is the program's default language ("ru", "en", any language
	// of the catalogue); the browser's Accept-Language overrides it.
	Locale string
	// BackgroundColor and ForegroundColor colour the card, as "#rrggbb";
	// anything else falls back to neutral colours.
	BackgroundColor, ForegroundColor string
	// CardNumber and Balance describe the card.
	CardNumber string
	Balance    int64
	// BonusPoints is the bonus to show ("+100 баллов"); 0 shows none.
	BonusPoints int64
	// PassURL is the .pkpass of this card, for Apple Wallet and for the
	// Android apps that open .pkpass files.
	PassURL string
	// GoogleSaveURL is "" when Google Wallet is not configured.
	GoogleSaveURL string
	// ShortURL is the link itself, encoded in the QR code and offered for
	// copying inside in-app browsers.
	ShortURL string
	// OptOutURL is the SMS opt-out link; "" hides it.
	OptOutURL string
	// OptedOut reports that the customer has already opted out of SMS.
	OptedOut bool
	// ReferralURL is the card's referral link ("" shows none); a friend
	// who joins by it gets FriendPoints, and the card ReferrerPoints, at
	// the friend's first purchase.
	ReferralURL                  string
	FriendPoints, ReferrerPoints int64

	// Kind is the program's kind ("points" when empty); the card shows
	// what its kind counts instead of points.
	Kind string
	// Stamps of StampsRequired, Rewards ready and the Reward they give:
	// a stamp card.
	StampsRequired int
	Rewards        int64
	Reward         string
	// DiscountPercent and Tier: a discount card.
	DiscountPercent int
	Tier            string
	// Offer, ValidUntil and CouponState ("active", "redeemed", "expired",
	// "voided"): a coupon.
	Offer       string
	ValidUntil  time.Time
	CouponState string
	// Currency and CurrencyDigits: a gift card, whose Balance is in minor
	// units of it.
	Currency       string
	CurrencyDigits int
}

// Source supplies the data behind the short links.
type Source interface {
	// Page returns the page of token, or an error wrapping ErrNotFound. It is
	// called for every request: the page, its QR image (qr.png) and the
	// opt-out page; r is the incoming request, so r.URL.Path tells which,
	// and its headers are there for click tracking.
	Page(ctx context.Context, token string, r *http.Request) (Page, error)
	// OptOut records that the customer of token wants no more SMS. It must
	// be idempotent.
	OptOut(ctx context.Context, token string) error
}

// Handler serves the landing pages. Build it with New and mount it with
// Register.
type Handler struct {
	src   Source
	log   *slog.Logger
	pages pages
	texts *locale.Catalogue
}

// Option configures a Handler.
type Option func(*Handler)

// WithTexts makes the pages speak the languages of c, with its texts,
// instead of the shipped catalogue's.
func WithTexts(c *locale.Catalogue) Option {
	return func(h *Handler) { h.texts = c }
}

// defaultLocale is used when neither the browser nor the program names a
// language we speak: loyalpass is made for Russian retail first.
const defaultLocale = "ru"

// maxTokenLen bounds the tokens passed to the Source; longer ones are
// answered with the 404 page without a look-up.
const maxTokenLen = 128

// maxFormBody caps the opt-out form body; the real one is a dozen bytes.
const maxFormBody = 4 << 10

// qrSize is the side of the QR code image in pixels.
const qrSize = 256

// New returns a Handler over src. A nil log discards. It panics only if the
// embedded templates do not parse, which the package tests rule out.
func New(src Source, log *slog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{src: src, log: log.With(slog.String("component", "landing")), pages: mustParsePages(),
		texts: locale.Shipped()}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register adds the routes to r: GET /c/:token (the page), GET
// /c/:token/qr.png (a QR code of the short link) and GET and POST
// /c/:token/optout (the confirmation form and the opt-out itself; only POST
// opts out, so link previewers and prefetchers cannot).
func (h *Handler) Register(r gin.IRouter) {
	g := r.Group("/c/:token", securityHeaders)
	g.GET("", h.card)
	g.GET("/qr.png", h.qr)
	g.GET("/optout", h.optoutForm)
	g.POST("/optout", h.optout)
}

// card serves the landing page itself.
func (h *Handler) card(c *gin.Context) {
	p, ok := h.load(c)
	if !ok {
		return
	}
	v := newCardView(p, detectClient(c.GetHeader("User-Agent")), h.lang(c, p.Locale), linkBase(c))
	h.render(c, http.StatusOK, "card", v)
}

// qr serves a PNG QR code of the short link, for desktops to hand the page
// over to a phone. The image of a token never changes, so it is cached long.
func (h *Handler) qr(c *gin.Context) {
	token := c.Param("token")
	if !validToken(token) {
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	p, err := h.src.Page(c.Request.Context(), token, c.Request)
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && p.ShortURL == "":
		c.String(http.StatusNotFound, "not found\n")
		return
	case err != nil:
		h.logError(c, "load page for qr", err, token)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	png, err := qrcode.Encode(p.ShortURL, qrcode.Medium, qrSize)
	if err != nil {
		h.logError(c, "encode qr", err, token)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Header("Cache-Control", "private, max-age=31536000, immutable")
	c.Data(http.StatusOK, "image/png", png)
}

// optoutForm asks for confirmation. It never opts out: link previewers and
// mail or SMS scanners follow links with GET.
func (h *Handler) optoutForm(c *gin.Context) {
	p, ok := h.load(c)
	if !ok {
		return
	}
	lang, base := h.lang(c, p.Locale), linkBase(c)
	if p.OptedOut {
		h.render(c, http.StatusOK, "message", optedOutView(p, lang, base))
		return
	}
	h.render(c, http.StatusOK, "optout", newOptoutView(p, lang, base))
}

// optout records the opt-out and confirms it.
func (h *Handler) optout(c *gin.Context) {
	// The form on our own page is same-origin; a cross-site form posting
	// here is someone else's page trying to unsubscribe a visitor.
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		h.refuse(c, http.StatusForbidden)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBody)
	if c.PostForm("confirm") != "yes" {
		h.refuse(c, http.StatusBadRequest)
		return
	}
	p, ok := h.load(c)
	if !ok {
		return
	}
	token := c.Param("token")
	if !p.OptedOut {
		err := h.src.OptOut(c.Request.Context(), token)
		switch {
		case errors.Is(err, ErrNotFound):
			h.notFound(c)
			return
		case err != nil:
			h.fail(c, "opt out", err, token)
			return
		}
		h.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "sms opt-out via landing page")
	}
	h.render(c, http.StatusOK, "message", optedOutView(p, h.lang(c, p.Locale), linkBase(c)))
}

// load fetches the page of the request's token, answering with the 404 or
// error page itself when it cannot.
func (h *Handler) load(c *gin.Context) (Page, bool) {
	token := c.Param("token")
	if !validToken(token) {
		h.notFound(c)
		return Page{}, false
	}
	p, err := h.src.Page(c.Request.Context(), token, c.Request)
	switch {
	case errors.Is(err, ErrNotFound):
		h.notFound(c)
		return Page{}, false
	case err != nil:
		h.fail(c, "load page", err, token)
		return Page{}, false
	}
	return p, true
}

func (h *Handler) notFound(c *gin.Context) {
	lang := h.lang(c, "")
	h.render(c, http.StatusNotFound, "message", newMessageView(lang, "notfound_title", "notfound_body"))
}

func (h *Handler) refuse(c *gin.Context, status int) {
	lang := h.lang(c, "")
	h.render(c, status, "message", newMessageView(lang, "refused_title", "refused_body"))
}

// fail logs err once and answers with the error page, which says nothing
// of the cause.
func (h *Handler) fail(c *gin.Context, op string, err error, token string) {
	h.logError(c, op, err, token)
	lang := h.lang(c, "")
	h.render(c, http.StatusInternalServerError, "message", newMessageView(lang, "error_title", "error_body"))
}

// logError logs err with the token cut out of its text: tokens are bearer
// links to a customer's card, and a Source may well wrap them into errors.
func (h *Handler) logError(c *gin.Context, op string, err error, token string) {
	msg := err.Error()
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[token]")
	}
	h.log.LogAttrs(c.Request.Context(), slog.LevelError, "landing page failed",
		slog.String("op", op), slog.String("err", msg))
}

func (h *Handler) lang(c *gin.Context, programLocale string) *locale.Lang {
	return h.texts.Lang(h.texts.Pick(c.GetHeader("Accept-Language"), programLocale, defaultLocale))
}

// validToken rules out what no short link looks like before the Source is
// asked; the router already keeps "/" out.
func validToken(token string) bool {
	if token == "" || len(token) > maxTokenLen {
		return false
	}
	for i := 0; i < len(token); i++ {
		if b := token[i]; b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
}

// linkBase returns the path of the page of the request's token, such as
// "/c/Ab3x", keeping any prefix of the group the handler was registered on.
func linkBase(c *gin.Context) string {
	full := c.FullPath()
	i := strings.Index(full, ":token")
	if i < 0 {
		return ""
	}
	return full[:i] + url.PathEscape(c.Param("token"))
}
