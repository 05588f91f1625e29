package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/plot"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Dashboard (owners, managers): a program in plots, each with its
// table. Cards and installs by channel, the join funnel, points issued,
// redeemed and expired, what the cards hold, the join cohorts' lifetime
// value and repeat purchases, and the funnels of campaigns and
// automations with their lift over the holdout. The figures come from
// the store's roll-up (store.DashboardStore); campaign reports from the
// API, as everywhere else.

// Dashboard reads a program's figures.
type Dashboard interface {
	Figures(ctx context.Context, merchantID, programID string, from time.Time) (store.DashboardFigures, error)
}

// JoinFunnel counts a program's join page (store.JoinFunnelStore):
// visits, codes texted, codes entered right, and the cards of those who
// joined that were installed, since from. Without one the dashboard says
// there is no join page data yet.
type JoinFunnel interface {
	Funnel(ctx context.Context, merchantID, programID string, from time.Time) (store.JoinFunnelCounts, error)
}

// funnelReport is one campaign's or automation's funnel: the texted
// group step by step, and how many of it and of the holdout bought.
type funnelReport struct {
	Name                                                        string
	Recipients, Sent, Delivered, Clicked, Installed, Purchasers int64
	HoldoutRecipients, HoldoutPurchasers                        int64
	// Short: an automation's report has no delivery, click and install
	// steps, only who was messaged, sent to and bought.
	Short bool
	// CI is the 95 % interval of the lift in percentage points and P its
	// p-value, when the API could work them out.
	CI *[2]float64
	P  float64
}

// dashboardWeeks are the spans a dashboard may show, in weeks.
var dashboardWeeks = []int{12, 26, 52}

// dashboardCohorts is how many join cohorts (months) the curves show.
const dashboardCohorts = 6

// dashboardCampaigns is how many started campaigns show their funnels.
const dashboardCampaigns = 3

type dashboardView struct {
	layout
	Programs  []option
	Weeks     []option
	ProgramID string
	Unit      string
	Tiles     []tile
	Figures   []figureBlock
	Funnels   []figureBlock
	// NoFunnels explains an empty campaigns section.
	NoFunnels string
	// Zone says in which time zone the weeks are cut.
	Zone string
}

// tile is a headline number.
type tile struct{ ID, Label, Value, Note string }

// figureBlock is a chart and the table behind it.
type figureBlock struct {
	ID, Title, Note string
	// Summary opens the table.
	Summary string
	Chart   template.HTML
	Head    []string
	Rows    [][]string
}

