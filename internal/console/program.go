package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/store"
)

// A program's page: every setting (texts, earning, expiry, barcode,
// language, colours, tiers) saved as one PATCH, the card designer with
// the Apple and the Google card beside the form (designer.go), and the
// images, uploaded through the API's image route.

// programForm is the settings form, as typed.
type programForm struct {
	Name, CurrencyLabel, EarnRate, WelcomeBonus, Terms, BarcodeFormat, Locale string
	LifetimeDays, Background, Foreground, Label, LogoText                     string
	TierBasis                                                                 string
	TierDowngrade                                                             bool
	Tiers                                                                     []tierRow
	// The join page and referrals.
	AskName, AskBirthday                               bool
	PersonalDataText, AdsText, SMSBudget               string
	RefReferrer, RefFriend, RefMinPurchase, RefMonthly string
	// Each kind's own settings; ValidUntil is a date, StampMinPurchase
	// and PointValue amounts of money.
	StampsRequired, Reward, StampMinPurchase, DiscountPercent string
	Offer, ValidDays, ValidUntil, Currency, PointValue        string
}

// tierRow is one tier as typed; the rate is a percentage, blank for the
// program's own.
type tierRow struct {
	Code, Name, Threshold, EarnRate string
	Index                           int
}

type programView struct {
	layout
	ID, Kind       string
	KindCode       string // points, stamps, discount, coupon or gift: which settings show
	JoinURL        string
	Form           programForm
	Errors         formErrors
	Saved          string
	BarcodeFormats []option
	Locales        []option
	TierBases      []option
	Images         []imageRow
	Design         designerView
}

// imageRow is an image kind of the program: its own, or the default.
type imageRow struct {
	Kind, Text string
	Custom     bool
}

// formOf is the settings form filled from p; rates are written with a
// point, which parsePercent reads as well as a comma.
func formOf(p apiProgram, lang *locale.Lang) programForm {
	pct := func(bp int) string { return strings.ReplaceAll(lang.Percent(bp), ",", ".") }
	f := programForm{Name: p.Name, CurrencyLabel: p.CurrencyLabel, EarnRate: pct(p.EarnRateBP),
		WelcomeBonus: strconv.FormatInt(p.WelcomeBonus, 10), Terms: p.Terms, BarcodeFormat: p.BarcodeFormat,
		Locale: p.Locale, LifetimeDays: strconv.Itoa(p.PointsLifetimeDays), Background: p.Design.BackgroundColor,
		Foreground: p.Design.ForegroundColor, Label: p.Design.LabelColor, LogoText: p.Design.LogoText,
		TierBasis: p.TierBasis, TierDowngrade: p.TierDowngrade,
		AskName: p.Join.AskName, AskBirthday: p.Join.AskBirthday, PersonalDataText: p.Join.PersonalDataText,
		AdsText: p.Join.AdsText, SMSBudget: strconv.Itoa(p.Join.SMSDailyBudget),
		RefReferrer: strconv.FormatInt(p.Referral.ReferrerPoints, 10), RefFriend: strconv.FormatInt(p.Referral.FriendPoints, 10),
		RefMinPurchase: strings.ReplaceAll(lang.Money(p.Referral.MinPurchaseAmount), ",", "."),
		RefMonthly:     strconv.Itoa(p.Referral.MonthlyLimit)}
	money := func(minor int64) string { // "1000.00": reads back, whatever the language
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '\u00a0' || r == '\u202f' {
				return -1
			}
			return r
		}, strings.ReplaceAll(lang.Money(minor), ",", "."))
	}
	f.RefMinPurchase = money(p.Referral.MinPurchaseAmount)
	f.StampsRequired, f.Reward, f.StampMinPurchase = strconv.Itoa(p.StampsRequired), p.Reward, money(p.StampMinPurchase)
	if p.DiscountPercent != nil {
		f.DiscountPercent = strconv.Itoa(*p.DiscountPercent)
	}
	f.Offer, f.ValidDays, f.Currency, f.PointValue = p.Offer, strconv.Itoa(p.ValidDays), p.Currency, money(p.PointValue)
	if p.ValidUntil != nil {
		f.ValidUntil = p.ValidUntil.UTC().Format(time.DateOnly)
	}
	for _, t := range p.Tiers {
		rate := ""
		if t.EarnRateBP > 0 {
			rate = pct(t.EarnRateBP)
		}
		f.Tiers = append(f.Tiers, tierRow{Code: t.Code, Name: t.Name, Threshold: strconv.FormatInt(t.Threshold, 10), EarnRate: rate})
	}
	return f
}

