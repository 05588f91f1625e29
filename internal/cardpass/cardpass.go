// Package cardpass hands out the signed Apple Wallet package of a card. A
// package is rendered and signed once per (card version, program version),
// kept in the store, and served from there until either changes.
package cardpass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// Store is what the service needs of the database.
type Store interface {
	Merchant(ctx context.Context, id string) (store.Merchant, error)
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	ProgramImages(ctx context.Context, programID string) (map[string][]byte, error)
	PassFile(ctx context.Context, serial string) (store.PassFile, error)
	PutPassFile(ctx context.Context, serial string, f store.PassFile) error
	NextExpiry(ctx context.Context, serial string) (points int64, at time.Time, err error)
}

// aggregates joins the store aggregates a Cache reads and writes.
type aggregates struct {
	*store.MerchantStore
	*store.ProgramStore
	*store.CardStore
}

// StoreOf returns the Store of a Cache on the database st.
func StoreOf(st *store.Store) Store { return aggregates{st.Merchants(), st.Programs(), st.Cards()} }

// Renderer builds a signed package.
type Renderer interface {
	Render(p passes.Program, c passes.Card) ([]byte, error)
}

// ReferralCodes gives a card's referral code (store.ReferralStore).
type ReferralCodes interface {
	Code(ctx context.Context, serial string) (string, error)
}

// Service serves signed packages, rendering only when a card changed.
type Service struct {
	store    Store
	renderer Renderer
	log      *slog.Logger
	inflight singleflight.Group
	// observe, when set, is told of every package rendered and signed.
	observe func(time.Duration)
	// referrals, when set, puts the referral link on the back.
	referrals *Referrals
}

// WithReferralLinks puts the card's referral link (<shortURL>/r/{code})
// on the back of the passes of programs that pay for referrals.
func (s *Service) WithReferralLinks(codes ReferralCodes, shortURL string) *Service {
	s.referrals = NewReferrals(codes, shortURL)
	return s
}

// Referrals makes the field that carries a card's referral link, the same
// on the Apple pass's back and in the Google object's modules.
type Referrals struct {
	codes ReferralCodes
	base  string
	texts *locale.Catalogue
}

// NewReferrals returns the Referrals of links <shortURL>/r/{code}.
func NewReferrals(codes ReferralCodes, shortURL string) *Referrals {
	return &Referrals{codes: codes, base: strings.TrimRight(shortURL, "/"), texts: locale.Shipped()}
}

// Field is the back field with the card's referral link, in the
// program's language, when the program pays for referrals; ok is false
// when the card shows none. The code never changes, so the cached
// package of a card version stays right.
func (r *Referrals) Field(ctx context.Context, card loyalty.Card, prog loyalty.Program) (f passes.Field, ok bool, err error) {
	if r == nil || !prog.Referral.Enabled() || card.Status != loyalty.CardActive {
		return f, false, nil
	}
	code, err := r.codes.Code(ctx, card.SerialNumber)
	if errors.Is(err, store.ErrNotFound) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("referral code of %s: %w", card.SerialNumber, err)
	}
	lang := r.texts.Lang(prog.Locale)
	text := lang.Text("referral_body", "friend", lang.Points(prog.Referral.FriendPoints),
		"you", lang.Points(prog.Referral.ReferrerPoints))
	link := r.base + "/r/" + code
	return passes.Field{Key: "referral", Label: lang.Text("referral_label"), Value: text + "\n" + link, URL: link}, true, nil
}

// New returns a Service.
func New(st Store, r Renderer, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, renderer: r, log: log.With("component", "cardpass")}
}

// NewWithObserver is New with observe called after each package is
// rendered and signed, with the time that took (for metrics).
func NewWithObserver(st Store, r Renderer, log *slog.Logger, observe func(time.Duration)) *Service {
	s := New(st, r, log)
	s.observe = observe
	return s
}

// Pass is a signed package and the time its content last changed.
type Pass struct {
	Data     []byte
	Modified time.Time
}

// Pass returns the signed package of card. Concurrent calls for the same
// card version share one rendering.
func (s *Service) Pass(ctx context.Context, card loyalty.Card) (Pass, error) {
	prog, err := s.store.Program(ctx, card.MerchantID, card.ProgramID)
	if err != nil {
		return Pass{}, fmt.Errorf("load program of card %s: %w", card.SerialNumber, err)
	}
	// Every change of the card or its program moves PassModified on.
	modified := card.PassModified
	if f, err := s.store.PassFile(ctx, card.SerialNumber); err == nil &&
		f.CardVersion == card.Version && f.ProgramVersion == prog.Version {
		return Pass{Data: f.Data, Modified: modified}, nil
	}
	key := card.SerialNumber + "/" + strconv.FormatInt(card.Version, 10) + "/" + strconv.FormatInt(prog.Version, 10)
	// The rendering outlives a caller that gives up: others may wait on it.
	v, err, _ := s.inflight.Do(key, func() (any, error) { return s.render(context.WithoutCancel(ctx), card, prog) })
	if err != nil {
		return Pass{}, err
	}
	return Pass{Data: v.([]byte), Modified: modified}, nil
}

