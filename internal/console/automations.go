package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Automations screen (owners, managers): the merchant's standing
// triggers (a birthday, inactivity, the customer's own repurchase rhythm,
// expiring points, a tier change, enrolment, a first install) and a form
// for a new one with up to four variants, each shown as sent with its SMS
// segments (the campaigns' preview, outreach.Preview). The API's
// automation routes check and store everything: the form only reads
// numbers and names the fields the API refuses.

// maxVariants is how many variants the form offers (the API's limit).
const maxVariants = 4

type automationsView struct {
	layout
	Automations []automationRow
	Form        automationForm
	Errors      formErrors
	Programs    []option
	Triggers    []option
	Tiers       []option
	Providers   []option
	Variants    []variantField
}

type automationRow struct {
	ID, Name, Program, Trigger, Status, StatusClass, Created string
}

// variantField is one variant of the form with its preview.
type variantField struct {
	N                   int // 0-based
	Label, Text, Bonus  string
	TextErr, BonusErr   string
	TextName, BonusName string
	Preview             previewView
}

// automationForm is the create form as typed.
type automationForm struct {
	ProgramID, Name, TriggerType, TriggerDays, DuePercent, TriggerTier                         string
	HoldoutPercent, FrequencyCapDays, QuietStart, QuietEnd, Timezone, PurchaseWindow, Provider string
	Texts, Bonuses                                                                             [maxVariants]string
}

func newAutomationForm(l *locale.Lang) automationForm {
	f := automationForm{TriggerType: loyalty.TriggerInactive, TriggerDays: "60", DuePercent: "20", HoldoutPercent: "10",
		FrequencyCapDays: "14", QuietStart: "21", QuietEnd: "9", Timezone: store.DefaultTimezone, PurchaseWindow: "14"}
	f.Texts[0], f.Bonuses[0] = l.Text("con_auto_text_sample"), "50"
	return f
}

// automationFields maps the API's field names to the form's.
func automationFields() map[string]string {
	m := map[string]string{"trigger": "trigger_type", "trigger.type": "trigger_type", "trigger.days_before": "trigger_days",
		"trigger.days": "trigger_days", "trigger.days_after": "trigger_days", "trigger.due_percent": "due_percent",
		"trigger.tier": "trigger_tier", "variants": "variant_text_0"}
	for i := range maxVariants {
		m[fmt.Sprintf("variants[%d].text", i)] = fmt.Sprintf("variant_text_%d", i)
		m[fmt.Sprintf("variants[%d].bonus_points", i)] = fmt.Sprintf("variant_bonus_%d", i)
	}
	return m
}

func (con *Console) automationsShow(c *gin.Context, v *viewer) {
	f := newAutomationForm(v.lang)
	f.ProgramID = c.Query("program")
	con.renderAutomations(c, v, http.StatusOK, f, formErrors{})
}

func (con *Console) renderAutomations(c *gin.Context, v *viewer, status int, f automationForm, errs formErrors) {
	programs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	var list struct {
		Automations []apiAutomation `json:"automations"`
	}
	if err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet, "/api/v1/automations?limit=200", nil, "", &list); err != nil {
		con.fail(c, err)
		return
	}
	l := v.lang
	names := map[string]string{}
	for _, p := range programs {
		names[p.ID] = p.Name
	}
	av := &automationsView{layout: con.newLayout(c, v, l.Text("con_nav_automations")), Errors: errs}
	av.Scripts = []string{"automation.js"}
	for i := len(list.Automations) - 1; i >= 0; i-- {
		a := list.Automations[i]
		av.Automations = append(av.Automations, automationRow{ID: a.ID, Name: a.Name, Program: names[a.ProgramID],
			Trigger: l.Text("con_auto_trigger_" + a.Trigger.Type), Status: l.Text("con_auto_status_" + a.Status),
			StatusClass: a.Status, Created: when(l, a.CreatedAt)})
	}
	if f.ProgramID == "" && len(programs) > 0 {
		f.ProgramID = programs[0].ID
	}
	av.Form = f
	for _, p := range programs {
		av.Programs = append(av.Programs, option{Value: p.ID, Text: p.Name, Selected: p.ID == f.ProgramID})
		if p.ID == f.ProgramID {
			av.Tiers = append(av.Tiers, option{Value: "", Text: l.Text("con_camp_any_tier"), Selected: f.TriggerTier == ""})
			for _, t := range p.Tiers {
				av.Tiers = append(av.Tiers, option{Value: t.Code, Text: t.Name, Selected: t.Code == f.TriggerTier})
			}
		}
	}
	for _, t := range loyalty.Triggers {
		av.Triggers = append(av.Triggers, option{Value: t, Text: l.Text("con_auto_trigger_" + t), Selected: t == f.TriggerType})
	}
	for _, x := range con.opts.SMSProviders {
		av.Providers = append(av.Providers, option{Value: x, Text: x, Selected: x == f.Provider})
	}
	for i := range maxVariants {
		vf := variantField{N: i, Label: l.Text("con_auto_variant", "n", string(rune('A'+i))), Text: f.Texts[i],
			Bonus: f.Bonuses[i], TextName: fmt.Sprintf("variant_text_%d", i), BonusName: fmt.Sprintf("variant_bonus_%d", i)}
		vf.TextErr, vf.BonusErr = errs[vf.TextName], errs[vf.BonusName]
		if strings.TrimSpace(vf.Text) != "" {
			bonus, _ := parseInt(vf.Bonus)
			vf.Preview = con.preview(v, vf.Text, bonus)
		}
		av.Variants = append(av.Variants, vf)
	}
	con.render(c, status, "automations", av)
}