// readProgramForm reads the settings form from posted values or, for a
// preview, from a query.
func readProgramForm(vs url.Values) programForm {
	get := func(name string) string { return strings.TrimSpace(vs.Get(name)) }
	f := programForm{Name: get("name"), CurrencyLabel: get("currency_label"), EarnRate: get("earn_rate"),
		WelcomeBonus: get("welcome_bonus"), Terms: get("terms"), BarcodeFormat: get("barcode_format"),
		Locale: get("locale"), LifetimeDays: get("points_lifetime_days"), Background: get("background_color"),
		Foreground: get("foreground_color"), Label: get("label_color"), LogoText: get("logo_text"),
		TierBasis: get("tier_basis"), TierDowngrade: get("tier_downgrade") == "yes",
		AskName: get("ask_name") == "yes", AskBirthday: get("ask_birthday") == "yes",
		PersonalDataText: get("personal_data_text"), AdsText: get("ads_text"), SMSBudget: get("sms_daily_budget"),
		RefReferrer: get("referrer_points"), RefFriend: get("friend_points"), RefMinPurchase: get("min_purchase_amount"),
		RefMonthly: get("monthly_limit"), StampsRequired: get("stamps_required"), Reward: get("reward"),
		StampMinPurchase: get("stamp_min_purchase"), DiscountPercent: get("discount_percent"), Offer: get("offer"),
		ValidDays: get("valid_days"), ValidUntil: get("valid_until"), Currency: strings.ToUpper(get("currency")),
		PointValue: get("point_value")}
	codes, names, thresholds, rates := vs["tier_code"], vs["tier_name"], vs["tier_threshold"], vs["tier_rate"]
	at := func(xs []string, i int) string {
		if i < len(xs) {
			return strings.TrimSpace(xs[i])
		}
		return ""
	}
	for i := range min(len(codes), 20) {
		t := tierRow{Code: at(codes, i), Name: at(names, i), Threshold: at(thresholds, i), EarnRate: at(rates, i)}
		if t != (tierRow{}) {
			f.Tiers = append(f.Tiers, t)
		}
	}
	return f
}

// tierInput is a tier as the API takes it.
type tierInput struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Threshold  int64  `json:"threshold"`
	EarnRateBP int    `json:"earn_rate_bp"`
}

// tiersOf reads the tier rows; ok is false if a number does not read.
func (f programForm) tiersOf() ([]tierInput, bool) {
	out := []tierInput{}
	for _, t := range f.Tiers {
		threshold, ok := parseInt(t.Threshold)
		if t.Threshold == "" {
			threshold, ok = 0, true
		}
		rate := 0
		if t.EarnRate != "" {
			var okRate bool
			rate, okRate = parsePercent(t.EarnRate)
			ok = ok && okRate
		}
		if !ok {
			return nil, false
		}
		out = append(out, tierInput{Code: t.Code, Name: t.Name, Threshold: threshold, EarnRateBP: rate})
	}
	return out, true
}

func (con *Console) program(c *gin.Context, v *viewer) (apiProgram, error) {
	var p apiProgram
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet,
		"/api/v1/programs/"+url.PathEscape(c.Param("id")), nil, "", &p)
	return p, err
}

// loadProgram reads the program named in the path, answering for one
// that is not the viewer's merchant's; ok is false when it has answered.
func (con *Console) loadProgram(c *gin.Context, v *viewer) (apiProgram, bool) {
	p, err := con.program(c, v)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return p, false
	}
	if err != nil {
		con.fail(c, err)
		return p, false
	}
	return p, true
}

func (con *Console) programShow(c *gin.Context, v *viewer) {
	p, ok := con.loadProgram(c, v)
	if !ok {
		return
	}
	con.renderProgram(c, v, http.StatusOK, p, formOf(p, v.lang), formErrors{}, c.Query("saved"))
}

