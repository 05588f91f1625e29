package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// programStore is what the program routes need of the database.
type programStore interface {
	CreateProgram(ctx context.Context, p *loyalty.Program) error
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	Programs(ctx context.Context, merchantID string, after store.Cursor, limit int) ([]loyalty.Program, error)
	UpdateProgram(ctx context.Context, merchantID, id string, change func(*loyalty.Program) error) (loyalty.Program, error)
	SetProgramImages(ctx context.Context, merchantID, programID, kind string, files map[string][]byte) error
}

// programHandlers serve a merchant's programs and their images.
type programHandlers struct {
	base
	store    programStore
	images   *passes.ImageScaler
	urls     cardURLs
	koshelek programKoshelek
}

func (h *programHandlers) routes(v1 gin.IRouter) {
	v1.POST("/programs", h.wrap(h.create))
	v1.GET("/programs", h.wrap(h.list))
	v1.GET("/programs/:id", h.wrap(h.get))
	v1.PATCH("/programs/:id", h.wrap(h.update))
	v1.PUT("/programs/:id/images/:kind", h.wrap(h.putImage))
	v1.DELETE("/programs/:id/images/:kind", h.wrap(h.deleteImage))
}

// programInput is the body of create and update. Pointers tell "absent"
// from "zero", so an update changes only what it names.
type programInput struct {
	Name          *string      `json:"name"`
	CurrencyLabel *string      `json:"currency_label"`
	EarnRateBP    *int         `json:"earn_rate_bp"`
	WelcomeBonus  *int64       `json:"welcome_bonus"`
	Terms         *string      `json:"terms"`
	BarcodeFormat *string      `json:"barcode_format"`
	Locale        *string      `json:"locale"`
	Design        *designInput `json:"design"`
	// Tiers replaces the whole tier list when present.
	Tiers              *[]loyalty.Tier `json:"tiers"`
	TierBasis          *string         `json:"tier_basis"`
	TierDowngrade      *bool           `json:"tier_downgrade"`
	PointsLifetimeDays *int            `json:"points_lifetime_days"`
	// Join and Referral change only the fields they name.
	Join     *joinInput     `json:"join"`
	Referral *referralInput `json:"referral"`

	// Kind is set on create only (default points); each kind's settings
	// are refused on a program of another kind (loyalty.ValidateProgram).
	Kind             *string `json:"kind"`
	StampsRequired   *int    `json:"stamps_required"`
	Reward           *string `json:"reward"`
	StampMinPurchase *int64  `json:"stamp_min_purchase"`
	DiscountPercent  *int    `json:"discount_percent"`
	Offer            *string `json:"offer"`
	ValidDays        *int    `json:"valid_days"`
	// ValidUntil is RFC 3339; a valid_days > 0 replaces it.
	ValidUntil *string `json:"valid_until"`
	Currency   *string `json:"currency"`
	PointValue *int64  `json:"point_value"`
}

type designInput struct {
	BackgroundColor *string `json:"background_color"`
	ForegroundColor *string `json:"foreground_color"`
	LabelColor      *string `json:"label_color"`
	LogoText        *string `json:"logo_text"`
}

