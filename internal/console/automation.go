package console

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/plot"
	"github.com/loyalpass/loyalpass/internal/store"
)

// An automation's page: its settings, each variant as sent with its SMS
// segments, pause, resume or delete as its state allows, and its report
// (the API's) in plots, each with its table: the holdout's and each
// variant's funnel, their purchase conversions, and the lift over the
// holdout with its 95 % interval.

type automationView struct {
	layout
	Auto                   apiAutomation
	Status, Class          string
	Settings               [][2]string
	Variants               []variantField
	Actions                []campaignAction
	Funnel, Conversion     figureBlock
	Lift                   figureBlock
	Summary                [][2]string
	Error                  string
	Deleted, HasReportData bool
}

// automationActions are what an automation in each state may do next.
var automationActions = map[string][]string{
	"active": {"pause", "delete"},
	"paused": {"resume", "delete"},
}

func (con *Console) automationShow(c *gin.Context, v *viewer) {
	con.renderAutomation(c, v, http.StatusOK, "")
}

func (con *Console) renderAutomation(c *gin.Context, v *viewer, status int, problem string) {
	ctx := c.Request.Context()
	id := url.PathEscape(c.Param("id"))
	var a apiAutomation
	err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/automations/"+id, nil, "", &a)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	var p apiProgram
	if err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/programs/"+url.PathEscape(a.ProgramID), nil, "", &p); err != nil {
		con.fail(c, err)
		return
	}
	var rep apiAutomationDetail
	if err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/automations/"+id+"/report", nil, "", &rep); err != nil {
		con.fail(c, err)
		return
	}
	l := v.lang
	av := &automationView{layout: con.newLayout(c, v, a.Name), Auto: a, Status: l.Text("con_auto_status_" + a.Status),
		Class: a.Status, Error: problem, Deleted: a.Status == store.AutomationDeleted}
	trigger := l.Text("con_auto_trigger_" + a.Trigger.Type)
	for _, d := range []*int{a.Trigger.DaysBefore, a.Trigger.Days, a.Trigger.DaysAfter} {
		if d != nil {
			trigger += ", " + l.Text("con_auto_days_n", "n", l.Int(int64(*d)))
		}
	}
	if a.Trigger.DuePercent != nil {
		trigger += ", " + l.Text("con_auto_due_n", "n", l.Int(int64(*a.Trigger.DuePercent)))
	}
	if a.Trigger.Tier != "" {
		trigger += ", " + a.Trigger.Tier
	}
	av.Settings = [][2]string{
		{l.Text("con_program"), p.Name},
		{l.Text("con_auto_trigger"), trigger},
		{l.Text("con_camp_holdout_percent"), strconv.FormatFloat(a.HoldoutPercent, 'f', -1, 64) + "%"},
		{l.Text("con_camp_frequency_cap_days"), l.Int(int64(a.FrequencyCapDays))},
		{l.Text("con_camp_quiet"), hours(a.QuietStart, a.QuietEnd) + " " + a.Timezone},
		{l.Text("con_camp_window"), l.Int(int64(a.PurchaseWindowDays))},
		{l.Text("con_camp_provider"), a.Provider},
	}
	if a.PausedReason != "" {
		av.Settings = append(av.Settings, [2]string{l.Text("con_auto_paused_reason"), a.PausedReason})
	}
	for i, vr := range a.Variants {
		av.Variants = append(av.Variants, variantField{N: i, Label: l.Text("con_auto_variant", "n", variantName(i)),
			Text: vr.Text, Bonus: l.Int(vr.BonusPoints), Preview: con.preview(v, vr.Text, vr.BonusPoints)})
	}
	for _, act := range automationActions[a.Status] {
		av.Actions = append(av.Actions, campaignAction{Name: act, Text: l.Text("con_auto_do_" + act), Danger: act == "delete"})
	}
	d := dashDraw{l: l, p: p}
	av.Summary = [][2]string{
		{l.Text("con_auto_eligible"), d.n(rep.Eligible)},
		{l.Text("con_auto_held_out"), d.n(rep.HeldOut)},
		{l.Text("con_dash_f_sent"), d.n(rep.Sent)},
		{l.Text("con_auto_skipped"), d.n(rep.Skipped)},
		{l.Text("con_auto_failed"), d.n(rep.Failed)},
		{l.Text("con_auto_cost"), d.money(rep.Cost)},
		{l.Text("con_auto_incremental"), d.money(int64(math.Round(rep.Incremental)))},
	}
	for _, ch := range sortedKeys(rep.SentByChannel) {
		av.Summary = append(av.Summary, [2]string{l.Text("con_auto_by_channel", "channel", d.channel(ch)), d.n(rep.SentByChannel[ch])})
	}
	av.Funnel, av.Conversion, av.Lift = d.autoFunnel(rep), d.autoConversion(rep), d.autoLift(rep)
	for _, b := range []*figureBlock{&av.Funnel, &av.Conversion, &av.Lift} {
		b.Summary = l.Text("con_dash_table")
	}
	con.render(c, status, "automation", av)
}

// variantName is a variant's letter: A, B, C, D.
func variantName(i int) string { return string(rune('A' + i)) }

// autoGroups are the report's groups in the order the plots show them:
// the holdout, then each variant.
func (d dashDraw) autoGroups(rep apiAutomationDetail) ([]string, []apiGroup) {
	names := []string{d.t("con_dash_holdout")}
	groups := []apiGroup{rep.Holdout}
	for _, vr := range rep.Variants {
		names = append(names, d.l.Text("con_auto_variant", "n", variantName(vr.Variant)))
		groups = append(groups, vr.apiGroup)
	}
	return names, groups
}