func (con *Console) dashboardShow(c *gin.Context, v *viewer) {
	ctx := c.Request.Context()
	programs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	dv := &dashboardView{layout: con.newLayout(c, v, v.lang.Text("con_nav_dashboard"))}
	if len(programs) == 0 {
		dv.NoFunnels = v.lang.Text("con_programs_none")
		con.render(c, http.StatusOK, "dashboard", dv)
		return
	}
	p := programs[0]
	if id := c.Query("program"); id != "" {
		i := slices.IndexFunc(programs, func(p apiProgram) bool { return p.ID == id })
		if i < 0 {
			con.notFound(c)
			return
		}
		p = programs[i]
	}
	weeks := dashboardWeeks[0]
	if n, err := strconv.Atoi(c.Query("weeks")); err == nil && slices.Contains(dashboardWeeks, n) {
		weeks = n
	}
	for _, x := range programs {
		dv.Programs = append(dv.Programs, option{Value: x.ID, Text: x.Name, Selected: x.ID == p.ID})
	}
	for _, n := range dashboardWeeks {
		dv.Weeks = append(dv.Weeks, option{Value: strconv.Itoa(n), Text: v.lang.Plural("con_weeks", int64(n)),
			Selected: n == weeks})
	}
	dv.ProgramID, dv.Unit = p.ID, p.CurrencyLabel

	// Weeks run Monday to Sunday in the merchant's time zone.
	loc, err := con.zone(ctx, v.user.MerchantID)
	if err != nil {
		con.fail(c, err)
		return
	}
	dv.Zone = v.lang.Text("con_dash_zone", "zone", loc.String())
	now := con.now().In(loc)
	from := weekStart(now).AddDate(0, 0, -7*(weeks-1))
	f, err := con.opts.Dashboard.Figures(ctx, v.user.MerchantID, p.ID, from)
	if errors.Is(err, store.ErrNotFound) {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	d := dashDraw{l: v.lang, p: p}
	w := weeklyFigures(f, from, weeks)
	cohorts := cohortCurves(f.Cohorts, now, dashboardCohorts)
	dv.Tiles = d.tiles(w, cohorts)
	dv.Figures = append(dv.Figures, d.cards(w))
	join, err := con.joinBlock(ctx, v, d, p.ID, from)
	if err != nil {
		con.fail(c, err)
		return
	}
	dv.Figures = append(dv.Figures, join, d.points(w), d.outstanding(w), d.ltv(cohorts), d.repeat(cohorts))
	funnels, err := con.campaignFunnels(ctx, v, p.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	autos, err := con.automationFunnels(ctx, v, p.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	funnels = append(funnels, autos...)
	for i, r := range funnels {
		dv.Funnels = append(dv.Funnels, d.funnel(fmt.Sprintf("funnel-%d", i+1), r))
	}
	for _, fs := range [][]figureBlock{dv.Figures, dv.Funnels} {
		for i := range fs {
			fs[i].Summary = v.lang.Text("con_dash_table")
		}
	}
	if len(dv.Funnels) == 0 {
		dv.NoFunnels = v.lang.Text("con_dash_no_funnels")
	}
	con.render(c, http.StatusOK, "dashboard", dv)
}

// joinBlock draws the join funnel, or says there is no join page data.
func (con *Console) joinBlock(ctx context.Context, v *viewer, d dashDraw, programID string, from time.Time) (figureBlock, error) {
	var counts store.JoinFunnelCounts
	if con.opts.Joins != nil {
		var err error
		if counts, err = con.opts.Joins.Funnel(ctx, v.user.MerchantID, programID, from); err != nil {
			return figureBlock{}, err
		}
	}
	return d.join(counts, con.opts.Joins != nil), nil
}

// campaignFunnels reports the program's newest started campaigns through
// the API.
func (con *Console) campaignFunnels(ctx context.Context, v *viewer, programID string) ([]funnelReport, error) {
	var list struct {
		Campaigns []apiCampaign `json:"campaigns"`
	}
	if err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/campaigns?limit=200", nil, "", &list); err != nil {
		return nil, err
	}
	var out []funnelReport
	for i := len(list.Campaigns) - 1; i >= 0 && len(out) < dashboardCampaigns; i-- {
		camp := list.Campaigns[i]
		if camp.ProgramID != programID || camp.StartedAt == nil {
			continue
		}
		rep, err := con.reports.get(con.now(), v.user.MerchantID+"/"+camp.ID, func() (apiReport, error) {
			return con.campaignReport(ctx, v, camp.ID)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, rep.funnel(camp.Name))
	}
	return out, nil
}

// reportTTL is how long the dashboard shows a campaign's report before
// asking for it again: a report counts the purchases of every recipient,
// which for a large campaign costs more than the rest of the page (the
// campaign's own page always shows it as it is now).
const reportTTL = time.Minute

// reportCache keeps the dashboard's campaign reports for reportTTL.
type reportCache struct {
	mu sync.Mutex
	m  map[string]cachedReport // merchant/campaign → report
}

type cachedReport struct {
	rep apiReport
	at  time.Time
}

// maxCachedReports bounds the cache; when full, stale entries go first,
// then everything.
const maxCachedReports = 1000

func (rc *reportCache) get(now time.Time, key string, load func() (apiReport, error)) (apiReport, error) {
	rc.mu.Lock()
	c, ok := rc.m[key]
	rc.mu.Unlock()
	if ok && now.Sub(c.at) < reportTTL && now.Sub(c.at) >= 0 {
		return c.rep, nil
	}
	rep, err := load()
	if err != nil {
		return rep, err
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.m == nil {
		rc.m = map[string]cachedReport{}
	}
	if len(rc.m) >= maxCachedReports {
		for k, c := range rc.m {
			if now.Sub(c.at) >= reportTTL {
				delete(rc.m, k)
			}
		}
		if len(rc.m) >= maxCachedReports {
			clear(rc.m)
		}
	}
	rc.m[key] = cachedReport{rep: rep, at: now}
	return rep, nil
}

// automationFunnels reports the program's newest automations that have
// started through the API, each through the same minute's cache.
func (con *Console) automationFunnels(ctx context.Context, v *viewer, programID string) ([]funnelReport, error) {
	var list struct {
		Automations []apiAutomation `json:"automations"`
	}
	err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/automations?limit=200", nil, "", &list)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		return nil, nil // a server without automations
	}
	if err != nil {
		return nil, err
	}
	var out []funnelReport
	for i := len(list.Automations) - 1; i >= 0 && len(out) < dashboardCampaigns; i-- {
		a := list.Automations[i]
		if a.ProgramID != programID {
			continue
		}
		var rep apiAutomationReport
		cached, err := con.reports.get(con.now(), v.user.MerchantID+"/"+a.ID, func() (apiReport, error) {
			err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/automations/"+url.PathEscape(a.ID)+"/report",
				nil, "", &rep)
			return rep.asReport(), err
		})
		if err != nil {
			return nil, err
		}
		f := cached.funnel(a.Name)
		f.Short = true
		out = append(out, f)
	}
	return out, nil
}

func (con *Console) campaignReport(ctx context.Context, v *viewer, id string) (apiReport, error) {
	var rep apiReport
	err := con.api.call(ctx, v.user.MerchantID, http.MethodGet, "/api/v1/campaigns/"+url.PathEscape(id)+"/report", nil, "", &rep)
	return rep, err
}

// dashDraw draws the dashboard's figures in the viewer's language.
type dashDraw struct {
	l *locale.Lang
	p apiProgram
}

func (d dashDraw) t(key string) string { return d.l.Text(key) }
func (d dashDraw) n(v int64) string    { return d.l.Int(v) }
func (d dashDraw) money(v int64) string {
	return d.l.Money(v)
}
func (d dashDraw) day(t time.Time) string   { return t.Format(d.t("con_layout_day")) }
func (d dashDraw) month(t time.Time) string { return t.Format(d.t("con_layout_month")) }
func (d dashDraw) whole(v float64) string   { return d.n(int64(math.Round(v))) }

// unit names what the program's ledger counts: its points' name, stamps,
// coupons, or a gift card's currency.
func (d dashDraw) unit() string {
	switch kindOf(d.p) {
	case loyalty.KindStamps:
		return d.t("con_unit_stamps")
	case loyalty.KindCoupon:
		return d.t("con_unit_coupons")
	case loyalty.KindGift:
		return d.p.Currency
	}
	return d.p.CurrencyLabel
}

// amount writes a figure of the ledger: money for a gift card, else a
// count.
func (d dashDraw) amount(v int64) string {
	if kindOf(d.p) == loyalty.KindGift {
		digits, _ := loyalty.CurrencyDigits(d.p.Currency)
		return d.l.MoneyIn(v, d.p.Currency, digits)
	}
	return d.n(v)
}

func (d dashDraw) amountF(v float64) string { return d.amount(int64(math.Round(v))) }
func (d dashDraw) pct(bp int) string        { return d.l.Percent(bp) + "%" }

func floats(xs []int64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func (d dashDraw) weekLabels(w weekly) []string {
	out := make([]string, len(w.Starts))
	for i, s := range w.Starts {
		out[i] = d.day(s)
	}
	return out
}

func (d dashDraw) tiles(w weekly, cohorts []cohortCurve) []tile {
	last := len(w.Active) - 1
	var installed int64
	for _, ch := range w.Channels {
		installed += w.Installed[ch][last]
	}
	var cards, repeat, revenue int64
	for _, c := range cohorts {
		cards, repeat, revenue = cards+c.Cards, repeat+c.Repeat, revenue+c.Revenue
	}
	rate, perCard := 0, int64(0)
	if cards > 0 {
		rate, perCard = int(repeat*10000/cards), revenue/cards
	}
	out := []tile{
		{ID: "tile-active", Label: d.t("con_dash_active"), Value: d.n(w.Active[last])},
		{ID: "tile-installed", Label: d.t("con_dash_installed"), Value: d.n(installed)},
		{ID: "tile-outstanding", Label: d.t("con_dash_outstanding"), Value: d.amount(w.Outstanding[last]), Note: d.unit()},
		{ID: "tile-repeat", Label: d.t("con_dash_repeat_rate"), Value: d.pct(rate),
			Note: d.l.Text("con_dash_cohorts_note", "n", strconv.Itoa(len(cohorts)))},
		{ID: "tile-ltv", Label: d.t("con_dash_revenue_per_card"), Value: d.money(perCard),
			Note: d.l.Text("con_dash_cohorts_note", "n", strconv.Itoa(len(cohorts)))},
	}
	// A points program's points are worth money too: its point value in
	// its currency (a major unit each when it names none).
	if kindOf(d.p) == loyalty.KindPoints {
		lp := loyalty.Program{Kind: loyalty.KindPoints, Currency: d.p.Currency, PointValue: d.p.PointValue}
		if l, err := loyalty.ProgramLiability(lp, w.Outstanding[last]); err == nil {
			digits, _ := loyalty.CurrencyDigits(l.Currency)
			out[2].Note = d.unit() + " ≈ " + d.l.MoneyIn(l.Amount, l.Currency, digits)
		}
	}
	return out
}

func (d dashDraw) cards(w weekly) figureBlock {
	labels := d.weekLabels(w)
	series := []plot.Series{{Name: d.t("con_dash_active"), Values: floats(w.Active)}}
	head := []string{d.t("con_dash_week"), d.t("con_dash_active")}
	for _, ch := range w.Channels {
		name := d.channel(ch)
		series = append(series, plot.Series{Name: name, Values: floats(w.Installed[ch])})
		head = append(head, name)
	}
	b := figureBlock{ID: "cards", Title: d.t("con_dash_cards_title"), Note: d.t("con_dash_cards_note"), Head: head,
		Chart: plot.Chart{ID: "plot-cards", Title: d.t("con_dash_cards_title"), Kind: plot.Lines, Labels: labels,
			Series: series, Format: d.whole, Empty: d.t("con_dash_empty")}.SVG()}
	for i := range labels {
		row := []string{labels[i], d.n(w.Active[i])}
		for _, ch := range w.Channels {
			row = append(row, d.n(w.Installed[ch][i]))
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

// channel names a wallet channel for people.
func (d dashDraw) channel(ch string) string {
	if key := "con_channel_" + ch; d.t(key) != key {
		return d.t(key)
	}
	return ch
}

func (d dashDraw) join(jc store.JoinFunnelCounts, wired bool) figureBlock {
	steps := []string{d.t("con_dash_join_views"), d.t("con_dash_join_codes"), d.t("con_dash_join_verified"),
		d.t("con_dash_join_installed")}
	values := []int64{jc.Views, jc.CodesSent, jc.Verified, jc.Installed}
	b := figureBlock{ID: "join", Title: d.t("con_dash_join_title"), Note: d.t("con_dash_join_note"),
		Head: []string{d.t("con_dash_step"), d.t("con_dash_count")}}
	empty := !wired || jc == (store.JoinFunnelCounts{})
	if empty {
		b.Chart = plot.Chart{ID: "plot-join", Empty: d.t("con_dash_join_none")}.SVG()
	} else {
		b.Chart = plot.Chart{ID: "plot-join", Title: b.Title, Kind: plot.HBars, Labels: steps,
			Series: []plot.Series{{Name: d.t("con_dash_join_series"), Values: floats(values)}}, Format: d.whole}.SVG()
	}
	for i := range steps {
		b.Rows = append(b.Rows, []string{steps[i], d.n(values[i])})
	}
	return b
}

func (d dashDraw) points(w weekly) figureBlock {
	labels := d.weekLabels(w)
	names := []string{d.t("con_dash_issued"), d.t("con_dash_redeemed"), d.t("con_dash_expired")}
	b := figureBlock{ID: "points", Title: d.l.Text("con_dash_points_title", "unit", d.unit()),
		Note: d.t("con_dash_points_note"),
		Head: []string{d.t("con_dash_week"), names[0], names[1], names[2], d.t("con_dash_other")}}
	b.Chart = plot.Chart{ID: "plot-points", Title: b.Title, Kind: plot.Bars, Labels: labels, Format: d.amountF,
		Empty: d.t("con_dash_empty"), Series: []plot.Series{{Name: names[0], Values: floats(w.Issued)},
			{Name: names[1], Values: floats(w.Redeemed)}, {Name: names[2], Values: floats(w.Expired)}}}.SVG()
	for i := range labels {
		b.Rows = append(b.Rows, []string{labels[i], d.amount(w.Issued[i]), d.amount(w.Redeemed[i]), d.amount(w.Expired[i]),
			d.amount(w.Other[i])})
	}
	return b
}

func (d dashDraw) outstanding(w weekly) figureBlock {
	labels := d.weekLabels(w)
	b := figureBlock{ID: "outstanding", Title: d.l.Text("con_dash_outstanding_title", "unit", d.unit()),
		Note: d.t("con_dash_outstanding_note"), Head: []string{d.t("con_dash_week"), d.t("con_dash_outstanding")}}
	b.Chart = plot.Chart{ID: "plot-outstanding", Title: b.Title, Kind: plot.Lines, Labels: labels, Format: d.amountF,
		Empty: d.t("con_dash_empty"), Series: []plot.Series{{Name: d.t("con_dash_outstanding"), Values: floats(w.Outstanding)}}}.SVG()
	for i := range labels {
		b.Rows = append(b.Rows, []string{labels[i], d.amount(w.Outstanding[i])})
	}
	return b
}

func (d dashDraw) ltv(cs []cohortCurve) figureBlock {
	age := 0
	for _, c := range cs {
		age = max(age, len(c.LTV))
	}
	labels := make([]string, age)
	for k := range labels {
		labels[k] = d.l.Text("con_dash_month_n", "n", strconv.Itoa(k))
	}
	b := figureBlock{ID: "ltv", Title: d.t("con_dash_ltv_title"), Note: d.t("con_dash_ltv_note"),
		Head: append([]string{d.t("con_dash_cohort"), d.t("con_dash_customers")}, labels...)}
	var series []plot.Series
	for _, c := range cs {
		values := make([]float64, age)
		row := []string{d.month(c.Month), d.n(c.Cards)}
		for k := range values {
			values[k] = math.NaN()
			cell := ""
			if k < len(c.LTV) {
				values[k], cell = float64(c.LTV[k]), d.money(c.LTV[k])
			}
			row = append(row, cell)
		}
		series = append(series, plot.Series{Name: d.month(c.Month), Values: values})
		b.Rows = append(b.Rows, row)
	}
	b.Chart = plot.Chart{ID: "plot-ltv", Title: b.Title, Kind: plot.Lines, Labels: labels, Series: series,
		Format: func(v float64) string { return d.money(int64(math.Round(v))) }, Empty: d.t("con_dash_empty")}.SVG()
	return b
}

func (d dashDraw) repeat(cs []cohortCurve) figureBlock {
	b := figureBlock{ID: "repeat", Title: d.t("con_dash_repeat_title"), Note: d.t("con_dash_repeat_note"),
		Head: []string{d.t("con_dash_cohort"), d.t("con_dash_customers"), d.t("con_dash_repeaters"),
			d.t("con_dash_repeat_rate"), d.t("con_dash_purchases"), d.t("con_dash_revenue")}}
	var labels []string
	var rates []float64
	for _, c := range cs {
		labels = append(labels, d.month(c.Month))
		rates = append(rates, float64(c.RepeatRate())/100)
		b.Rows = append(b.Rows, []string{d.month(c.Month), d.n(c.Cards), d.n(c.Repeat), d.pct(c.RepeatRate()),
			d.n(c.Purchases), d.money(c.Revenue)})
	}
	b.Chart = plot.Chart{ID: "plot-repeat", Title: b.Title, Kind: plot.Bars, Labels: labels, Empty: d.t("con_dash_empty"),
		Series: []plot.Series{{Name: d.t("con_dash_repeat_rate"), Values: rates}},
		Format: func(v float64) string { return d.pct(int(math.Round(v * 100))) }}.SVG()
	return b
}

// funnel draws a campaign's or automation's funnel beside its holdout,
// and says the lift: the difference of their purchase conversions.
func (d dashDraw) funnel(id string, r funnelReport) figureBlock {
	steps := []string{d.t("con_dash_f_recipients"), d.t("con_dash_f_sent"), d.t("con_dash_f_delivered"),
		d.t("con_dash_f_clicked"), d.t("con_dash_f_installed"), d.t("con_dash_f_purchasers")}
	texted := []int64{r.Recipients, r.Sent, r.Delivered, r.Clicked, r.Installed, r.Purchasers}
	nan := math.NaN()
	holdout := []float64{float64(r.HoldoutRecipients), nan, nan, nan, nan, float64(r.HoldoutPurchasers)}
	if r.Short {
		steps = []string{steps[0], steps[1], steps[5]}
		texted = []int64{r.Recipients, r.Sent, r.Purchasers}
		holdout = []float64{holdout[0], nan, holdout[5]}
	}
	b := figureBlock{ID: id, Title: r.Name, Note: d.lift(r),
		Head: []string{d.t("con_dash_step"), d.t("con_dash_texted"), d.t("con_dash_holdout")}}
	b.Chart = plot.Chart{ID: "plot-" + id, Title: r.Name, Kind: plot.HBars, Labels: steps, Format: d.whole,
		Series: []plot.Series{{Name: d.t("con_dash_texted"), Values: floats(texted)}, {Name: d.t("con_dash_holdout"), Values: holdout}},
		Empty:  d.t("con_dash_empty")}.SVG()
	for i := range steps {
		cell := ""
		if !math.IsNaN(holdout[i]) {
			cell = d.whole(holdout[i])
		}
		b.Rows = append(b.Rows, []string{steps[i], d.n(texted[i]), cell})
	}
	return b
}

// lift says how the texted group's conversion compares with the holdout's.
func (d dashDraw) lift(r funnelReport) string {
	conv := func(buyers, of int64) int {
		if of == 0 {
			return 0
		}
		return int(buyers * 10000 / of)
	}
	ct, ch := conv(r.Purchasers, r.Recipients), conv(r.HoldoutPurchasers, r.HoldoutRecipients)
	out := d.l.Text("con_dash_lift", "texted", d.pct(ct), "holdout", d.pct(ch), "lift", d.l.Percent(ct-ch))
	if r.CI != nil {
		bp := func(points float64) string { return d.l.Percent(int(math.Round(points * 100))) }
		out += " " + d.l.Text("con_dash_lift_ci", "low", bp(r.CI[0]), "high", bp(r.CI[1]),
			"p", strconv.FormatFloat(r.P, 'f', 3, 64))
	}
	return out
}
