package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/store"
)

// campaignStore is what the campaign routes need of the database: the
// campaigns and, to check an audience's tier, their program.
type campaignStore interface {
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	CreateCampaign(ctx context.Context, c *store.Campaign) error
	Campaign(ctx context.Context, merchantID, id string) (store.Campaign, error)
	Campaigns(ctx context.Context, merchantID string, after store.Cursor, limit int) ([]store.Campaign, error)
	StartCampaign(ctx context.Context, merchantID, id string) (store.Campaign, error)
	SetCampaignStatus(ctx context.Context, merchantID, id, from, to string) (store.Campaign, error)
	CampaignFunnel(ctx context.Context, c store.Campaign) (store.Funnel, store.Funnel, error)
}

// campaignHandlers create, run and report SMS campaigns.
type campaignHandlers struct {
	base
	store    campaignStore
	sms      SMSOptions
	shortURL string // the base of the links the texts carry
}

func (h *campaignHandlers) routes(v1 gin.IRouter) {
	v1.POST("/campaigns", h.wrap(h.create))
	v1.GET("/campaigns", h.wrap(h.list))
	v1.GET("/campaigns/:id", h.wrap(h.get))
	v1.POST("/campaigns/:id/:action", h.wrap(h.action))
	v1.GET("/campaigns/:id/report", h.wrap(h.report))
}

// SMSOptions is the SMS side of the API.
type SMSOptions struct {
	// Providers are the configured provider names; DefaultProvider is
	// used by campaigns that name none.
	Providers       []string
	DefaultProvider string
	// TwilioAuthToken verifies X-Twilio-Signature on Twilio callbacks.
	TwilioAuthToken string
	// CallbackSecret is the path secret of SMS.ru and SMSC callbacks,
	// which carry no signature.
	CallbackSecret string
}

type campaignInput struct {
	ProgramID          string  `json:"program_id"`
	Name               string  `json:"name"`
	LapsedDays         *int    `json:"lapsed_days"`
	Tier               string  `json:"tier"`
	Installed          *string `json:"installed"`
	BonusPoints        int64   `json:"bonus_points"`
	BonusOn            *string `json:"bonus_on"`
	Template           string  `json:"template"`
	HoldoutPercent     *int    `json:"holdout_percent"`
	QuietStart         *int    `json:"quiet_start"`
	QuietEnd           *int    `json:"quiet_end"`
	Timezone           string  `json:"timezone"`
	SendRate           int     `json:"send_rate"`
	FrequencyCapDays   *int    `json:"frequency_cap_days"`
	PurchaseWindowDays int     `json:"purchase_window_days"`
	Provider           string  `json:"provider"`
}

type campaignJSON struct {
	ID                 string     `json:"id"`
	ProgramID          string     `json:"program_id"`
	Name               string     `json:"name"`
	Status             string     `json:"status"`
	LapsedDays         int        `json:"lapsed_days"`
	Tier               string     `json:"tier"`
	Installed          string     `json:"installed"`
	BonusPoints        int64      `json:"bonus_points"`
	BonusOn            string     `json:"bonus_on"`
	Template           string     `json:"template"`
	HoldoutPercent     float64    `json:"holdout_percent"`
	QuietStart         int        `json:"quiet_start"`
	QuietEnd           int        `json:"quiet_end"`
	Timezone           string     `json:"timezone"`
	SendRate           int        `json:"send_rate"`
	FrequencyCapDays   int        `json:"frequency_cap_days"`
	PurchaseWindowDays int        `json:"purchase_window_days"`
	Provider           string     `json:"provider"`
	Audience           int        `json:"audience"`
	Holdout            int        `json:"holdout"`
	Preview            smsPreview `json:"preview"`
	CreatedAt          time.Time  `json:"created_at"`
	StartedAt          *time.Time `json:"started_at"`
	FinishedAt         *time.Time `json:"finished_at"`
}

