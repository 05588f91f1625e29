package landing

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/locale"
)

// pages holds one template set per page; each page file defines "body"
// and is executed through "layout".
type pages map[string]*template.Template

var pageFiles = []string{"card", "optout", "message", "join", "code"}

// mustParsePages parses the embedded templates. missingkey=error turns a
// mistyped catalogue key into an execution error instead of an empty text.
func mustParsePages() pages {
	base := template.Must(template.New("layout.html").Option("missingkey=error").
		ParseFS(assets.Landing, "landing/layout.html"))
	ps := make(pages, len(pageFiles))
	for _, name := range pageFiles {
		ps[name] = template.Must(template.Must(base.Clone()).ParseFS(assets.Landing, "landing/"+name+".html"))
	}
	return ps
}

// securityHeaders applies to every response of the landing routes. The
// pages set their own Content-Security-Policy with a style nonce.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// The token in the URL is a key to the card: never send it on.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// render executes page name with v into a buffer, so that a template error
// still yields a clean 500, and writes it with a CSP whose nonce admits only
// the page's own <style> element. No script may run at all.
func (h *Handler) render(c *gin.Context, status int, name string, v view) {
	l := v.base()
	nonce, err := newNonce()
	if err != nil {
		h.log.LogAttrs(c.Request.Context(), slog.LevelError, "landing nonce", slog.String("err", err.Error()))
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	l.Nonce = nonce
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.LogAttrs(c.Request.Context(), slog.LevelError, "landing template",
			slog.String("page", name), slog.String("err", err.Error()))
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	c.Header("Vary", "Accept-Language, User-Agent")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// view is implemented by every page's data through its embedded layout.
type view interface{ base() *layout }

// layout is what the shared page frame needs.
type layout struct {
	Lang  string
	T     map[string]string
	Title string
	// BG and FG colour the card; validated "#rrggbb" values only.
	BG, FG string
	Nonce  string
}

func (l *layout) base() *layout { return l }

const (
	defaultBG = "#1f2937"
	defaultFG = "#ffffff"
)

func newLayout(lang *locale.Lang, title, bg, fg string) layout {
	return layout{Lang: lang.Tag(), T: lang.Texts(), Title: title, BG: cssColor(bg, defaultBG), FG: cssColor(fg, defaultFG)}
}

// cssColor returns s if it is a "#rrggbb" colour, else def.
func cssColor(s, def string) string {
	if len(s) != 7 || s[0] != '#' {
		return def
	}
	for _, r := range s[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return def
		}
	}
	return s
}

// cardView is the data of the landing page.
type cardView struct {
	layout
	Program, Org, CardNumber string
	Balance, Bonus           string

	// Which controls to show.
	Apple, Google, PKPass, PKPassPrimary, QR bool
	IOSHint, AndroidHint, PKPassHint         bool
	// InApp replaces the buttons with the hint to open a real browser;
	// the *Anyway links remain as small links in case detection is wrong.
	InApp                                   bool
	InAppWhy, InAppHow                      string
	AppleAnyway, GoogleAnyway, PKPassAnyway bool

	PassURL, GoogleSaveURL, ShortURL, QRSrc string
	OptOutURL                               string
	OptedOut                                bool
	ReferralURL, ReferralText               string

	// Kind selects what the card shows: points (Balance), stamps (Stamps,
	// a cell per stamp of the goal, Rewards, Reward), discount (Discount,
	// Tier), coupon (Offer, ValidUntil, CouponState) or gift (Balance as
	// money).
	Kind                   string
	BalanceLabel           string
	Stamps                 string
	StampCells             []bool // true: filled
	Rewards, Reward        string
	Discount, Tier         string
	Offer, ValidUntil      string
	CouponState, CouponCSS string
}

func newCardView(p Page, cl client, lang *locale.Lang, base string) *cardView {
	title := p.ProgramName
	if title == "" {
		title = p.OrganizationName
	}
	v := &cardView{
		layout:     newLayout(lang, title, p.BackgroundColor, p.ForegroundColor),
		Program:    p.ProgramName,
		Org:        p.OrganizationName,
		CardNumber: p.CardNumber,
		Balance:    lang.Points(p.Balance), BalanceLabel: lang.Text("balance"), Kind: p.Kind,
		PassURL: p.PassURL, GoogleSaveURL: p.GoogleSaveURL, ShortURL: p.ShortURL,
		QRSrc:     base + "/qr.png",
		OptOutURL: p.OptOutURL, OptedOut: p.OptedOut,
	}
	if v.Program == v.Org {
		v.Org = ""
	}
	v.kind(p, lang)
	if p.BonusPoints > 0 {
		v.Bonus = "+" + lang.Points(p.BonusPoints)
	}
	if p.ReferralURL != "" {
		v.ReferralURL = p.ReferralURL
		v.ReferralText = lang.Text("referral_body", "friend", lang.Points(p.FriendPoints), "you", lang.Points(p.ReferrerPoints))
	}
	hasPass, hasGoogle := p.PassURL != "", p.GoogleSaveURL != ""
	// A desktop app's "in-app browser" is a link previewer: nothing to say.
	if cl.inApp && cl.device != deviceDesktop {
		v.InApp = true
		v.InAppWhy = lang.Text("inapp_why")
		if cl.app != "" {
			v.InAppWhy = lang.Text("inapp_why_named", "app", cl.app)
		}
		switch cl.device {
		case deviceIOS:
			v.InAppHow = lang.Text("inapp_how_ios")
			v.AppleAnyway = hasPass
		case deviceAndroid:
			v.InAppHow = lang.Text("inapp_how_android")
			v.GoogleAnyway, v.PKPassAnyway = hasGoogle, hasPass
		}
		return v
	}
	switch cl.device {
	case deviceIOS:
		v.Apple, v.IOSHint = hasPass, hasPass
	case deviceAndroid:
		v.Google = hasGoogle
		v.PKPass, v.PKPassHint = hasPass, hasPass
		v.PKPassPrimary = hasPass && !hasGoogle
		v.AndroidHint = hasPass || hasGoogle
	default:
		v.Apple, v.Google = hasPass, hasGoogle
		v.QR = p.ShortURL != ""
	}
	return v
}

// kind fills in what the card shows by its program's kind.
func (v *cardView) kind(p Page, lang *locale.Lang) {
	switch p.Kind {
	case "stamps":
		filled := max(0, min(p.Balance, int64(p.StampsRequired)))
		v.Stamps = lang.StampsOf(filled, int64(p.StampsRequired))
		v.StampCells = make([]bool, p.StampsRequired)
		for i := range v.StampCells {
			v.StampCells[i] = int64(i) < filled
		}
		v.Rewards, v.Reward = lang.Int(p.Rewards), p.Reward
	case "discount":
		v.Discount, v.Tier = lang.Int(int64(p.DiscountPercent))+"%", p.Tier
	case "coupon":
		v.Offer = p.Offer
		if !p.ValidUntil.IsZero() {
			v.ValidUntil = lang.Date(p.ValidUntil)
		}
		v.CouponCSS = p.CouponState
		if p.CouponState != "" {
			v.CouponState = lang.Text("coupon_" + p.CouponState)
		}
	case "gift":
		v.Balance, v.BalanceLabel = lang.MoneyIn(p.Balance, p.Currency, p.CurrencyDigits), lang.Text("gift_balance")
	default:
		v.Kind = "points"
	}
}

// optoutView is the confirmation form.
type optoutView struct {
	layout
	Body, Action, Back string
}

func newOptoutView(p Page, lang *locale.Lang, base string) *optoutView {
	return &optoutView{
		layout: newLayout(lang, lang.Text("optout_title"), p.BackgroundColor, p.ForegroundColor),
		Body:   lang.Text("optout_body", "org", orgName(p)),
		Action: base + "/optout",
		Back:   base,
	}
}

// messageView is a page with a heading and a sentence: 404, errors and the
// opt-out confirmation.
type messageView struct {
	layout
	Heading, Body, Back string
	// BackText words the back link; "" says "back to the card".
	BackText string
}

func newMessageView(lang *locale.Lang, headingKey, bodyKey string) *messageView {
	heading := lang.Text(headingKey)
	return &messageView{layout: newLayout(lang, heading, "", ""), Heading: heading, Body: lang.Text(bodyKey)}
}

func optedOutView(p Page, lang *locale.Lang, base string) *messageView {
	v := newMessageView(lang, "optout_done_title", "optout_done_body")
	v.Body = lang.Text("optout_done_body", "org", orgName(p))
	v.BG, v.FG = cssColor(p.BackgroundColor, defaultBG), cssColor(p.ForegroundColor, defaultFG)
	v.Back = base
	return v
}

func orgName(p Page) string {
	if p.OrganizationName != "" {
		return p.OrganizationName
	}
	return p.ProgramName
}
