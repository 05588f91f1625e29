package console

import (
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/plot"
	"github.com/loyalpass/loyalpass/internal/store"
)

// A campaign's page: its settings, the text as sent with its segments,
// start, pause, resume or cancel as its state allows, and its report in
// plots: the texted group's funnel beside the holdout, and their
// purchase conversions with the lift.

type campaignView struct {
	layout
	Camp               apiCampaign
	Program            string
	Status, Class      string
	Settings           [][2]string
	Preview            previewView
	Actions            []campaignAction
	Funnel, Conversion figureBlock
	Lift               string
	Started            bool
	Error              string
}

type campaignAction struct {
	Name, Text string
	Danger     bool
}

// campaignActions are what a campaign in each state may do next.
var campaignActions = map[string][]string{
	"draft":   {"start", "cancel"},
	"running": {"pause", "cancel"},
	"paused":  {"resume", "cancel"},
}

func (con *Console) campaign(c *gin.Context, v *viewer) (apiCampaign, error) {
	var camp apiCampaign
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/campaigns/"+url.PathEscape(c.Param("id")), nil, "", &camp)
	return camp, err
}

func (con *Console) campaignShow(c *gin.Context, v *viewer) {
	con.renderCampaign(c, v, http.StatusOK, "")
}

func (con *Console) renderCampaign(c *gin.Context, v *viewer, status int, problem string) {
	camp, err := con.campaign(c, v)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	var p apiProgram
	if err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/programs/"+url.PathEscape(camp.ProgramID), nil, "", &p); err != nil {
		con.fail(c, err)
		return
	}
	l := v.lang
	cv := &campaignView{layout: con.newLayout(c, v, camp.Name), Camp: camp, Program: p.Name,
		Status: l.Text("con_camp_status_" + camp.Status), Class: camp.Status, Error: problem,
		Preview: con.preview(v, camp.Template, camp.BonusPoints), Started: camp.StartedAt != nil}
	tier := l.Text("con_camp_any_tier")
	for _, t := range p.Tiers {
		if t.Code == camp.Tier {
			tier = t.Name
		}
	}
	hours := func(a, b int) string { return strconv.Itoa(a) + ":00–" + strconv.Itoa(b) + ":00" }
	cv.Settings = [][2]string{
		{l.Text("con_program"), p.Name},
		{l.Text("con_camp_lapsed_days"), l.Int(int64(camp.LapsedDays))},
		{l.Text("con_camp_tier"), tier},
		{l.Text("con_camp_installed"), l.Text("con_camp_installed_" + camp.Installed)},
		{l.Text("con_camp_bonus_points"), l.Int(camp.BonusPoints)},
		{l.Text("con_camp_bonus_on"), l.Text("con_camp_bonus_on_" + camp.BonusOn)},
		{l.Text("con_camp_holdout_percent"), strconv.FormatFloat(camp.HoldoutPercent, 'f', -1, 64) + "%"},
		{l.Text("con_camp_quiet"), hours(camp.QuietStart, camp.QuietEnd) + " " + camp.Timezone},
		{l.Text("con_camp_send_rate"), l.Int(int64(camp.SendRate))},
		{l.Text("con_camp_frequency_cap_days"), l.Int(int64(camp.FrequencyCapDays))},
		{l.Text("con_camp_window"), l.Int(int64(camp.PurchaseWindowDays))},
		{l.Text("con_camp_provider"), camp.Provider},
		{l.Text("con_camp_audience"), l.Int(int64(camp.Audience)) + " (" + l.Text("con_camp_holdout_n", "n", l.Int(int64(camp.Holdout))) + ")"},
	}
	for _, a := range campaignActions[camp.Status] {
		cv.Actions = append(cv.Actions, campaignAction{Name: a, Text: l.Text("con_camp_do_" + a), Danger: a == "cancel"})
	}
	if cv.Started {
		rep, err := con.campaignReport(c.Request.Context(), v, camp.ID)
		if err != nil {
			con.fail(c, err)
			return
		}
		d := dashDraw{l: l, p: p}
		r := funnelReport{Name: camp.Name, Recipients: rep.Texted.Recipients, Sent: rep.Texted.Sent,
			Delivered: rep.Texted.Delivered, Clicked: rep.Texted.Clicked, Installed: rep.Texted.Installed,
			Purchasers: rep.Texted.Purchasers, HoldoutRecipients: rep.Holdout.Recipients, HoldoutPurchasers: rep.Holdout.Purchasers}
		cv.Funnel = d.funnel("campaign", r)
		cv.Funnel.Title, cv.Funnel.Note = l.Text("con_camp_funnel"), ""
		cv.Lift = d.lift(r)
		cv.Conversion = d.conversion(r, rep)
		cv.Funnel.Summary, cv.Conversion.Summary = l.Text("con_dash_table"), l.Text("con_dash_table")
	}
	con.render(c, status, "campaign", cv)
}