// smsPreview is the text as a sample customer gets it, with its length
// in SMS segments: what the merchant pays per recipient.
type smsPreview struct {
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
	Segments int    `json:"segments"`
	Units    int    `json:"units"`
}

func (h *campaignHandlers) preview(c store.Campaign) smsPreview {
	text, seg := outreach.Preview(c.Template, c.BonusPoints, h.shortURL)
	return smsPreview{Text: text, Encoding: seg.Encoding, Segments: seg.Parts, Units: seg.Units}
}

func (h *campaignHandlers) campaignJSON(c store.Campaign) campaignJSON {
	return campaignJSON{ID: c.ID, ProgramID: c.ProgramID, Name: c.Name, Status: c.Status, LapsedDays: c.LapsedDays,
		Tier: c.Tier, Installed: c.Installed, BonusPoints: c.BonusPoints, BonusOn: c.BonusOn, Template: c.Template,
		HoldoutPercent: float64(c.HoldoutBP) / 100, QuietStart: c.QuietStart, QuietEnd: c.QuietEnd, Timezone: c.Timezone,
		SendRate: c.SendRate, FrequencyCapDays: c.FrequencyCapDays, PurchaseWindowDays: c.PurchaseWindowDays,
		Provider: c.Provider, Audience: c.Audience, Holdout: c.Holdout, Preview: h.preview(c), CreatedAt: c.CreatedAt,
		StartedAt: c.StartedAt, FinishedAt: c.FinishedAt}
}

// toCampaign applies defaults and checks every field.
func (h *campaignHandlers) toCampaign(in campaignInput, merchantID string) (store.Campaign, error) {
	c := store.Campaign{MerchantID: merchantID, ProgramID: in.ProgramID, Name: strings.TrimSpace(in.Name), Tier: in.Tier,
		Installed: "any", BonusPoints: in.BonusPoints, BonusOn: "open", Template: strings.TrimSpace(in.Template),
		Timezone: in.Timezone, SendRate: in.SendRate, PurchaseWindowDays: in.PurchaseWindowDays, Provider: in.Provider,
		LapsedDays: 90, HoldoutBP: 1000, QuietStart: 21, QuietEnd: 9, FrequencyCapDays: 30}
	setInt := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setInt(&c.LapsedDays, in.LapsedDays)
	setInt(&c.QuietStart, in.QuietStart)
	setInt(&c.QuietEnd, in.QuietEnd)
	setInt(&c.FrequencyCapDays, in.FrequencyCapDays)
	// An enum left out takes its default; given, it must be a listed value.
	for dst, src := range map[*string]*string{&c.Installed: in.Installed, &c.BonusOn: in.BonusOn} {
		if src != nil {
			*dst = *src
		}
	}
	if in.HoldoutPercent != nil {
		c.HoldoutBP = *in.HoldoutPercent * 100
	}
	defaults := map[*string]string{&c.Timezone: "Europe/Moscow", &c.Provider: h.sms.DefaultProvider}
	for p, v := range defaults {
		if *p == "" {
			*p = v
		}
	}
	if c.SendRate == 0 {
		c.SendRate = 60
	}
	if c.PurchaseWindowDays == 0 {
		c.PurchaseWindowDays = 30
	}
	if err := checkTexts(
		textValue{textRule{field: "name", min: 1, max: 100}, c.Name},
		textValue{textRule{field: "template", min: 1, max: maxTemplate, multiline: true}, c.Template},
		textValue{textRule{field: "tier", max: 32}, c.Tier},
	); err != nil {
		return c, err
	}
	switch {
	case c.ProgramID == "":
		return c, invalid("program_id", "program_id is required")
	case c.LapsedDays < 1 || c.LapsedDays > 3650:
		return c, invalid("lapsed_days", "lapsed_days (no purchase in that many days) must be 1 to 3650")
	case !slices.Contains([]string{"any", "installed", "not_installed"}, c.Installed):
		return c, invalid("installed", "installed must be any, installed or not_installed")
	case c.BonusPoints < 0 || c.BonusPoints > 1_000_000:
		return c, invalid("bonus_points", "bonus_points must be 0 to 1000000")
	case c.BonusOn != "open" && c.BonusOn != "install":
		return c, invalid("bonus_on", "bonus_on must be open (the link is opened) or install (the card is installed)")
	case !strings.Contains(c.Template, "{link}"):
		return c, invalid("template", "template must contain {link}; it may use {name}, {bonus} and {points}")
	case c.HoldoutBP < 0 || c.HoldoutBP > 5000:
		return c, invalid("holdout_percent", "holdout_percent must be 0 to 50")
	case c.QuietStart < 0 || c.QuietStart > 23 || c.QuietEnd < 0 || c.QuietEnd > 23:
		return c, invalid("quiet_start", "quiet_start and quiet_end are hours 0 to 23 in the campaign's time zone")
	case c.SendRate < 1 || c.SendRate > 100_000:
		return c, invalid("send_rate", "send_rate (messages per minute) must be 1 to 100000")
	case c.FrequencyCapDays < 0 || c.FrequencyCapDays > 365:
		return c, invalid("frequency_cap_days", "frequency_cap_days must be 0 to 365")
	case c.PurchaseWindowDays < 1 || c.PurchaseWindowDays > 365:
		return c, invalid("purchase_window_days", "purchase_window_days must be 1 to 365")
	case !slices.Contains(h.sms.Providers, c.Provider):
		return c, invalid("provider", "provider %q is not configured (configured: %s)", c.Provider, strings.Join(h.sms.Providers, ", "))
	}
	// "Local" is the server's own zone, which a merchant cannot know.
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "Local" {
		return c, invalid("timezone", "timezone %q is not an IANA zone such as Europe/Moscow", c.Timezone)
	}
	if _, seg := outreach.Preview(c.Template, c.BonusPoints, h.shortURL); seg.Parts > MaxCampaignSegments {
		return c, invalid("template", "the text takes %d SMS segments; keep it within %d", seg.Parts, MaxCampaignSegments)
	}
	return c, nil
}

