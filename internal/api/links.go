package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/landing"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// linkStore is what short links need of the database: the link, the
// campaign offer it may carry, and the program and merchant its landing
// page shows.
type linkStore interface {
	ResolveLink(ctx context.Context, token string) (store.ShortLink, error)
	RecordOpen(ctx context.Context, l store.ShortLink) error
	RecipientOffer(ctx context.Context, recipientID int64) (int64, string, error)
	CreditCampaignBonus(ctx context.Context, recipientID int64, respond store.Respond) (int64, error)
	OptOutCustomer(ctx context.Context, customerID, source string) error
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	Merchant(ctx context.Context, id string) (store.Merchant, error)
}

// linkHandlers serve a card's short link (/c/{token}): the landing page,
// with its opt-out, and the pass behind it. They are the landing page's
// landing.Source: they resolve a token to its card, count opens (not
// link previews) and credit the bonus of campaigns that pay on open.
type linkHandlers struct {
	base
	store    linkStore
	passes   PassSource
	shortURL string // the base of short links
	// googleSaveURL makes the page's Google Wallet button; nil: none.
	googleSaveURL func(loyalty.Card) string
	// referrals gives the card's referral code for the page; nil: none.
	referrals referralCodes
}

var _ landing.Source = (*linkHandlers)(nil)

func (h *linkHandlers) routes(r gin.IRouter) {
	landing.New(h, h.log.With("component", "landing")).Register(r)
	r.GET("/c/:token/pass.pkpass", h.wrap(h.pass))
}

// bonusAnswer is the answer stored with a campaign bonus's idempotency
// key: the answer a bonus would get were it posted through the API.
func bonusAnswer(r store.Posted) (store.Answer, error) {
	body, err := json.Marshal(map[string]any{"transaction_id": r.Transaction.ID, "points": r.Transaction.Points})
	return store.Answer{Status: http.StatusCreated, Body: body}, err
}

// Page is the landing page of the link token.
func (h *linkHandlers) Page(ctx context.Context, token string, r *http.Request) (landing.Page, error) {
	link, err := h.store.ResolveLink(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return landing.Page{}, landing.ErrNotFound
	}
	if err != nil {
		return landing.Page{}, err
	}
	var bonus int64
	if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/c/"+token && !isPreviewer(r.UserAgent()) {
		if err := h.store.RecordOpen(ctx, link); err != nil {
			return landing.Page{}, err
		}
		if link.RecipientID != 0 {
			points, on, err := h.store.RecipientOffer(ctx, link.RecipientID)
			if err != nil {
				return landing.Page{}, err
			}
			bonus = points
			if on == "open" && points > 0 {
				if _, err := h.store.CreditCampaignBonus(ctx, link.RecipientID, bonusAnswer); err != nil {
					return landing.Page{}, err
				}
				if link, err = h.store.ResolveLink(ctx, token); err != nil { // the balance moved
					return landing.Page{}, err
				}
			}
		}
	}
	card := link.Card
	prog, err := h.store.Program(ctx, card.MerchantID, card.ProgramID)
	if err != nil {
		return landing.Page{}, err
	}
	m, err := h.store.Merchant(ctx, card.MerchantID)
	if err != nil {
		return landing.Page{}, err
	}
	p := landing.Page{Token: token, ProgramName: prog.Name, OrganizationName: m.Name, Locale: prog.Locale,
		BackgroundColor: prog.BackgroundColor, ForegroundColor: prog.ForegroundColor, CardNumber: card.Number,
		Balance: card.Balance, BonusPoints: bonus, PassURL: h.shortURL + "/c/" + token + "/pass.pkpass",
		ShortURL: h.shortURL + "/c/" + token, OptedOut: card.Customer.OptedOut}
	if h.googleSaveURL != nil && card.Status == loyalty.CardActive {
		p.GoogleSaveURL = h.googleSaveURL(card)
	}
	pageKind(&p, card, prog, time.Now())
	if card.Customer.SMSConsent || card.Customer.OptedOut {
		p.OptOutURL = h.shortURL + "/c/" + token + "/optout"
	}
	if h.referrals != nil && prog.Referral.Enabled() && card.Status == loyalty.CardActive {
		code, err := h.referrals.Code(ctx, card.SerialNumber)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return landing.Page{}, err
		}
		if code != "" {
			p.ReferralURL = h.shortURL + "/r/" + code
			p.FriendPoints, p.ReferrerPoints = prog.Referral.FriendPoints, prog.Referral.ReferrerPoints
		}
	}
	return p, nil
}

// OptOut stops campaign texts to the customer of the link token.
func (h *linkHandlers) OptOut(ctx context.Context, token string) error {
	link, err := h.store.ResolveLink(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return landing.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.store.OptOutCustomer(ctx, link.Card.CustomerID, loyalty.SourceOptOutPage)
}

// previewers mark the user agents of link-preview fetchers (TelegramBot,
// Twitterbot, facebookexternalhit, vkShare, Slackbot…): their visits are
// not the customer opening the link. WhatsApp's fetcher is "WhatsApp/x.y";
// its in-app browser sends a normal browser user agent.
var previewers = []string{"bot", "facebookexternalhit", "vkshare", "skypeuripreview", "preview"}

func isPreviewer(ua string) bool {
	ua = strings.ToLower(ua)
	if strings.HasPrefix(ua, "whatsapp/") {
		return true
	}
	for _, p := range previewers {
		if strings.Contains(ua, p) {
			return true
		}
	}
	return false
}

// pass serves a card's signed pass to whoever holds its short link
// (the customer): the link is the credential, as it is in the SMS.
func (h *linkHandlers) pass(c *gin.Context) error {
	link, err := h.store.ResolveLink(c.Request.Context(), c.Param("token"))
	if err != nil {
		return storeError(err, "link")
	}
	pass, err := h.passes.Pass(c.Request.Context(), link.Card)
	if err != nil {
		return internal(err)
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="card-%s.pkpass"`, link.Card.Number))
	c.Header("Last-Modified", pass.Modified.UTC().Format(http.TimeFormat))
	c.Header("Referrer-Policy", "no-referrer")
	c.Data(http.StatusOK, "application/vnd.apple.pkpass", pass.Data)
	return nil
}

// pageKind fills in what the landing page shows of card by its program's
// kind.
func pageKind(p *landing.Page, card loyalty.Card, prog loyalty.Program, now time.Time) {
	p.Kind = prog.KindOf()
	switch p.Kind {
	case loyalty.KindStamps:
		p.StampsRequired, p.Rewards, p.Reward = prog.StampsRequired, card.Rewards, prog.Reward
	case loyalty.KindDiscount:
		p.DiscountPercent, p.Tier = prog.DiscountFor(card.Tier), prog.Rules().TierName(card.Tier)
	case loyalty.KindCoupon:
		p.Offer, p.CouponState = prog.Offer, loyalty.CouponState(card, now)
		if card.ValidUntil != nil {
			p.ValidUntil = *card.ValidUntil
		}
	case loyalty.KindGift:
		p.Currency = prog.CurrencyOf()
		p.CurrencyDigits, _ = loyalty.CurrencyDigits(p.Currency)
	}
}