// autoFunnel draws each group's customers step by step: assigned, sent
// to (never the holdout), bought within the window.
func (d dashDraw) autoFunnel(rep apiAutomationDetail) figureBlock {
	steps := []string{d.t("con_auto_assigned"), d.t("con_dash_f_sent"), d.t("con_dash_f_purchasers")}
	names, groups := d.autoGroups(rep)
	b := figureBlock{ID: "auto-funnel", Title: d.t("con_auto_funnel"), Note: d.t("con_auto_funnel_note"),
		Head: append([]string{d.t("con_dash_step")}, names...)}
	var series []plot.Series
	for i, g := range groups {
		sent := float64(g.Sent)
		if i == 0 {
			sent = math.NaN()
		}
		series = append(series, plot.Series{Name: names[i], Values: []float64{float64(g.Assigned), sent, float64(g.Purchasers)}})
	}
	b.Chart = plot.Chart{ID: "plot-auto-funnel", Title: b.Title, Kind: plot.HBars, Labels: steps, Series: series,
		Format: d.whole, Empty: d.t("con_auto_no_data")}.SVG()
	for si, step := range steps {
		row := []string{step}
		for i, g := range groups {
			cell := []int64{g.Assigned, g.Sent, g.Purchasers}[si]
			if i == 0 && si == 1 {
				row = append(row, "—")
				continue
			}
			row = append(row, d.n(cell))
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

// autoConversion draws each group's purchase conversion.
func (d dashDraw) autoConversion(rep apiAutomationDetail) figureBlock {
	names, groups := d.autoGroups(rep)
	names, groups = append(names, d.t("con_auto_messaged")), append(groups, rep.Messaged)
	b := figureBlock{ID: "auto-conversion", Title: d.t("con_camp_conversion"), Note: d.t("con_camp_conversion_note"),
		Head: []string{"", d.t("con_auto_assigned"), d.t("con_dash_f_purchasers"), d.t("con_camp_conversion"), d.t("con_dash_revenue")}}
	values := make([]float64, len(groups))
	for i, g := range groups {
		values[i] = math.Round(g.Conversion*10000) / 100
		b.Rows = append(b.Rows, []string{names[i], d.n(g.Assigned), d.n(g.Purchasers),
			d.pct(int(math.Round(g.Conversion * 10000))), d.money(g.Revenue)})
	}
	if rep.Messaged.Assigned+rep.Holdout.Assigned == 0 {
		values = nil
	}
	b.Chart = plot.Chart{ID: "plot-auto-conversion", Title: b.Title, Kind: plot.HBars, Labels: names,
		Series: []plot.Series{{Name: d.t("con_camp_conversion"), Values: values}},
		Format: func(v float64) string { return d.pct(int(math.Round(v * 100))) }, Empty: d.t("con_auto_no_data")}.SVG()
	return b
}

// autoLift draws the lift over the holdout of all messaged and of each
// variant, in percentage points, on its 95 % interval.
func (d dashDraw) autoLift(rep apiAutomationDetail) figureBlock {
	b := figureBlock{ID: "auto-lift", Title: d.t("con_auto_lift"), Note: d.t("con_auto_lift_note"),
		Head: []string{"", d.t("con_auto_lift_pp"), d.t("con_auto_ci_low"), d.t("con_auto_ci_high"), "p", d.t("con_auto_significant")}}
	names := []string{d.t("con_auto_messaged")}
	lifts := []*apiLift{rep.Lift}
	for _, vr := range rep.Variants {
		names = append(names, d.l.Text("con_auto_variant", "n", variantName(vr.Variant)))
		lifts = append(lifts, vr.Lift)
	}
	est, low, high := make([]float64, len(lifts)), make([]float64, len(lifts)), make([]float64, len(lifts))
	pp := func(v float64) string { return d.l.Percent(int(math.Round(v * 100))) }
	for i, lf := range lifts {
		if lf == nil {
			est[i], low[i], high[i] = math.NaN(), math.NaN(), math.NaN()
			b.Rows = append(b.Rows, []string{names[i], "—", "—", "—", "—", d.t("con_auto_too_few")})
			continue
		}
		est[i], low[i], high[i] = lf.Points, lf.CI95Low, lf.CI95High
		sig := d.t("con_no")
		if lf.Significant {
			sig = d.t("con_yes")
		}
		b.Rows = append(b.Rows, []string{names[i], pp(lf.Points), pp(lf.CI95Low), pp(lf.CI95High),
			strconv.FormatFloat(lf.PValue, 'f', 3, 64), sig})
	}
	b.Chart = plot.Chart{ID: "plot-auto-lift", Title: b.Title, Kind: plot.Intervals, Labels: names,
		Series: []plot.Series{{Name: d.t("con_auto_lift_pp"), Values: est}, {Name: "low", Values: low}, {Name: "high", Values: high}},
		Format: pp, Empty: d.t("con_auto_no_lift")}.SVG()
	return b
}

// automationAct pauses, resumes or deletes an automation.
func (con *Console) automationAct(c *gin.Context, v *viewer) {
	action := c.Param("action")
	method, path := http.MethodPost, "/api/v1/automations/"+url.PathEscape(c.Param("id"))
	switch action {
	case "pause", "resume":
		path += "/" + action
	case "delete":
		method = http.MethodDelete
	default:
		con.notFound(c)
		return
	}
	var a apiAutomation
	if !con.act(c, v, store.AuditEntry{Action: "automation." + action, Subject: c.Param("id")}, method, path, &a,
		con.renderAutomation) {
		return
	}
	if action == "delete" {
		c.Redirect(http.StatusSeeOther, "/console/automations")
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/automations/"+url.PathEscape(c.Param("id")))
}

// sortedKeys lists m's keys in order.
func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