func (h *campaignHandlers) create(c *gin.Context) error {
	var in campaignInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	camp, err := h.toCampaign(in, merchantID(c))
	if err != nil {
		return err
	}
	prog, err := h.store.Program(c.Request.Context(), camp.MerchantID, camp.ProgramID)
	if err != nil {
		return storeError(err, "program")
	}
	if err := checkCampaignTier(camp.Tier, prog); err != nil {
		return err
	}
	if err := h.store.CreateCampaign(c.Request.Context(), &camp); err != nil {
		return internal(err)
	}
	c.JSON(http.StatusCreated, h.campaignJSON(camp))
	return nil
}

// MaxCampaignSegments is the longest campaign text, in SMS segments.
const MaxCampaignSegments = 6

// maxTemplate bounds a campaign text; the segment limit in toCampaign is
// the real bound and is usually reached first.
const maxTemplate = 1000

// checkCampaignTier refuses an audience tier the program does not have:
// such a campaign would reach nobody.
func checkCampaignTier(tier string, p loyalty.Program) error {
	if tier == "" {
		return nil
	}
	codes := []string{loyalty.BaseTier}
	if len(p.Tiers) > 0 {
		codes = codes[:0]
		for _, t := range p.Tiers {
			codes = append(codes, t.Code)
		}
	}
	if !slices.Contains(codes, tier) {
		return invalid("tier", "tier %q is not a tier of program %s; its tiers are %s", tier, p.ID, strings.Join(codes, ", "))
	}
	return nil
}

func (h *campaignHandlers) get(c *gin.Context) error {
	camp, err := h.store.Campaign(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "campaign")
	}
	c.JSON(http.StatusOK, h.campaignJSON(camp))
	return nil
}

