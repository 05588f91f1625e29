package api

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/landing"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// joinStore is what the join page needs of the database: the codes and
// joins (store.JoinStore) and the program a referral link invites to
// (store.ReferralStore).
type joinStore interface {
	Program(ctx context.Context, code string) (store.JoinProgram, error)
	Start(ctx context.Context, in store.JoinStart) (store.JoinCodeSent, error)
	Cancel(ctx context.Context, id string) error
	Verify(ctx context.Context, in store.JoinVerify) (store.Joined, error)
	Link(ctx context.Context, code string) (store.JoinProgram, error)
	// CountJoinStep counts a step of the join funnel for the dashboard.
	CountJoinStep(ctx context.Context, joinCode, step string) error
}

// JoinOptions configures the join page.
type JoinOptions struct {
	// Provider texts the codes; nil logs them (sms.Log), so the page can
	// be tried without an SMS account.
	Provider sms.Provider
	// Limits are the code rules; zero means loyalty.DefaultJoinLimits.
	Limits loyalty.JoinLimits
}

// joinHandlers serve the join pages (/j/{code}, /r/{code}): they are the
// landing.JoinSource, texting codes through the SMS provider and joining
// customers through the store.
type joinHandlers struct {
	base
	store    joinStore
	sms      sms.Provider
	limits   loyalty.JoinLimits
	shortURL string
	texts    *locale.Catalogue
}

var _ landing.JoinSource = (*joinHandlers)(nil)

func newJoinHandlers(b base, st joinStore, opts JoinOptions, shortURL string) *joinHandlers {
	h := &joinHandlers{base: b, store: st, sms: opts.Provider, limits: opts.Limits,
		shortURL: shortURL, texts: locale.Shipped()}
	if h.sms == nil {
		h.sms = sms.NewLog(b.log)
	}
	if h.limits == (loyalty.JoinLimits{}) {
		h.limits = loyalty.DefaultJoinLimits
	}
	return h
}

func (h *joinHandlers) routes(r gin.IRouter) {
	landing.NewJoin(h, h.log.With("component", "join")).Register(r)
}

// JoinProgram is the join page of a program's join code.
func (h *joinHandlers) JoinProgram(ctx context.Context, code string) (landing.JoinProgram, error) {
	jp, err := h.store.Program(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return landing.JoinProgram{}, landing.ErrNotFound
	}
	if err != nil {
		return landing.JoinProgram{}, err
	}
	return joinPage(jp), nil
}

// ReferralProgram is the join page a referral link opens.
func (h *joinHandlers) ReferralProgram(ctx context.Context, referral string) (landing.JoinProgram, error) {
	jp, err := h.store.Link(ctx, referral)
	if errors.Is(err, store.ErrNotFound) {
		return landing.JoinProgram{}, landing.ErrNotFound
	}
	if err != nil {
		return landing.JoinProgram{}, err
	}
	p := joinPage(jp)
	p.Referral = referral
	if jp.Program.Referral.Enabled() {
		p.FriendPoints = jp.Program.Referral.FriendPoints
	}
	return p, nil
}

func joinPage(jp store.JoinProgram) landing.JoinProgram {
	p := jp.Program
	return landing.JoinProgram{Code: p.JoinCode, ProgramName: p.Name, OrganizationName: jp.Merchant.Name,
		Locale: p.Locale, BackgroundColor: p.BackgroundColor, ForegroundColor: p.ForegroundColor,
		WelcomeBonus: p.WelcomeBonus, AskName: p.Join.AskName, AskBirthday: p.Join.AskBirthday,
		PersonalDataText: p.Join.PersonalDataText, AdsText: p.Join.AdsText}
}

// SendCode stores a code within the limits and texts it. The phone is
// never logged whole, the code only by the log provider's text.
func (h *joinHandlers) SendCode(ctx context.Context, code string, r landing.JoinRequest) (string, error) {
	jp, err := h.store.Program(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", landing.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	e164, err := phone.NormalizeMobile(r.Phone, jp.Merchant.Country)
	if err != nil {
		return "", landing.ErrBadPhone
	}
	form := store.JoinForm{Name: r.Name, Birthday: r.Birthday, PersonalDataText: r.PersonalDataText,
		AdsText: r.AdsText, IP: r.IP, UserAgent: r.UserAgent, Referral: r.Referral}
	sent, err := h.store.Start(ctx, store.JoinStart{ProgramID: jp.Program.ID, Phone: e164, IP: r.IP, Form: form,
		Limits: h.limits})
	var limited *loyalty.RateLimitError
	if errors.As(err, &limited) {
		return "", &landing.RetryError{At: limited.RetryAt, Budget: limited.Reason == loyalty.LimitBudget}
	}
	if err != nil {
		return "", err
	}
	text := h.texts.Lang(r.Lang).Text("join_sms", "code", sent.Code, "program", jp.Program.Name)
	_, err = h.sms.Send(ctx, sms.Message{ID: sent.ID, To: e164, Text: text})
	if err == nil {
		h.countStep(ctx, code, store.JoinStepCode)
		return e164, nil
	}
	// Nothing was texted: the code counts against no limit.
	if cerr := h.store.Cancel(context.WithoutCancel(ctx), sent.ID); cerr != nil {
		return "", errors.Join(err, cerr)
	}
	switch sms.KindOf(err) {
	case sms.InvalidNumber, sms.NotMobile, sms.OptedOut:
		h.log.LogAttrs(ctx, slog.LevelInfo, "join code refused by the SMS provider",
			slog.String("phone", phone.Mask(e164)), slog.String("err", err.Error()))
		return "", landing.ErrBadPhone
	}
	return "", err
}

// Verify checks a code and returns the page of the customer's card.
func (h *joinHandlers) Verify(ctx context.Context, code, phoneNumber, smsCode string) (string, error) {
	jp, err := h.store.Program(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", landing.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	e164, err := phone.Normalize(phoneNumber, jp.Merchant.Country)
	if err != nil {
		return "", landing.ErrCodeGone
	}
	joined, err := h.store.Verify(ctx, store.JoinVerify{ProgramID: jp.Program.ID, Phone: e164, Code: smsCode,
		Limits: h.limits})
	var wrong *loyalty.WrongCodeError
	switch {
	case errors.As(err, &wrong):
		return "", &landing.WrongCodeError{Left: wrong.Left}
	case errors.Is(err, loyalty.ErrCodeGone):
		return "", landing.ErrCodeGone
	case err != nil:
		return "", err
	}
	h.log.LogAttrs(ctx, slog.LevelInfo, "customer joined", slog.String("program", jp.Program.ID),
		slog.Bool("new_card", joined.Created))
	h.countStep(ctx, code, store.JoinStepVerified)
	return h.shortURL + "/c/" + joined.Card.LinkToken, nil
}

// JoinViewed counts a showing of the join page (landing.JoinViews).
func (h *joinHandlers) JoinViewed(ctx context.Context, code string) {
	h.countStep(ctx, code, store.JoinStepView)
}

// countStep counts a step of the join funnel; a failure is logged, and
// the customer's join goes on.
func (h *joinHandlers) countStep(ctx context.Context, code, step string) {
	if err := h.store.CountJoinStep(context.WithoutCancel(ctx), code, step); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "join funnel not counted", slog.String("step", step),
			slog.String("err", err.Error()))
	}
}
