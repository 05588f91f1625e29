package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Campaigns screen (owners, managers): the merchant's win-back
// campaigns and a form for a new one, with the text as a customer gets
// it and the SMS segments it takes (GSM-7 or UCS-2, counted by
// internal/sms), refreshed as it is typed. Everything goes through the
// API's campaign routes.

type campaignsView struct {
	layout
	Campaigns []campaignRow
	Form      campaignForm
	Errors    formErrors
	Programs  []option
	Tiers     []option
	Installed []option
	BonusOn   []option
	Providers []option
	Preview   previewView
}

type campaignRow struct {
	ID, Name, Program, Status, StatusClass, Audience, Created string
}

// campaignForm is the create form as typed; its keys are the API's
// field names, so an API refusal lands next to its field.
type campaignForm struct {
	ProgramID, Name, LapsedDays, Tier, Installed, BonusPoints, BonusOn, Template       string
	HoldoutPercent, QuietStart, QuietEnd, Timezone, SendRate, FrequencyCapDays, Window string
	Provider                                                                           string
}

// previewView is a text as sent and its segments.
type previewView struct {
	Text, Encoding, Parts, Units, Note string
	Over                               bool
}

// campaignPreview is the preview's JSON, for the page's script.
type campaignPreview struct {
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
	Parts    int    `json:"parts"`
	Units    int    `json:"units"`
	Summary  string `json:"summary"`
	Over     bool   `json:"over"`
}

func newCampaignForm() campaignForm {
	return campaignForm{LapsedDays: "90", Installed: "any", BonusPoints: "100", BonusOn: "open", HoldoutPercent: "10",
		QuietStart: "21", QuietEnd: "9", Timezone: "Europe/Moscow", SendRate: "60", FrequencyCapDays: "30", Window: "30"}
}

func (con *Console) campaignsShow(c *gin.Context, v *viewer) {
	f := newCampaignForm()
	f.Template = v.lang.Text("con_camp_template_sample")
	f.ProgramID = c.Query("program")
	con.renderCampaigns(c, v, http.StatusOK, f, formErrors{})
}

func (con *Console) renderCampaigns(c *gin.Context, v *viewer, status int, f campaignForm, errs formErrors) {
	programs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	var list struct {
		Campaigns []apiCampaign `json:"campaigns"`
	}
	if err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet, "/api/v1/campaigns?limit=200", nil, "", &list); err != nil {
		con.fail(c, err)
		return
	}
	names := map[string]string{}
	for _, p := range programs {
		names[p.ID] = p.Name
	}
	cv := &campaignsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_campaigns")), Form: f, Errors: errs}
	cv.Scripts = []string{"campaign.js"}
	for i := len(list.Campaigns) - 1; i >= 0; i-- {
		camp := list.Campaigns[i]
		cv.Campaigns = append(cv.Campaigns, campaignRow{ID: camp.ID, Name: camp.Name, Program: names[camp.ProgramID],
			Status: v.lang.Text("con_camp_status_" + camp.Status), StatusClass: camp.Status,
			Audience: v.lang.Int(int64(camp.Audience)), Created: when(v.lang, camp.CreatedAt)})
	}
	if f.ProgramID == "" && len(programs) > 0 {
		f.ProgramID = programs[0].ID
		cv.Form.ProgramID = f.ProgramID
	}
	for _, p := range programs {
		cv.Programs = append(cv.Programs, option{Value: p.ID, Text: p.Name, Selected: p.ID == f.ProgramID})
		if p.ID == f.ProgramID {
			cv.Tiers = append(cv.Tiers, option{Value: "", Text: v.lang.Text("con_camp_any_tier"), Selected: f.Tier == ""})
			for _, t := range p.Tiers {
				cv.Tiers = append(cv.Tiers, option{Value: t.Code, Text: t.Name, Selected: t.Code == f.Tier})
			}
		}
	}
	for _, x := range []string{"any", "installed", "not_installed"} {
		cv.Installed = append(cv.Installed, option{Value: x, Text: v.lang.Text("con_camp_installed_" + x), Selected: x == f.Installed})
	}
	for _, x := range []string{"open", "install"} {
		cv.BonusOn = append(cv.BonusOn, option{Value: x, Text: v.lang.Text("con_camp_bonus_on_" + x), Selected: x == f.BonusOn})
	}
	for _, x := range con.opts.SMSProviders {
		cv.Providers = append(cv.Providers, option{Value: x, Text: x, Selected: x == f.Provider})
	}
	bonus, _ := parseInt(f.BonusPoints)
	cv.Preview = con.preview(v, f.Template, bonus)
	con.render(c, status, "campaigns", cv)
}

// preview renders template as sent and counts its segments.
func (con *Console) preview(v *viewer, template string, bonus int64) previewView {
	p := con.previewOf(v, template, bonus)
	return previewView{Text: p.Text, Encoding: p.Encoding, Parts: strconv.Itoa(p.Parts), Units: strconv.Itoa(p.Units),
		Note: p.Summary, Over: p.Over}
}