func (con *Console) renderProgram(c *gin.Context, v *viewer, status int, p apiProgram, f programForm, errs formErrors, saved string) {
	pv := &programView{layout: con.newLayout(c, v, p.Name), ID: p.ID, Kind: v.lang.Text("con_kind_" + p.Kind), JoinURL: p.JoinURL,
		KindCode: kindOf(p),
		Form:     f, Errors: errs, Saved: saved}
	pv.Scripts = []string{"designer.js"}
	for _, b := range []string{"qr", "pdf417", "aztec", "code128"} {
		pv.BarcodeFormats = append(pv.BarcodeFormats, option{Value: b, Text: strings.ToUpper(b), Selected: b == f.BarcodeFormat})
	}
	for _, tag := range con.texts.Tags() {
		pv.Locales = append(pv.Locales, option{Value: tag, Text: con.texts.Lang(tag).Name(), Selected: tag == f.Locale})
	}
	for _, b := range []string{"points", "spend"} {
		pv.TierBases = append(pv.TierBases, option{Value: b, Text: v.lang.Text("con_tier_basis_" + b), Selected: b == f.TierBasis})
	}
	// One blank row to add a tier; the rows are numbered for their labels.
	pv.Form.Tiers = append(slices.Clone(f.Tiers), tierRow{})
	for i := range pv.Form.Tiers {
		pv.Form.Tiers[i].Index = i
	}
	kinds := make([]string, 0, len(p.Design.Images))
	for k := range p.Design.Images {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		pv.Images = append(pv.Images, imageRow{Kind: k, Text: v.lang.Text("con_image_" + k), Custom: p.Design.Images[k] == "custom"})
	}
	design, err := con.design(c.Request.Context(), v, f.asTyped(loyaltyProgram(p, v.user.MerchantID), con.texts.Has))
	if err != nil {
		con.fail(c, err)
		return
	}
	pv.Design = design
	con.render(c, status, "program", pv)
}

// programFields maps the API's field names to the form's.
var programFields = map[string]string{"currency_label": "CurrencyLabel", "earn_rate_bp": "EarnRate",
	"welcome_bonus": "WelcomeBonus", "terms": "Terms", "barcode_format": "BarcodeFormat", "locale": "Locale",
	"points_lifetime_days": "LifetimeDays", "design.background_color": "Background",
	"design.foreground_color": "Foreground", "design.label_color": "Label", "design.logo_text": "LogoText",
	"name": "Name", "tier_basis": "Tiers", "join.personal_data_text": "PersonalDataText", "join.ads_text": "AdsText",
	"join.sms_daily_budget": "SMSBudget", "referral.referrer_points": "RefReferrer", "referral.friend_points": "RefFriend",
	"referral.min_purchase_amount": "RefMinPurchase", "referral.monthly_limit": "RefMonthly",
	"stamps_required": "StampsRequired", "reward": "Reward", "stamp_min_purchase": "StampMinPurchase",
	"discount_percent": "DiscountPercent", "offer": "Offer", "valid_days": "ValidDays", "valid_until": "ValidUntil",
	"currency": "Currency", "point_value": "PointValue"}

// kindOf is p's kind, points when the API names none.
func kindOf(p apiProgram) string {
	if p.Kind == "" {
		return "points"
	}
	return p.Kind
}

// programSave sends the settings to the API as one PATCH and records
// which settings changed.
func (con *Console) programSave(c *gin.Context, v *viewer) {
	before, ok := con.loadProgram(c, v)
	if !ok {
		return
	}
	f := readProgramForm(c.Request.PostForm)
	body, errs := f.body(kindOf(before), before.TierBasis, v.lang)
	if len(errs) > 0 {
		con.renderProgram(c, v, http.StatusUnprocessableEntity, before, f, errs, "")
		return
	}
	// The entry says what the form changes; a save that changes nothing
	// records nothing.
	ctx := c.Request.Context()
	if changed := programChanges(before, patched(before, body)); changed != "" {
		ctx = con.audited(c, v, store.AuditEntry{Action: "program.update", Detail: changed})
	}
	var after apiProgram
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPatch,
		"/api/v1/programs/"+url.PathEscape(before.ID), body, "", &after)
	if ae, ok := asAPIError(err); ok {
		if strings.HasPrefix(ae.Field, "tiers") {
			ae.Field = "Tiers"
		}
		errs.fromAPI(ae, v.lang, programFields)
		con.renderProgram(c, v, http.StatusUnprocessableEntity, before, f, errs, "")
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/programs/"+url.PathEscape(after.ID)+"?saved=settings")
}

