package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Programs screen: the list of the merchant's programs with a form
// for a new one, and each program's settings. Both read and write through
// the API's program routes; the card designer with its live preview is to
// join the settings page.

type programsView struct {
	layout
	Programs []programRow
	Name     string
	Errors   formErrors
}

type programRow struct {
	ID, Name, Kind, EarnRate, Welcome string
	BG, FG                            string
}

func (con *Console) programsShow(c *gin.Context, v *viewer) {
	con.renderPrograms(c, v, http.StatusOK, "", formErrors{})
}

func (con *Console) renderPrograms(c *gin.Context, v *viewer, status int, name string, errs formErrors) {
	ps, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	pv := &programsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_programs")), Name: name, Errors: errs}
	for _, p := range ps {
		pv.Programs = append(pv.Programs, programRow{ID: p.ID, Name: p.Name, Kind: v.lang.Text("con_kind_" + p.Kind),
			EarnRate: v.lang.EarnRate(p.EarnRateBP), Welcome: v.lang.Points(p.WelcomeBonus),
			BG: p.Design.BackgroundColor, FG: p.Design.ForegroundColor})
	}
	con.render(c, status, "programs", pv)
}

// programs lists the merchant's programs (the first 200).
func (con *Console) programs(c *gin.Context, v *viewer) ([]apiProgram, error) {
	var out struct {
		Programs []apiProgram `json:"programs"`
	}
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet, "/api/v1/programs?limit=200", nil, "", &out)
	return out.Programs, err
}