func (con *Console) previewOf(v *viewer, template string, bonus int64) campaignPreview {
	text, seg := outreach.Preview(template, bonus, con.shortURL())
	capacity := seg.Parts * seg.PerPart
	if seg.Parts == 0 {
		capacity = seg.PerPart
	}
	p := campaignPreview{Text: text, Encoding: seg.Encoding, Parts: seg.Parts, Units: seg.Units,
		Over: seg.Parts > api.MaxCampaignSegments}
	p.Summary = v.lang.Plural("con_camp_segments", int64(seg.Parts), "encoding", seg.Encoding,
		"units", strconv.Itoa(seg.Units), "capacity", strconv.Itoa(capacity))
	switch {
	case p.Over:
		p.Summary += " " + v.lang.Text("con_camp_too_long", "max", strconv.Itoa(api.MaxCampaignSegments))
	case !strings.Contains(template, "{link}"):
		p.Summary += " " + v.lang.Text("con_camp_no_link")
	}
	return p
}

// shortURL is the base of the links campaign texts carry.
func (con *Console) shortURL() string {
	if con.opts.ShortURL != "" {
		return con.opts.ShortURL
	}
	return con.opts.PublicURL
}

// campaignPreviewJSON answers the page's script with the preview of the
// text being typed.
func (con *Console) campaignPreviewJSON(c *gin.Context, v *viewer) {
	bonus, _ := parseInt(c.Query("bonus_points"))
	template := c.Query("template")
	if len(template) > 4000 {
		template = template[:4000]
	}
	c.JSON(http.StatusOK, con.previewOf(v, template, bonus))
}

// campaignFields are the form's fields, by the API's names.
var campaignFields = []string{"program_id", "name", "lapsed_days", "tier", "installed", "bonus_points", "bonus_on",
	"template", "holdout_percent", "quiet_start", "quiet_end", "timezone", "send_rate", "frequency_cap_days",
	"purchase_window_days", "provider"}

func (con *Console) campaignsCreate(c *gin.Context, v *viewer) {
	f := campaignForm{ProgramID: postForm(c, "program_id"), Name: postForm(c, "name"), LapsedDays: postForm(c, "lapsed_days"),
		Tier: postForm(c, "tier"), Installed: postForm(c, "installed"), BonusPoints: postForm(c, "bonus_points"),
		BonusOn: postForm(c, "bonus_on"), Template: postForm(c, "template"), HoldoutPercent: postForm(c, "holdout_percent"),
		QuietStart: postForm(c, "quiet_start"), QuietEnd: postForm(c, "quiet_end"), Timezone: postForm(c, "timezone"),
		SendRate: postForm(c, "send_rate"), FrequencyCapDays: postForm(c, "frequency_cap_days"),
		Window: postForm(c, "purchase_window_days"), Provider: postForm(c, "provider")}
	// Without the script, "Preview" sends the form to see the text.
	if c.PostForm("preview") != "" {
		con.renderCampaigns(c, v, http.StatusOK, f, formErrors{})
		return
	}
	errs := formErrors{}
	body := map[string]any{"program_id": f.ProgramID, "name": f.Name, "tier": f.Tier, "installed": f.Installed,
		"bonus_on": f.BonusOn, "template": f.Template, "timezone": f.Timezone}
	if f.Provider != "" {
		body["provider"] = f.Provider
	}
	for name, s := range map[string]string{"lapsed_days": f.LapsedDays, "bonus_points": f.BonusPoints,
		"holdout_percent": f.HoldoutPercent, "quiet_start": f.QuietStart, "quiet_end": f.QuietEnd, "send_rate": f.SendRate,
		"frequency_cap_days": f.FrequencyCapDays, "purchase_window_days": f.Window} {
		n, ok := parseInt(s)
		if !ok || n < -1<<31 || n > 1<<31 {
			errs[name] = v.lang.Text("con_err_whole")
			continue
		}
		body[name] = n
	}
	if len(errs) > 0 {
		con.renderCampaigns(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	token := formToken(c)
	if token == "" {
		con.renderCampaigns(c, v, http.StatusUnprocessableEntity, f, formErrors{"": v.lang.Text("con_err_reload")})
		return
	}
	var created apiCampaign
	ctx := con.audited(c, v, store.AuditEntry{Action: "campaign.create", Ref: "form:" + token})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost, "/api/v1/campaigns", body, "", &created)
	if formUsed(err) {
		con.openMade(c, v, token, "/console/campaigns/")
		return
	}
	if ae, ok := asAPIError(err); ok {
		if !slices.Contains(campaignFields, ae.Field) {
			ae.Field = ""
		}
		errs.fromAPI(ae, v.lang, nil)
		con.renderCampaigns(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/campaigns/"+url.PathEscape(created.ID))
}