// body is the PATCH of the settings a program of kind has, read from the
// form; what does not read is in errs, by the form's field.
func (f programForm) body(kind, basis string, lang *locale.Lang) (map[string]any, formErrors) {
	errs := formErrors{}
	whole := func(field, typed string) int64 {
		n, ok := parseInt(typed)
		if !ok || n < -1<<31 || n > 1<<31 {
			errs[field] = lang.Text("con_err_whole")
		}
		return n
	}
	money := func(field, typed string) int64 {
		n, ok := parseMoney(typed)
		if !ok {
			errs[field] = lang.Text("con_err_amount")
		}
		return n
	}
	body := map[string]any{"name": f.Name, "currency_label": f.CurrencyLabel, "terms": f.Terms,
		"barcode_format": f.BarcodeFormat, "locale": f.Locale,
		"design": map[string]any{"background_color": f.Background, "foreground_color": f.Foreground,
			"label_color": f.Label, "logo_text": f.LogoText},
		"join": map[string]any{"ask_name": f.AskName, "ask_birthday": f.AskBirthday,
			"personal_data_text": f.PersonalDataText, "ads_text": f.AdsText,
			"sms_daily_budget": whole("SMSBudget", f.SMSBudget)},
		"referral": map[string]any{"referrer_points": whole("RefReferrer", f.RefReferrer),
			"friend_points": whole("RefFriend", f.RefFriend), "min_purchase_amount": money("RefMinPurchase", f.RefMinPurchase),
			"monthly_limit": whole("RefMonthly", f.RefMonthly)}}
	if kind == "points" {
		rate, ok := parsePercent(f.EarnRate)
		if !ok {
			errs["EarnRate"] = lang.Text("con_err_percent")
		}
		body["earn_rate_bp"], body["welcome_bonus"] = rate, whole("WelcomeBonus", f.WelcomeBonus)
		body["currency"], body["point_value"] = f.Currency, int64(0) // blank: a major unit a point
		if f.PointValue != "" {
			body["point_value"] = money("PointValue", f.PointValue)
		}
	}
	if kind == "points" || kind == "stamps" {
		body["points_lifetime_days"] = whole("LifetimeDays", f.LifetimeDays)
	}
	if kind == "points" || kind == "discount" {
		tiers, ok := f.tiersOf()
		if !ok {
			errs["Tiers"] = lang.Text("con_err_tiers")
		}
		if f.TierBasis != "" {
			basis = f.TierBasis
		}
		body["tiers"], body["tier_basis"], body["tier_downgrade"] = tiers, basis, f.TierDowngrade
	}
	switch kind {
	case "stamps":
		body["stamps_required"], body["reward"] = whole("StampsRequired", f.StampsRequired), f.Reward
		body["stamp_min_purchase"] = money("StampMinPurchase", f.StampMinPurchase)
	case "discount":
		body["discount_percent"] = whole("DiscountPercent", f.DiscountPercent)
	case "coupon":
		// Days from the issue, or (days 0) a fixed last day: the coupon
		// lasts through its end, UTC; the API takes a time with an offset.
		body["offer"] = f.Offer
		days := int64(0)
		if f.ValidDays != "" {
			days = whole("ValidDays", f.ValidDays)
		}
		switch _, err := time.Parse(time.DateOnly, f.ValidUntil); {
		case days != 0:
			body["valid_days"] = days
		case f.ValidUntil == "":
			errs["ValidDays"] = lang.Text("con_err_coupon_validity")
		case err != nil:
			errs["ValidUntil"] = lang.Text("con_err_date")
		default:
			body["valid_until"] = f.ValidUntil + "T23:59:59Z"
		}
	case "gift":
		body["currency"] = f.Currency
	}
	return body, errs
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
	if !slices.Equal(a.Tiers, b.Tiers) {
		var codes []string
		for _, t := range b.Tiers {
			codes = append(codes, t.Code)
		}
		out = append(out, "tiers="+strings.Join(codes, "/"))
	}
	add("tier_basis", a.TierBasis, b.TierBasis)
	add("tier_downgrade", a.TierDowngrade, b.TierDowngrade)
	if a.Join != b.Join {
		out = append(out, "join")
	}
	if a.Referral != b.Referral {
		out = append(out, fmt.Sprintf("referral=%d/%d", b.Referral.ReferrerPoints, b.Referral.FriendPoints))
	}
	add("stamps_required", a.StampsRequired, b.StampsRequired)
	add("reward", a.Reward, b.Reward)
	add("stamp_min_purchase", a.StampMinPurchase, b.StampMinPurchase)
	if a.DiscountPercent != nil && b.DiscountPercent != nil {
		add("discount_percent", *a.DiscountPercent, *b.DiscountPercent)
	}
	add("offer", a.Offer, b.Offer)
	add("valid_days", a.ValidDays, b.ValidDays)
	if (a.ValidUntil == nil) != (b.ValidUntil == nil) || a.ValidUntil != nil && !a.ValidUntil.Equal(*b.ValidUntil) {
		out = append(out, "valid_until")
	}
	add("currency", a.Currency, b.Currency)
	add("point_value", a.PointValue, b.PointValue)
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

// maxUpload bounds an uploaded image: the API takes up to 1 MiB.
const maxUpload = 1 << 20

// programImageUpload puts an uploaded PNG on the program through the
// API's image route (which scales it to the pass's sizes), or, with
// "remove", goes back to the default image.
func (con *Console) programImageUpload(c *gin.Context, v *viewer) {
	p, ok := con.loadProgram(c, v)
	if !ok {
		return
	}
	kind := postForm(c, "kind")
	if _, known := p.Design.Images[kind]; !known {
		con.renderProgram(c, v, http.StatusUnprocessableEntity, p, formOf(p, v.lang),
			formErrors{"Image": v.lang.Text("con_image_kind_unknown")}, "")
		return
	}
	path := "/api/v1/programs/" + url.PathEscape(p.ID) + "/images/" + url.PathEscape(kind)
	var after apiProgram
	var err error
	ctx := con.audited(c, v, store.AuditEntry{Action: "program.image", Detail: kind})
	if c.Request.PostForm.Get("remove") != "" {
		ctx = con.audited(c, v, store.AuditEntry{Action: "program.image_removed", Detail: kind})
		err = con.api.call(ctx, v.user.MerchantID, http.MethodDelete, path, nil, "", &after)
	} else {
		data, problem := uploadedPNG(c)
		if problem != "" {
			con.renderProgram(c, v, http.StatusUnprocessableEntity, p, formOf(p, v.lang), formErrors{"Image": v.lang.Text(problem)}, "")
			return
		}
		err = con.api.send(ctx, v.user.MerchantID, http.MethodPut, path, "image/png", data, &after)
	}
	if ae, ok := asAPIError(err); ok {
		errs := formErrors{}
		ae.Field = "Image"
		errs.fromAPI(ae, v.lang, nil)
		if ae.Code == "invalid_field" { // the API says what is wrong, in English
			errs["Image"] = v.lang.Text("con_image_invalid") + " (" + ae.Message + ")"
		}
		con.renderProgram(c, v, ae.Status, p, formOf(p, v.lang), errs, "")
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/programs/"+url.PathEscape(p.ID)+"?saved=image#images")
}

// uploadedPNG reads the form's "image" file; problem is the text key of
// what is wrong with it.
func uploadedPNG(c *gin.Context) (data []byte, problem string) {
	if c.Request.MultipartForm == nil {
		return nil, "con_image_missing"
	}
	fh, err := c.FormFile("image")
	if errors.Is(err, http.ErrMissingFile) || err == nil && fh.Size == 0 {
		return nil, "con_image_missing"
	}
	if err != nil {
		return nil, "con_image_unreadable"
	}
	if fh.Size > maxUpload {
		return nil, "con_image_too_big"
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "con_image_unreadable"
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return nil, "con_image_unreadable"
	}
	if len(data) > maxUpload {
		return nil, "con_image_too_big"
	}
	return data, ""
}

// programPoster hands out the program's join poster, drawn by the API
// (PDF to print, PNG to post) in the program's language.
func (con *Console) programPoster(c *gin.Context, v *viewer) {
	format := c.Param("format")
	if format != "pdf" && format != "png" {
		con.notFound(c)
		return
	}
	path := "/api/v1/programs/" + url.PathEscape(c.Param("id")) + "/poster." + format
	data, ctype, err := con.api.fetch(c.Request.Context(), v.user.MerchantID, path)
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `inline; filename="poster-`+url.PathEscape(c.Param("id"))+"."+format+`"`)
	c.Data(http.StatusOK, ctype, data)
}

// patched is p with the PATCH body applied as JSON merges it (objects
// merged key by key, anything else replaced): the program the form asks
// for, to say in the audit log what it changes.
func patched(p apiProgram, body map[string]any) apiProgram {
	raw, err := json.Marshal(p)
	if err != nil {
		return p
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return p
	}
	var merge func(dst, src map[string]any)
	merge = func(dst, src map[string]any) {
		for k, v := range src {
			if sub, ok := v.(map[string]any); ok {
				if d, ok := dst[k].(map[string]any); ok {
					merge(d, sub)
					continue
				}
			}
			dst[k] = v
		}
	}
	merge(doc, body)
	var out apiProgram
	if raw, err = json.Marshal(doc); err != nil || json.Unmarshal(raw, &out) != nil {
		return p
	}
	return out
}