// programsCreate makes a program with the API's defaults and opens its
// settings.
func (con *Console) programsCreate(c *gin.Context, v *viewer) {
	name := postForm(c, "name")
	var p apiProgram
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodPost, "/api/v1/programs",
		map[string]any{"name": name}, "", &p)
	if ae, ok := asAPIError(err); ok {
		errs := formErrors{}
		errs.fromAPI(ae, v.lang, nil)
		con.renderPrograms(c, v, http.StatusUnprocessableEntity, name, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	con.audit(c, v, store.AuditEntry{Action: "program.create", Subject: p.ID, Detail: p.Name})
	c.Redirect(http.StatusSeeOther, "/console/programs/"+url.PathEscape(p.ID))
}

// programForm is the settings form, as typed.
type programForm struct {
	Name, CurrencyLabel, EarnRate, WelcomeBonus, Terms, BarcodeFormat, Locale string
	LifetimeDays, Background, Foreground, Label, LogoText                     string
}

type programView struct {
	layout
	ID, Kind, Tiers string
	Form            programForm
	Errors          formErrors
	Saved           bool
	BarcodeFormats  []option
	Locales         []option
}

type option struct {
	Value, Text string
	Selected    bool
}

// formOf is the settings form filled from p; the rate is written with a
// point, which parsePercent reads as well as a comma.
func formOf(p apiProgram, lang *locale.Lang) programForm {
	return programForm{Name: p.Name, CurrencyLabel: p.CurrencyLabel, EarnRate: strings.ReplaceAll(lang.Percent(p.EarnRateBP), ",", "."),
		WelcomeBonus: strconv.FormatInt(p.WelcomeBonus, 10), Terms: p.Terms, BarcodeFormat: p.BarcodeFormat,
		Locale: p.Locale, LifetimeDays: strconv.Itoa(p.PointsLifetimeDays), Background: p.Design.BackgroundColor,
		Foreground: p.Design.ForegroundColor, Label: p.Design.LabelColor, LogoText: p.Design.LogoText}
}

func (con *Console) program(c *gin.Context, v *viewer) (apiProgram, error) {
	var p apiProgram
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/programs/"+url.PathEscape(c.Param("id")), nil, "", &p)
	return p, err
}

func (con *Console) programShow(c *gin.Context, v *viewer) {
	p, err := con.program(c, v)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	con.renderProgram(c, v, http.StatusOK, p, formOf(p, v.lang), formErrors{}, c.Query("saved") == "1")
}

func (con *Console) renderProgram(c *gin.Context, v *viewer, status int, p apiProgram, f programForm, errs formErrors, saved bool) {
	pv := &programView{layout: con.newLayout(c, v, p.Name), ID: p.ID, Kind: v.lang.Text("con_kind_" + p.Kind),
		Form: f, Errors: errs, Saved: saved, Tiers: strconv.Itoa(len(p.Tiers))}
	for _, b := range []string{"qr", "pdf417", "aztec", "code128"} {
		pv.BarcodeFormats = append(pv.BarcodeFormats, option{Value: b, Text: strings.ToUpper(b), Selected: b == f.BarcodeFormat})
	}
	for _, tag := range con.texts.Tags() {
		pv.Locales = append(pv.Locales, option{Value: tag, Text: con.texts.Lang(tag).Name(), Selected: tag == f.Locale})
	}
	con.render(c, status, "program", pv)
}

// programFields maps the API's field names to the form's.
var programFields = map[string]string{"currency_label": "CurrencyLabel", "earn_rate_bp": "EarnRate",
	"welcome_bonus": "WelcomeBonus", "terms": "Terms", "barcode_format": "BarcodeFormat", "locale": "Locale",
	"points_lifetime_days": "LifetimeDays", "design.background_color": "Background",
	"design.foreground_color": "Foreground", "design.label_color": "Label", "design.logo_text": "LogoText",
	"name": "Name"}

// programSave sends the settings to the API as one PATCH and records
// which settings changed.
func (con *Console) programSave(c *gin.Context, v *viewer) {
	before, err := con.program(c, v)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	f := programForm{Name: postForm(c, "name"), CurrencyLabel: postForm(c, "currency_label"),
		EarnRate: postForm(c, "earn_rate"), WelcomeBonus: postForm(c, "welcome_bonus"), Terms: postForm(c, "terms"),
		BarcodeFormat: postForm(c, "barcode_format"), Locale: postForm(c, "locale"),
		LifetimeDays: postForm(c, "points_lifetime_days"), Background: postForm(c, "background_color"),
		Foreground: postForm(c, "foreground_color"), Label: postForm(c, "label_color"), LogoText: postForm(c, "logo_text")}
	errs := formErrors{}
	rate, ok := parsePercent(f.EarnRate)
	if !ok {
		errs["EarnRate"] = v.lang.Text("con_err_percent")
	}
	welcome, ok := parseInt(f.WelcomeBonus)
	if !ok {
		errs["WelcomeBonus"] = v.lang.Text("con_err_whole")
	}
	days, ok := parseInt(f.LifetimeDays)
	if !ok {
		errs["LifetimeDays"] = v.lang.Text("con_err_whole")
	}
	if len(errs) > 0 {
		con.renderProgram(c, v, http.StatusUnprocessableEntity, before, f, errs, false)
		return
	}
	body := map[string]any{"name": f.Name, "currency_label": f.CurrencyLabel, "earn_rate_bp": rate,
		"welcome_bonus": welcome, "terms": f.Terms, "barcode_format": f.BarcodeFormat, "locale": f.Locale,
		"points_lifetime_days": days, "design": map[string]any{"background_color": f.Background,
			"foreground_color": f.Foreground, "label_color": f.Label, "logo_text": f.LogoText}}
	var after apiProgram
	err = con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodPatch,
		"/api/v1/programs/"+url.PathEscape(before.ID), body, "", &after)
	if ae, ok := asAPIError(err); ok {
		errs.fromAPI(ae, v.lang, programFields)
		con.renderProgram(c, v, http.StatusUnprocessableEntity, before, f, errs, false)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	if changed := programChanges(before, after); changed != "" {
		con.audit(c, v, store.AuditEntry{Action: "program.update", Subject: after.ID, Detail: changed})
	}
	c.Redirect(http.StatusSeeOther, "/console/programs/"+url.PathEscape(after.ID)+"?saved=1")
}

// programChanges names the settings that differ, with their new values.
func programChanges(a, b apiProgram) string {
	var out []string
	add := func(name string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("%s=%v", name, y))
		}
	}
	add("name", a.Name, b.Name)
	add("currency_label", a.CurrencyLabel, b.CurrencyLabel)
	add("earn_rate_bp", a.EarnRateBP, b.EarnRateBP)
	add("welcome_bonus", a.WelcomeBonus, b.WelcomeBonus)
	if a.Terms != b.Terms {
		out = append(out, "terms")
	}
	add("barcode_format", a.BarcodeFormat, b.BarcodeFormat)
	add("locale", a.Locale, b.Locale)
	add("points_lifetime_days", a.PointsLifetimeDays, b.PointsLifetimeDays)
	add("background_color", a.Design.BackgroundColor, b.Design.BackgroundColor)
	add("foreground_color", a.Design.ForegroundColor, b.Design.ForegroundColor)
	add("label_color", a.Design.LabelColor, b.Design.LabelColor)
	add("logo_text", a.Design.LogoText, b.Design.LogoText)
	return strings.Join(out, ", ")
}

// parsePercent reads a percentage ("5", "2.5", "2,5") into basis points.
func parsePercent(s string) (int, bool) {
	minor, ok := parseMoney(s)
	if !ok || minor > 1<<30 {
		return 0, false
	}
	return int(minor), true
}