// conversion draws the purchase conversions of the texted group and the
// holdout side by side.
func (d dashDraw) conversion(r funnelReport, rep apiReport) figureBlock {
	rate := func(f apiFunnel) float64 { return math.Round(f.Conversion*10000) / 100 }
	names := []string{d.t("con_dash_texted"), d.t("con_dash_holdout")}
	b := figureBlock{ID: "conversion", Title: d.t("con_camp_conversion"), Note: d.t("con_camp_conversion_note"),
		Head: []string{"", d.t("con_dash_f_recipients"), d.t("con_dash_f_purchasers"), d.t("con_camp_conversion")}}
	b.Chart = plot.Chart{ID: "plot-conversion", Title: b.Title, Kind: plot.Bars, Labels: names,
		Series: []plot.Series{{Name: d.t("con_camp_conversion"), Values: []float64{rate(rep.Texted), rate(rep.Holdout)}}},
		Format: func(v float64) string { return d.pct(int(math.Round(v * 100))) }, Empty: d.t("con_dash_empty")}.SVG()
	b.Rows = [][]string{
		{names[0], d.n(r.Recipients), d.n(r.Purchasers), d.pct(int(math.Round(rate(rep.Texted) * 100)))},
		{names[1], d.n(r.HoldoutRecipients), d.n(r.HoldoutPurchasers), d.pct(int(math.Round(rate(rep.Holdout) * 100)))},
	}
	return b
}

// campaignAct starts, pauses, resumes or cancels a campaign.
func (con *Console) campaignAct(c *gin.Context, v *viewer) {
	action := c.Param("action")
	if _, ok := map[string]bool{"start": true, "pause": true, "resume": true, "cancel": true}[action]; !ok {
		con.notFound(c)
		return
	}
	var camp apiCampaign
	if !con.act(c, v, store.AuditEntry{Action: "campaign." + action}, http.MethodPost,
		"/api/v1/campaigns/"+url.PathEscape(c.Param("id"))+"/"+action, &camp, con.renderCampaign) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/campaigns/"+url.PathEscape(camp.ID))
}

// act makes a change of state through the API, audited as e. On a
// refusal it answers itself (not found, or page with the API's problem)
// and reports false.
func (con *Console) act(c *gin.Context, v *viewer, e store.AuditEntry, method, path string, out any,
	page func(c *gin.Context, v *viewer, status int, problem string)) bool {
	err := con.api.call(con.audited(c, v, e), v.user.MerchantID, method, path, nil, "", out)
	if ae, ok := asAPIError(err); ok {
		if ae.Status == http.StatusNotFound {
			con.notFound(c)
			return false
		}
		errs := formErrors{}
		errs.fromAPI(ae, v.lang, nil)
		page(c, v, ae.Status, errs[ae.Field])
		return false
	}
	if err != nil {
		con.fail(c, err)
		return false
	}
	return true
}