func (h *campaignHandlers) list(c *gin.Context) error {
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := h.store.Campaigns(c.Request.Context(), merchantID(c), after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]campaignJSON, len(list))
	for i, camp := range list {
		out[i] = h.campaignJSON(camp)
	}
	next := ""
	if len(list) == limit {
		next = store.Cursor{Time: list[len(list)-1].CreatedAt, ID: list[len(list)-1].ID}.String()
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": out, "next_cursor": next})
	return nil
}

// action handles start, pause, resume and cancel.
func (h *campaignHandlers) action(c *gin.Context) error {
	ctx, mid, id := c.Request.Context(), merchantID(c), c.Param("id")
	var camp store.Campaign
	var err error
	switch action := c.Param("action"); action {
	case "start", "resume":
		camp, err = h.store.StartCampaign(ctx, mid, id)
	case "pause":
		camp, err = h.store.SetCampaignStatus(ctx, mid, id, store.CampaignRunning, store.CampaignPaused)
	case "cancel":
		if camp, err = h.store.Campaign(ctx, mid, id); err == nil && (camp.Status == store.CampaignFinished) {
			err = store.ErrCampaignState
		} else if err == nil {
			camp, err = h.store.SetCampaignStatus(ctx, mid, id, camp.Status, store.CampaignCancelled)
		}
	default:
		return notFound("campaign action " + action)
	}
	if errors.Is(err, store.ErrCampaignState) {
		return &Error{Status: http.StatusConflict, Code: "campaign_state",
			Message: "the campaign is " + camp.Status + " and cannot " + c.Param("action")}
	}
	if err != nil {
		return storeError(err, "campaign")
	}
	c.JSON(http.StatusOK, h.campaignJSON(camp))
	return nil
}

type funnelJSON struct {
	Recipients int64   `json:"recipients"`
	Sent       int64   `json:"sent"`
	Delivered  int64   `json:"delivered"`
	Failed     int64   `json:"failed"`
	Skipped    int64   `json:"skipped"`
	Clicked    int64   `json:"clicked"`
	Installed  int64   `json:"installed"`
	Bonus      int64   `json:"bonus_credited"`
	Purchasers int64   `json:"purchasers"`
	Conversion float64 `json:"conversion"`
}

// report is the funnel of the texted group next to the holdout,
// and the lift: the difference of their purchase conversions.
func (h *campaignHandlers) report(c *gin.Context) error {
	camp, err := h.store.Campaign(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "campaign")
	}
	texted, holdout, err := h.store.CampaignFunnel(c.Request.Context(), camp)
	if err != nil {
		return internal(err)
	}
	toJSON := func(f store.Funnel) funnelJSON {
		return funnelJSON{f.Recipients, f.Sent, f.Delivered, f.Failed, f.Skipped, f.Clicked, f.Installed, f.Bonus,
			f.Purchasers, round4(f.Conversion())}
	}
	lift := gin.H{"absolute_points": round4((texted.Conversion() - holdout.Conversion()) * 100)}
	if holdout.Conversion() > 0 {
		lift["relative"] = round4(texted.Conversion()/holdout.Conversion() - 1)
	}
	// The same measurement as an automation's report.
	if cmp := outreach.Compare(outreach.Group{Assigned: texted.Recipients, Sent: texted.Sent, Purchasers: texted.Purchasers},
		outreach.Group{Assigned: holdout.Recipients, Purchasers: holdout.Purchasers}); cmp.Valid {
		lift["ci95_low_points"], lift["ci95_high_points"] = cmp.LowPP, cmp.HighPP
		lift["p_value"], lift["significant"] = cmp.P, cmp.Significant
	}
	c.JSON(http.StatusOK, gin.H{"campaign_id": camp.ID, "status": camp.Status, "audience": camp.Audience,
		"purchase_window_days": camp.PurchaseWindowDays, "texted": toJSON(texted), "holdout": toJSON(holdout), "lift": lift})
	return nil
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }
