package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// automationStore is what the automation routes need of the database:
// the automations, their report, and the program each runs in.
type automationStore interface {
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	CreateAutomation(ctx context.Context, a *store.Automation) error
	Automation(ctx context.Context, merchantID, id string) (store.Automation, error)
	Automations(ctx context.Context, merchantID string, after store.Cursor, limit int) ([]store.Automation, error)
	SetAutomationStatus(ctx context.Context, merchantID, id, from, to, reason string) (store.Automation, error)
	AutomationReport(ctx context.Context, id string, closedBy time.Time) ([]store.AutomationGroup, []store.ChannelCount, error)
}

// automationHandlers create, list, pause, resume, delete and report
// automations.
type automationHandlers struct {
	base
	store    automationStore
	sms      SMSOptions
	shortURL string
}

func (h *automationHandlers) routes(v1 gin.IRouter) {
	v1.POST("/automations", h.wrap(h.create))
	v1.GET("/automations", h.wrap(h.list))
	v1.GET("/automations/:id", h.wrap(h.get))
	v1.DELETE("/automations/:id", h.wrap(h.delete))
	v1.POST("/automations/:id/:action", h.wrap(h.action))
	v1.GET("/automations/:id/report", h.wrap(h.report))
}

type triggerInput struct {
	Type       string `json:"type"`
	DaysBefore *int   `json:"days_before"`
	Days       *int   `json:"days"`
	DaysAfter  *int   `json:"days_after"`
	DuePercent *int   `json:"due_percent"`
	Tier       string `json:"tier"`
}

type variantInput struct {
	Text        string `json:"text"`
	BonusPoints int64  `json:"bonus_points"`
}

type automationInput struct {
	ProgramID          string         `json:"program_id"`
	Name               string         `json:"name"`
	Trigger            *triggerInput  `json:"trigger"`
	Variants           []variantInput `json:"variants"`
	HoldoutPercent     *int           `json:"holdout_percent"`
	FrequencyCapDays   *int           `json:"frequency_cap_days"`
	QuietStart         *int           `json:"quiet_start"`
	QuietEnd           *int           `json:"quiet_end"`
	Timezone           string         `json:"timezone"`
	PurchaseWindowDays *int           `json:"purchase_window_days"`
	Provider           string         `json:"provider"`
	AutoPauseMinSample int            `json:"auto_pause_min_sample"`
	WinnerMinSample    int            `json:"winner_min_sample"`
}

type triggerJSON struct {
	Type       string `json:"type"`
	DaysBefore *int   `json:"days_before,omitempty"`
	Days       *int   `json:"days,omitempty"`
	DaysAfter  *int   `json:"days_after,omitempty"`
	DuePercent *int   `json:"due_percent,omitempty"`
	Tier       string `json:"tier,omitempty"`
}

type variantJSON struct {
	Text        string     `json:"text"`
	BonusPoints int64      `json:"bonus_points"`
	Preview     smsPreview `json:"preview"`
}

type automationJSON struct {
	ID                 string        `json:"id"`
	ProgramID          string        `json:"program_id"`
	Name               string        `json:"name"`
	Status             string        `json:"status"`
	PausedReason       string        `json:"paused_reason"`
	Trigger            triggerJSON   `json:"trigger"`
	Variants           []variantJSON `json:"variants"`
	HoldoutPercent     float64       `json:"holdout_percent"`
	FrequencyCapDays   int           `json:"frequency_cap_days"`
	QuietStart         int           `json:"quiet_start"`
	QuietEnd           int           `json:"quiet_end"`
	Timezone           string        `json:"timezone"`
	PurchaseWindowDays int           `json:"purchase_window_days"`
	Provider           string        `json:"provider"`
	AutoPauseMinSample int           `json:"auto_pause_min_sample"`
	WinnerMinSample    int           `json:"winner_min_sample"`
	Winner             *int          `json:"winner"`
	EvaluatedUntil     time.Time     `json:"evaluated_until"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
}

// sampleName and sampleLink fill previews and the length checks: a
// typical name, and a card link as long as real ones.
const sampleName = "Анна"

func (h *automationHandlers) sampleLink() string { return h.shortURL + "/c/" + strings.Repeat("x", 12) }

func (h *automationHandlers) automationJSON(a store.Automation) automationJSON {
	out := automationJSON{ID: a.ID, ProgramID: a.ProgramID, Name: a.Name, Status: a.Status, PausedReason: a.PausedReason,
		Trigger: triggerJSON{Type: a.Trigger.Type, Tier: a.Trigger.Tier}, HoldoutPercent: float64(a.HoldoutBP) / 100,
		FrequencyCapDays: a.FrequencyCapDays, QuietStart: a.QuietStart, QuietEnd: a.QuietEnd, Timezone: a.Timezone,
		PurchaseWindowDays: a.PurchaseWindowDays, Provider: a.Provider, AutoPauseMinSample: a.AutoPauseMin,
		WinnerMinSample: a.WinnerMin, EvaluatedUntil: a.EvaluatedUntil, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	days := a.Trigger.Days
	switch a.Trigger.DaysField() {
	case "days_before":
		out.Trigger.DaysBefore = &days
	case "days":
		out.Trigger.Days = &days
	case "days_after":
		out.Trigger.DaysAfter = &days
	}
	if a.Trigger.Type == loyalty.TriggerRepurchaseDue {
		p := a.Trigger.DuePercent
		out.Trigger.DuePercent = &p
	}
	if a.Winner >= 0 {
		w := a.Winner
		out.Winner = &w
	}
	for _, v := range a.Variants {
		text := outreach.Render(v.Text, sampleName, v.Bonus, h.sampleLink())
		seg := sms.Count(text)
		out.Variants = append(out.Variants, variantJSON{Text: v.Text, BonusPoints: v.Bonus,
			Preview: smsPreview{Text: text, Encoding: seg.Encoding, Segments: seg.Parts, Units: seg.Units}})
	}
	return out
}

// toTrigger reads the trigger: exactly the number its type takes.
func toTrigger(in *triggerInput) (loyalty.Trigger, error) {
	if in == nil {
		return loyalty.Trigger{}, invalid("trigger", "trigger is required: {\"type\": …} with the numbers its type takes")
	}
	t := loyalty.Trigger{Type: in.Type, Tier: in.Tier}
	if !slices.Contains(loyalty.Triggers, t.Type) {
		return t, invalid("trigger.type", "trigger.type must be one of %s", strings.Join(loyalty.Triggers, ", "))
	}
	want := t.DaysField()
	for name, v := range map[string]*int{"days_before": in.DaysBefore, "days": in.Days, "days_after": in.DaysAfter} {
		switch {
		case v != nil && name != want:
			return t, invalid("trigger."+name, "a %s trigger takes no %s%s", t.Type, name, takes(want))
		case v != nil:
			t.Days = *v
		case name == want && t.Type != loyalty.TriggerBirthday && t.Type != loyalty.TriggerEnrolled:
			return t, invalid("trigger."+name, "a %s trigger needs %s", t.Type, name)
		}
	}
	if in.DuePercent != nil {
		if t.Type != loyalty.TriggerRepurchaseDue {
			return t, invalid("trigger.due_percent", "only a repurchase_due trigger takes due_percent")
		}
		t.DuePercent = *in.DuePercent
	}
	if in.Tier != "" && t.Type != loyalty.TriggerTierChanged {
		return t, invalid("trigger.tier", "only a tier_changed trigger takes tier")
	}
	return t, nil
}

func takes(field string) string {
	if field == "" {
		return ""
	}
	return "; it takes " + field
}

// toAutomation applies defaults and checks every field; the trigger and
// the bonuses are checked against the program by the domain.
func (h *automationHandlers) toAutomation(in automationInput, merchantID string) (store.Automation, error) {
	a := store.Automation{MerchantID: merchantID, ProgramID: in.ProgramID, Name: strings.TrimSpace(in.Name),
		HoldoutBP: 1000, FrequencyCapDays: 14, QuietStart: 21, QuietEnd: 9, Timezone: in.Timezone,
		PurchaseWindowDays: 14, Provider: in.Provider, AutoPauseMin: in.AutoPauseMinSample,
		WinnerMin: in.WinnerMinSample}
	for dst, src := range map[*int]*int{&a.FrequencyCapDays: in.FrequencyCapDays, &a.QuietStart: in.QuietStart,
		&a.QuietEnd: in.QuietEnd, &a.PurchaseWindowDays: in.PurchaseWindowDays} {
		if src != nil {
			*dst = *src
		}
	}
	if in.HoldoutPercent != nil {
		a.HoldoutBP = *in.HoldoutPercent * 100
	}
	if a.Timezone == "" {
		a.Timezone = "Europe/Moscow"
	}
	if a.Provider == "" {
		a.Provider = h.sms.DefaultProvider
	}
	if err := (textRule{field: "name", min: 1, max: 100}).check(a.Name); err != nil {
		return a, err
	}
	var err error
	if a.Trigger, err = toTrigger(in.Trigger); err != nil {
		return a, err
	}
	switch {
	case a.ProgramID == "":
		return a, invalid("program_id", "program_id is required")
	case len(in.Variants) < 1 || len(in.Variants) > 4:
		return a, invalid("variants", "variants must hold 1 to 4 versions of the message (2 to 4 make an A/B test)")
	case a.HoldoutBP < 0 || a.HoldoutBP > 5000:
		return a, invalid("holdout_percent", "holdout_percent must be 0 to 50")
	case a.FrequencyCapDays < 0 || a.FrequencyCapDays > 365:
		return a, invalid("frequency_cap_days", "frequency_cap_days must be 0 to 365")
	case a.QuietStart < 0 || a.QuietStart > 23:
		return a, invalid("quiet_start", "quiet_start is an hour 0 to 23 in the automation's time zone")
	case a.QuietEnd < 0 || a.QuietEnd > 23:
		return a, invalid("quiet_end", "quiet_end is an hour 0 to 23 in the automation's time zone")
	case a.PurchaseWindowDays < 1 || a.PurchaseWindowDays > 365:
		return a, invalid("purchase_window_days", "purchase_window_days must be 1 to 365")
	case a.AutoPauseMin < 0 || a.AutoPauseMin > 1_000_000:
		return a, invalid("auto_pause_min_sample", "auto_pause_min_sample must be 0 (off) to 1000000")
	case a.WinnerMin < 0 || a.WinnerMin > 1_000_000:
		return a, invalid("winner_min_sample", "winner_min_sample must be 0 (off) to 1000000")
	case a.WinnerMin > 0 && len(in.Variants) < 2:
		return a, invalid("winner_min_sample", "winner_min_sample needs at least 2 variants to choose from")
	case a.AutoPauseMin > 0 && a.HoldoutBP == 0:
		return a, invalid("auto_pause_min_sample", "auto_pause_min_sample needs a holdout to measure the lift against")
	case !slices.Contains(h.sms.Providers, a.Provider):
		return a, invalid("provider", "provider %q is not configured (configured: %s)", a.Provider, strings.Join(h.sms.Providers, ", "))
	}
	if _, err := time.LoadLocation(a.Timezone); err != nil || a.Timezone == "Local" {
		return a, invalid("timezone", "timezone %q is not an IANA zone such as Europe/Moscow", a.Timezone)
	}
	for i, v := range in.Variants {
		field := fmt.Sprintf("variants[%d]", i)
		text := strings.TrimSpace(v.Text)
		if err := (textRule{field: field + ".text", min: 1, max: messageHardLimit, multiline: true}).check(text); err != nil {
			return a, err
		}
		if err := outreach.CheckPlaceholders(text); err != nil {
			return a, invalid(field+".text", "%s: %v", field+".text", err)
		}
		rendered := outreach.Render(text, sampleName, v.BonusPoints, h.sampleLink())
		if n := utf8.RuneCountInString(rendered); n > messageHardLimit {
			return a, invalid(field+".text", "the message as sent takes %d characters; the lock screen shows at most %d", n, messageHardLimit)
		}
		if seg := sms.Count(rendered); seg.Parts > 6 {
			return a, invalid(field+".text", "the message as sent takes %d SMS segments; keep it within 6", seg.Parts)
		}
		a.Variants = append(a.Variants, store.Variant{Text: text, BonusKind: loyalty.BonusPoints, Bonus: v.BonusPoints})
	}
	return a, nil
}

func (h *automationHandlers) create(c *gin.Context) error {
	var in automationInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := h.toAutomation(in, merchantID(c))
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	prog, err := h.store.Program(ctx, a.MerchantID, a.ProgramID)
	if err != nil {
		return storeError(err, "program")
	}
	checks := []error{loyalty.ValidateTrigger(a.Trigger, prog)}
	for i, v := range a.Variants {
		checks = append(checks, loyalty.ValidateBonus(loyalty.Bonus{Kind: v.BonusKind, Amount: v.Bonus}, prog,
			fmt.Sprintf("variants[%d].bonus_points", i)))
	}
	var fieldErr *loyalty.FieldError
	if errors.As(errors.Join(checks...), &fieldErr) {
		return invalid(fieldErr.Field, "%s", fieldErr.Message)
	}
	if err := h.store.CreateAutomation(ctx, &a); err != nil {
		return internal(err)
	}
	c.JSON(http.StatusCreated, h.automationJSON(a))
	return nil
}

func (h *automationHandlers) get(c *gin.Context) error {
	a, err := h.store.Automation(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "automation")
	}
	c.JSON(http.StatusOK, h.automationJSON(a))
	return nil
}

func (h *automationHandlers) list(c *gin.Context) error {
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := h.store.Automations(c.Request.Context(), merchantID(c), after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]automationJSON, len(list))
	for i, a := range list {
		out[i] = h.automationJSON(a)
	}
	next := ""
	if len(list) == limit {
		next = store.Cursor{Time: list[len(list)-1].CreatedAt, ID: list[len(list)-1].ID}.String()
	}
	c.JSON(http.StatusOK, gin.H{"automations": out, "next_cursor": next})
	return nil
}

// action pauses or resumes an automation.
func (h *automationHandlers) action(c *gin.Context) error {
	from, to := store.AutomationActive, store.AutomationPaused
	switch action := c.Param("action"); action {
	case "pause":
	case "resume":
		from, to = to, from
	default:
		return notFound("automation action " + action)
	}
	return h.move(c, from, to)
}

func (h *automationHandlers) delete(c *gin.Context) error {
	a, err := h.store.Automation(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "automation")
	}
	if _, err := h.store.SetAutomationStatus(c.Request.Context(), a.MerchantID, a.ID, a.Status, store.AutomationDeleted, ""); err != nil {
		return storeError(err, "automation")
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (h *automationHandlers) move(c *gin.Context, from, to string) error {
	a, err := h.store.SetAutomationStatus(c.Request.Context(), merchantID(c), c.Param("id"), from, to, "")
	if errors.Is(err, store.ErrAutomationState) {
		return &Error{Status: http.StatusConflict, Code: "automation_state",
			Message: "the automation is " + a.Status + " and cannot " + c.Param("action")}
	}
	if err != nil {
		return storeError(err, "automation")
	}
	c.JSON(http.StatusOK, h.automationJSON(a))
	return nil
}

// groupJSON is a group's customers: assigned to it, sent at least one
// message, bought within a window.
type groupJSON struct {
	Assigned   int64   `json:"assigned"`
	Sent       int64   `json:"sent"`
	Purchasers int64   `json:"purchasers"`
	Revenue    int64   `json:"revenue"`
	Conversion float64 `json:"conversion"`
}

type liftJSON struct {
	Points        float64 `json:"points"`
	CI95LowPoints float64 `json:"ci95_low_points"`
	CI95High      float64 `json:"ci95_high_points"`
	PValue        float64 `json:"p_value"`
	Significant   bool    `json:"significant"`
}

type variantReportJSON struct {
	Variant     int    `json:"variant"`
	Text        string `json:"text"`
	BonusPoints int64  `json:"bonus_points"`
	groupJSON
	Lift *liftJSON `json:"lift"`
}

func toGroupJSON(g outreach.Group) groupJSON {
	return groupJSON{Assigned: g.Assigned, Sent: g.Sent, Purchasers: g.Purchasers, Revenue: g.Revenue,
		Conversion: round4(g.Conversion())}
}

func toLiftJSON(c outreach.Comparison) *liftJSON {
	if !c.Valid {
		return nil
	}
	return &liftJSON{Points: c.LiftPP, CI95LowPoints: c.LowPP, CI95High: c.HighPP, PValue: c.P, Significant: c.Significant}
}

// report is the automation's numbers: who was eligible and held out, what
// went by which channel and what it cost, and the messaged group and
// each variant against the holdout (outreach.Compare, as for campaigns).
func (h *automationHandlers) report(c *gin.Context) error {
	ctx := c.Request.Context()
	a, err := h.store.Automation(ctx, merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "automation")
	}
	groups, channels, err := h.store.AutomationReport(ctx, a.ID, time.Time{})
	if err != nil {
		return internal(err)
	}
	var holdout, messaged outreach.Group
	variants := make([]outreach.Group, len(a.Variants))
	var messages, skipped, failed, waiting, cost, bonus int64
	for _, g := range groups {
		messages += g.Messages
		og := outreach.Group{Assigned: g.Customers, Sent: g.Sent, Purchasers: g.Purchasers, Revenue: g.Revenue}
		if g.Holdout {
			holdout = og
			continue
		}
		messaged = outreach.Group{Assigned: messaged.Assigned + og.Assigned, Sent: messaged.Sent + og.Sent,
			Purchasers: messaged.Purchasers + og.Purchasers, Revenue: messaged.Revenue + og.Revenue}
		if g.Variant >= 0 && g.Variant < len(variants) {
			variants[g.Variant] = og
		}
		skipped, failed, waiting, cost, bonus = skipped+g.Skipped, failed+g.Failed, waiting+g.Waiting, cost+g.Cost, bonus+g.Bonus
	}
	byChannel := map[string]int64{}
	for _, ch := range loyalty.Channels {
		byChannel[ch] = 0
	}
	for _, ch := range channels {
		byChannel[ch.Channel] = ch.Sent
	}
	overall := outreach.Compare(messaged, holdout)
	out := gin.H{"automation_id": a.ID, "status": a.Status, "purchase_window_days": a.PurchaseWindowDays,
		"eligible": messages, "customers": messaged.Assigned + holdout.Assigned, "held_out": holdout.Assigned, "sent": messaged.Sent,
		"sent_by_channel": byChannel, "skipped": skipped, "failed": failed, "waiting": waiting, "cost": cost,
		"bonus_points": bonus, "messaged": toGroupJSON(messaged), "holdout": toGroupJSON(holdout),
		"lift": toLiftJSON(overall), "incremental_revenue": overall.IncrementalRevenue,
		"incremental_revenue_per_message": overall.PerMessage}
	var winner any
	if a.Winner >= 0 {
		winner = a.Winner
	}
	out["winner"] = winner
	list := make([]variantReportJSON, len(a.Variants))
	for i, v := range a.Variants {
		list[i] = variantReportJSON{Variant: i, Text: v.Text, BonusPoints: v.Bonus, groupJSON: toGroupJSON(variants[i]),
			Lift: toLiftJSON(outreach.Compare(variants[i], holdout))}
	}
	out["variants"] = list
	// Variants against each other: does the best beat the rest?
	if len(a.Variants) > 1 {
		counts := make([]lift.Count, len(variants))
		for i, v := range variants {
			counts[i] = lift.Count{N: v.Assigned, Converted: v.Purchasers}
		}
		best, ok := lift.Winner(counts, 1)
		if ok {
			out["best_variant"] = best
		} else {
			out["best_variant"] = nil
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}