func (s *Service) render(ctx context.Context, card loyalty.Card, prog loyalty.Program) ([]byte, error) {
	m, err := s.store.Merchant(ctx, card.MerchantID)
	if err != nil {
		return nil, fmt.Errorf("load merchant of card %s: %w", card.SerialNumber, err)
	}
	images, err := s.store.ProgramImages(ctx, prog.ID)
	if err != nil {
		return nil, err
	}
	pc := CardFor(card, prog)
	points, at, err := s.store.NextExpiry(ctx, card.SerialNumber)
	if err != nil {
		return nil, err
	}
	// The expiry depends only on the ledger, so it changes only with the
	// card version.
	pc.Expiring = passes.Expiry{Points: points, At: at}
	if f, ok, err := s.referrals.Field(ctx, card, prog); err != nil {
		return nil, err
	} else if ok {
		pc.BackFields = append(pc.BackFields, f)
	}
	start := time.Now()
	data, err := s.renderer.Render(ProgramFor(m, prog, images), pc)
	if err != nil {
		return nil, fmt.Errorf("render pass %s: %w", card.SerialNumber, err)
	}
	took := time.Since(start)
	if s.observe != nil {
		s.observe(took)
	}
	s.log.DebugContext(ctx, "pass rendered", "serial", card.SerialNumber, "version", card.Version,
		"bytes", len(data), "duration", took)
	f := store.PassFile{CardVersion: card.Version, ProgramVersion: prog.Version, Data: data}
	if err := s.store.PutPassFile(ctx, card.SerialNumber, f); err != nil {
		return nil, err
	}
	return data, nil
}

// ProgramFor is the pass domain's view of a stored program. Of the
// program's images, the stamp icon is what a stamp card's strip is drawn
// with (its largest scale), not a file of the package.
func ProgramFor(m store.Merchant, p loyalty.Program, images map[string][]byte) passes.Program {
	var stamp []byte
	if len(images) > 0 {
		own := make(map[string][]byte, len(images))
		for name, data := range images {
			if strings.HasPrefix(name, passes.ImageStamp) {
				if name == passes.ImageStamp+"@3x.png" {
					stamp = data
				}
				continue
			}
			own[name] = data
		}
		images = own
	}
	digits, _ := loyalty.CurrencyDigits(p.CurrencyOf())
	return passes.Program{
		ID: p.ID, OrganizationName: m.Name, Name: p.Name, CurrencyLabel: p.CurrencyLabel,
		EarnRateBP: p.EarnRateBP, Terms: p.Terms, BarcodeFormat: p.BarcodeFormat, Locale: p.Locale,
		Design: passes.Design{BackgroundColor: p.BackgroundColor, ForegroundColor: p.ForegroundColor,
			LabelColor: p.LabelColor, LogoText: p.LogoText, Images: images, StampIcon: stamp},
		Version: p.Version, Kind: p.KindOf(), StampsRequired: p.StampsRequired, Reward: p.Reward, Offer: p.Offer,
		Currency: p.CurrencyOf(), CurrencyDigits: digits,
	}
}

// CardFor is the pass domain's view of a stored card. The tier shows by
// its name; a program without tiers shows none. The earn rate is the
// card's own: its tier's, or the program's when the tier sets none; so
// is the discount.
func CardFor(c loyalty.Card, p loyalty.Program) passes.Card {
	rules := p.Rules()
	return passes.Card{
		SerialNumber: c.SerialNumber, AuthenticationToken: c.AuthToken, Number: c.Number,
		HolderName: c.Customer.Name, Balance: c.Balance, Tier: rules.TierName(c.Tier), EarnRateBP: rules.EarnRate(c.Tier),
		Voided: c.Status == loyalty.CardVoided, Version: c.Version, UpdatedAt: c.UpdatedAt, Message: c.Message,
		Rewards: c.Rewards, DiscountPercent: p.DiscountFor(c.Tier), ValidUntil: c.ValidUntil, Redeemed: c.RedeemedAt != nil,
	}
}