// automationForm reads the posted form.
func readAutomationForm(c *gin.Context) automationForm {
	f := automationForm{ProgramID: postForm(c, "program_id"), Name: postForm(c, "name"),
		TriggerType: postForm(c, "trigger_type"), TriggerDays: postForm(c, "trigger_days"),
		DuePercent: postForm(c, "due_percent"), TriggerTier: postForm(c, "trigger_tier"),
		HoldoutPercent: postForm(c, "holdout_percent"), FrequencyCapDays: postForm(c, "frequency_cap_days"),
		QuietStart: postForm(c, "quiet_start"), QuietEnd: postForm(c, "quiet_end"), Timezone: postForm(c, "timezone"),
		PurchaseWindow: postForm(c, "purchase_window_days"), Provider: postForm(c, "provider")}
	for i := range maxVariants {
		f.Texts[i] = postForm(c, fmt.Sprintf("variant_text_%d", i))
		f.Bonuses[i] = postForm(c, fmt.Sprintf("variant_bonus_%d", i))
	}
	return f
}

// body turns the form into the API's request: the numbers read, the
// trigger's days under the name its type takes, the variants typed.
// Errors are the numbers that are not whole, by the form's field names.
func (f automationForm) body(l *locale.Lang) (map[string]any, formErrors) {
	errs := formErrors{}
	num := func(field, s string) (int64, bool) {
		n, ok := parseInt(s)
		if !ok || n < -1<<31 || n > 1<<31 {
			errs[field] = l.Text("con_err_whole")
			return 0, false
		}
		return n, true
	}
	body := map[string]any{"program_id": f.ProgramID, "name": f.Name, "timezone": f.Timezone}
	if f.Provider != "" {
		body["provider"] = f.Provider
	}
	for field, s := range map[string]string{"holdout_percent": f.HoldoutPercent, "frequency_cap_days": f.FrequencyCapDays,
		"quiet_start": f.QuietStart, "quiet_end": f.QuietEnd, "purchase_window_days": f.PurchaseWindow} {
		if n, ok := num(field, s); ok {
			body[field] = n
		}
	}
	trig := map[string]any{"type": f.TriggerType}
	t := loyalty.Trigger{Type: f.TriggerType}
	if daysField := t.DaysField(); daysField != "" && (f.TriggerDays != "" || f.TriggerType != loyalty.TriggerBirthday) {
		if n, ok := num("trigger_days", f.TriggerDays); ok {
			trig[daysField] = n
		}
	}
	if f.TriggerType == loyalty.TriggerRepurchaseDue && f.DuePercent != "" {
		if n, ok := num("due_percent", f.DuePercent); ok {
			trig["due_percent"] = n
		}
	}
	if f.TriggerType == loyalty.TriggerTierChanged && f.TriggerTier != "" {
		trig["tier"] = f.TriggerTier
	}
	body["trigger"] = trig
	variants := []map[string]any{}
	for i := range maxVariants {
		if f.Texts[i] == "" && f.Bonuses[i] == "" {
			continue
		}
		bonus := int64(0)
		if f.Bonuses[i] != "" {
			bonus, _ = num(fmt.Sprintf("variant_bonus_%d", i), f.Bonuses[i])
		}
		variants = append(variants, map[string]any{"text": f.Texts[i], "bonus_points": bonus})
	}
	body["variants"] = variants
	return body, errs
}

func (con *Console) automationsCreate(c *gin.Context, v *viewer) {
	f := readAutomationForm(c)
	// Without the script, "Preview" sends the form to see the texts.
	if c.PostForm("preview") != "" {
		con.renderAutomations(c, v, http.StatusOK, f, formErrors{})
		return
	}
	// Variants are sent packed: a gap (A and C typed) would shift the
	// API's indexes away from the form's.
	packed, k := f, 0
	packed.Texts, packed.Bonuses = [maxVariants]string{}, [maxVariants]string{}
	for i := range maxVariants {
		if f.Texts[i] != "" || f.Bonuses[i] != "" {
			packed.Texts[k], packed.Bonuses[k] = f.Texts[i], f.Bonuses[i]
			k++
		}
	}
	f = packed
	body, errs := f.body(v.lang)
	if len(errs) > 0 {
		con.renderAutomations(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	token := formToken(c)
	if token == "" {
		con.renderAutomations(c, v, http.StatusUnprocessableEntity, f, formErrors{"": v.lang.Text("con_err_reload")})
		return
	}
	var created apiAutomation
	ctx := con.audited(c, v, store.AuditEntry{Action: "automation.create", Ref: "form:" + token})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost, "/api/v1/automations", body, "", &created)
	if formUsed(err) {
		con.openMade(c, v, token, "/console/automations/")
		return
	}
	if ae, ok := asAPIError(err); ok {
		fields := automationFields()
		if _, known := fields[ae.Field]; !known && !strings.Contains(readFormFields, ","+ae.Field+",") {
			ae.Field = ""
		}
		errs.fromAPI(ae, v.lang, fields)
		con.renderAutomations(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/automations/"+url.PathEscape(created.ID))
}

// readFormFields are the form's fields named as the API names them.
const readFormFields = ",program_id,name,holdout_percent,frequency_cap_days,quiet_start,quiet_end,timezone," +
	"purchase_window_days,provider,"

// hours writes quiet hours, "21:00–9:00".
func hours(a, b int) string { return strconv.Itoa(a) + ":00–" + strconv.Itoa(b) + ":00" }