type programJSON struct {
	ID                 string         `json:"id"`
	Name               string         `json:"name"`
	CurrencyLabel      string         `json:"currency_label"`
	EarnRateBP         int            `json:"earn_rate_bp"`
	WelcomeBonus       int64          `json:"welcome_bonus"`
	Terms              string         `json:"terms"`
	BarcodeFormat      string         `json:"barcode_format"`
	Locale             string         `json:"locale"`
	Design             designJSON     `json:"design"`
	Tiers              []loyalty.Tier `json:"tiers"`
	TierBasis          string         `json:"tier_basis"`
	TierDowngrade      bool           `json:"tier_downgrade"`
	PointsLifetimeDays int            `json:"points_lifetime_days"`
	// JoinURL is the program's join page, for posters and links.
	JoinURL  string                `json:"join_url"`
	Join     loyalty.JoinSettings  `json:"join"`
	Referral loyalty.ReferralTerms `json:"referral"`
	// KoshelekBaseURL is where the program's «Кошелёк» partner API is
	// served, while the channel is on (koshelek_merchant.go).
	KoshelekBaseURL string        `json:"koshelek_base_url,omitempty"`
	Koshelek        *koshelekJSON `json:"koshelek,omitempty"`
	Kind            string        `json:"kind"`
	// Each kind's settings, present on programs of that kind only.
	StampsRequired   int        `json:"stamps_required,omitempty"`
	Reward           string     `json:"reward,omitempty"`
	StampMinPurchase int64      `json:"stamp_min_purchase,omitempty"`
	DiscountPercent  *int       `json:"discount_percent,omitempty"`
	Offer            string     `json:"offer,omitempty"`
	ValidDays        int        `json:"valid_days,omitempty"`
	ValidUntil       *time.Time `json:"valid_until,omitempty"`
	Currency         string     `json:"currency,omitempty"`
	PointValue       int64      `json:"point_value,omitempty"`
	Version          int64      `json:"version"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

type designJSON struct {
	BackgroundColor string            `json:"background_color"`
	ForegroundColor string            `json:"foreground_color"`
	LabelColor      string            `json:"label_color"`
	LogoText        string            `json:"logo_text"`
	Images          map[string]string `json:"images"` // kind → "default" or "custom"
}

var (
	colorRE        = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	barcodeFormats = []string{passes.BarcodeQR, passes.BarcodePDF417, passes.BarcodeAztec, passes.BarcodeCode128}
	imageKinds     = []string{"icon", "logo", "strip", "stamp"}
)

// maxLogoText bounds the text beside the logo, which shares the pass's top
// row with the header fields.
const maxLogoText = 40

// newProgram is a program of kind with the defaults that a create fills
// in: a points program earns 5 %; a discount program's tiers count spend;
// a gift program counts roubles.
func newProgram(merchantID, kind string) loyalty.Program {
	p := loyalty.Program{MerchantID: merchantID, Kind: kind, Join: loyalty.DefaultJoinSettings(),
		BarcodeFormat: passes.BarcodeQR, TierBasis: loyalty.BasisPoints,
		Locale: passes.LocaleRU, BackgroundColor: "#1f2937", ForegroundColor: "#ffffff", LabelColor: "#cbd5e1"}
	switch kind {
	case loyalty.KindPoints:
		p.EarnRateBP = 500
	case loyalty.KindDiscount:
		p.TierBasis = loyalty.BasisSpend
	case loyalty.KindGift:
		p.Currency = "RUB"
	}
	return p
}

// kindOf is the kind a create asks for: points when left out.
func (in programInput) kindOf() (string, error) {
	if in.Kind == nil {
		return loyalty.KindPoints, nil
	}
	if err := loyalty.ValidateKind(*in.Kind); err != nil || *in.Kind == "" {
		return "", invalid("kind", "kind must be one of %s", strings.Join(loyalty.Kinds, ", "))
	}
	return *in.Kind, nil
}

// applyAt is apply with the time a new valid_until must be after.
func (in programInput) applyAt(now time.Time) func(p *loyalty.Program) error {
	return func(p *loyalty.Program) error {
		if in.Kind != nil && *in.Kind != p.KindOf() {
			return invalid("kind", "a program's kind cannot change: its cards' ledgers are of that kind")
		}
		if err := in.applyKind(p, now); err != nil {
			return err
		}
		return in.apply(p)
	}
}

// applyKind copies the kinds' settings present in in onto p. A setting
// given empty or zero is refused where the kinds that have it need a
// value: only leaving it out leaves it unset.
func (in programInput) applyKind(p *loyalty.Program, now time.Time) error {
	for _, f := range []struct {
		field string
		empty bool
		rule  string
	}{
		{"reward", in.Reward != nil && strings.TrimSpace(*in.Reward) == "", "reward must be 1 to 100 characters"},
		{"offer", in.Offer != nil && strings.TrimSpace(*in.Offer) == "", "offer must be 1 to 60 characters"},
		{"valid_days", in.ValidDays != nil && *in.ValidDays < 1, "valid_days must be 1 to 3650"},
		{"stamps_required", in.StampsRequired != nil && *in.StampsRequired < loyalty.MinStamps, "stamps_required must be 2 to 20"},
	} {
		if f.empty {
			return invalid(f.field, "%s", f.rule)
		}
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&p.Reward, in.Reward)
	set(&p.Offer, in.Offer)
	set(&p.Currency, in.Currency)
	for _, f := range []struct {
		dst *int
		src *int
	}{{&p.StampsRequired, in.StampsRequired}, {&p.DiscountPercent, in.DiscountPercent}, {&p.ValidDays, in.ValidDays}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.StampMinPurchase != nil {
		p.StampMinPurchase = *in.StampMinPurchase
	}
	if in.PointValue != nil {
		p.PointValue = *in.PointValue
	}
	if in.ValidUntil != nil {
		at, err := time.Parse(time.RFC3339, *in.ValidUntil)
		if err != nil {
			return invalid("valid_until", "valid_until must be a date and time with an offset, like 2026-12-31T21:00:00Z")
		}
		at = at.UTC()
		p.ValidUntil = &at
		if err := loyalty.CheckValidUntil(*p, now); err != nil {
			return invalid("valid_until", "valid_until must be in the future")
		}
		if in.ValidDays == nil {
			p.ValidDays = 0 // a fixed date replaces the days
		}
	} else if in.ValidDays != nil && *in.ValidDays > 0 {
		p.ValidUntil = nil // days replace a fixed date
	}
	return checkTexts(textValue{textRule{field: "reward", max: loyalty.MaxRewardLen}, p.Reward},
		textValue{textRule{field: "offer", max: loyalty.MaxOfferLen}, p.Offer})
}

// apply copies the fields present in in onto p and validates the result.
func (in programInput) apply(p *loyalty.Program) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&p.Name, in.Name)
	set(&p.CurrencyLabel, in.CurrencyLabel)
	set(&p.Terms, in.Terms)
	set(&p.BarcodeFormat, in.BarcodeFormat)
	set(&p.Locale, in.Locale)
	if in.EarnRateBP != nil {
		p.EarnRateBP = *in.EarnRateBP
	}
	if in.WelcomeBonus != nil {
		p.WelcomeBonus = *in.WelcomeBonus
	}
	if in.Tiers != nil {
		p.Tiers = *in.Tiers
	}
	set(&p.TierBasis, in.TierBasis)
	if in.TierDowngrade != nil {
		p.TierDowngrade = *in.TierDowngrade
	}
	if in.PointsLifetimeDays != nil {
		p.PointsLifetimeDays = *in.PointsLifetimeDays
	}
	if in.Join != nil {
		in.Join.apply(&p.Join)
	}
	if in.Referral != nil {
		in.Referral.apply(&p.Referral)
	}
	if d := in.Design; d != nil {
		set(&p.BackgroundColor, d.BackgroundColor)
		set(&p.ForegroundColor, d.ForegroundColor)
		set(&p.LabelColor, d.LabelColor)
		set(&p.LogoText, d.LogoText)
	}
	if p.CurrencyLabel == "" {
		p.CurrencyLabel = locale.Shipped().Lang(p.Locale).Text("currency_label")
	}
	if p.LogoText == "" {
		// The name may be longer than the logo text can be.
		p.LogoText = string([]rune(p.Name)[:min(utf8.RuneCountInString(p.Name), maxLogoText)])
	}
	return validateProgram(p)
}

func validateProgram(p *loyalty.Program) error {
	texts := []textValue{
		{textRule{field: "name", min: 1, max: 100}, p.Name},
		{textRule{field: "currency_label", min: 1, max: 30}, p.CurrencyLabel},
		{textRule{field: "terms", max: 4000, multiline: true}, p.Terms},
		{textRule{field: "design.logo_text", max: maxLogoText}, p.LogoText},
	}
	for i, t := range p.Tiers {
		texts = append(texts, textValue{textRule{field: fmt.Sprintf("tiers[%d].code", i), max: 32}, t.Code},
			textValue{textRule{field: fmt.Sprintf("tiers[%d].name", i), max: 30}, t.Name})
	}
	if err := checkTexts(texts...); err != nil {
		return err
	}
	if p.EarnRateBP < 0 || p.EarnRateBP > 10000 {
		return invalid("earn_rate_bp", "earn_rate_bp is basis points of the purchase: 0 to 10000 (500 = 5%%)")
	}
	if p.WelcomeBonus < 0 || p.WelcomeBonus > 1_000_000 {
		return invalid("welcome_bonus", "welcome_bonus must be 0 to 1000000 points")
	}
	if !slices.Contains(barcodeFormats, p.BarcodeFormat) {
		return invalid("barcode_format", "barcode_format must be one of %s", strings.Join(barcodeFormats, ", "))
	}
	if !locale.Shipped().Has(p.Locale) {
		return invalid("locale", "locale must be one of %s", strings.Join(locale.Shipped().Tags(), ", "))
	}
	if err := checkTexts(textValue{textRule{field: "join.personal_data_text", max: 4000, multiline: true}, p.Join.PersonalDataText},
		textValue{textRule{field: "join.ads_text", max: 1000, multiline: true}, p.Join.AdsText}); err != nil {
		return err
	}
	var fieldErr *loyalty.FieldError
	if err := errors.Join(p.Join.Validate(), p.Referral.Validate()); errors.As(err, &fieldErr) {
		return invalid(fieldErr.Field, "%s", fieldErr.Message)
	}
	if p.PointsLifetimeDays < 0 || p.PointsLifetimeDays > 3650 {
		return invalid("points_lifetime_days", "points_lifetime_days must be 0 (points never expire) to 3650")
	}
	if err := loyalty.ValidateProgram(*p); errors.As(err, &fieldErr) {
		return invalid(fieldErr.Field, "%s", fieldErr.Message)
	} else if err != nil {
		return internal(err)
	}
	for field, v := range map[string]string{"design.background_color": p.BackgroundColor,
		"design.foreground_color": p.ForegroundColor, "design.label_color": p.LabelColor} {
		if !colorRE.MatchString(v) {
			return invalid(field, "%s must be a colour like #1f2937", field)
		}
	}
	return nil
}

func (h *programHandlers) toJSON(p loyalty.Program) programJSON {
	out := toProgramJSON(p)
	out.JoinURL = h.urls.joinLink(p.JoinCode)
	return out
}

func toProgramJSON(p loyalty.Program) programJSON {
	tiers := p.Tiers
	if tiers == nil {
		tiers = []loyalty.Tier{}
	}
	images := map[string]string{}
	for _, k := range imageKinds {
		images[k] = "default"
		if slices.Contains(p.CustomImages, k) {
			images[k] = "custom"
		}
	}
	out := programJSON{ID: p.ID, Name: p.Name, CurrencyLabel: p.CurrencyLabel, EarnRateBP: p.EarnRateBP,
		WelcomeBonus: p.WelcomeBonus, Terms: p.Terms, BarcodeFormat: p.BarcodeFormat, Locale: p.Locale,
		Design: designJSON{BackgroundColor: p.BackgroundColor, ForegroundColor: p.ForegroundColor,
			LabelColor: p.LabelColor, LogoText: p.LogoText, Images: images},
		Tiers: tiers, TierBasis: p.TierBasis, TierDowngrade: p.TierDowngrade, PointsLifetimeDays: p.PointsLifetimeDays,
		Join: p.Join, Referral: p.Referral,
		Kind: p.KindOf(), StampsRequired: p.StampsRequired, Reward: p.Reward, StampMinPurchase: p.StampMinPurchase,
		Offer: p.Offer, ValidDays: p.ValidDays, ValidUntil: p.ValidUntil, Currency: p.Currency, PointValue: p.PointValue,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.KindOf() == loyalty.KindDiscount {
		out.DiscountPercent = &p.DiscountPercent
	}
	return out
}

func (h *programHandlers) create(c *gin.Context) error {
	var in programInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	kind, err := in.kindOf()
	if err != nil {
		return err
	}
	p := newProgram(merchantID(c), kind)
	if err := in.applyAt(time.Now())(&p); err != nil {
		return err
	}
	if err := h.store.CreateProgram(c.Request.Context(), &p); err != nil {
		return internal(err)
	}
	return h.answer(c, http.StatusCreated, p)
}

func (h *programHandlers) get(c *gin.Context) error {
	p, err := h.store.Program(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "program")
	}
	return h.answer(c, http.StatusOK, p)
}

// answer writes a program with its «Кошелёк» channel.
func (h *programHandlers) answer(c *gin.Context, status int, p loyalty.Program) error {
	out := []programJSON{h.toJSON(p)}
	if err := h.koshelek.withKoshelek(c.Request.Context(), p.MerchantID, out); err != nil {
		return internal(err)
	}
	c.JSON(status, out[0])
	return nil
}

func (h *programHandlers) list(c *gin.Context) error {
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ps, err := h.store.Programs(c.Request.Context(), merchantID(c), after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]programJSON, len(ps))
	for i, p := range ps {
		out[i] = h.toJSON(p)
	}
	if err := h.koshelek.withKoshelek(c.Request.Context(), merchantID(c), out); err != nil {
		return internal(err)
	}
	next := ""
	if len(ps) == limit {
		last := ps[len(ps)-1]
		next = store.Cursor{Time: last.CreatedAt, ID: last.ID}.String()
	}
	c.JSON(http.StatusOK, gin.H{"programs": out, "next_cursor": next})
	return nil
}

func (h *programHandlers) update(c *gin.Context) error {
	var in programUpdateInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Koshelek != nil {
		return h.updateWithKoshelek(c, in)
	}
	p, err := h.store.UpdateProgram(c.Request.Context(), merchantID(c), c.Param("id"), in.applyAt(time.Now()))
	if err != nil {
		return storeError(err, "program")
	}
	return h.answer(c, http.StatusOK, p)
}

// maxImage caps an uploaded image; Apple's largest (@3x strip) is far smaller.
const maxImage = 1 << 20

func (h *programHandlers) putImage(c *gin.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(imageKinds, kind) {
		return notFound("image kind " + kind)
	}
	if ct := c.GetHeader("Content-Type"); ct != "image/png" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "send the image as Content-Type: image/png"}
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxImage))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("the image is larger than %d bytes", maxImage)}
	}
	if err != nil {
		return badRequest("bad_body", "", "could not read the image")
	}
	files, err := h.images.Scale(c.Request.Context(), kind, data)
	var bad *passes.ImageError
	switch {
	case errors.As(err, &bad) && bad.TooLarge:
		return &Error{Status: http.StatusUnprocessableEntity, Code: "image_too_large", Field: "image", Message: err.Error()}
	case errors.As(err, &bad):
		return invalid("image", "the image cannot go on a pass: %s", bad.Reason)
	case err != nil && c.Request.Context().Err() != nil:
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "the image waited too long for memory to decode it in; try again", Err: err}
	case err != nil:
		return internal(err)
	}
	return h.setImages(c, kind, files)
}

func (h *programHandlers) deleteImage(c *gin.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(imageKinds, kind) {
		return notFound("image kind " + kind)
	}
	return h.setImages(c, kind, nil)
}

func (h *programHandlers) setImages(c *gin.Context, kind string, files map[string][]byte) error {
	id := c.Param("id")
	if err := h.store.SetProgramImages(c.Request.Context(), merchantID(c), id, kind, files); err != nil {
		return storeError(err, "program")
	}
	p, err := h.store.Program(c.Request.Context(), merchantID(c), id)
	if err != nil {
		return storeError(err, "program")
	}
	return h.answer(c, http.StatusOK, p)
}

// storeError maps store errors to API errors; what names the resource.
func storeError(err error, what string) error {
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, store.ErrNotFound):
		return notFound(what)
	}
	return internal(err)
}
