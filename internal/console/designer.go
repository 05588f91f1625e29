package console

import (
	"bytes"
	"context"
	"html/template"
	"image"
	_ "image/png" // the logo's shape, from its header
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
)

// The card designer: beside a program's settings, the Apple and the
// Google card as a customer will see them, drawn from the values the
// pass is built from. The settings as typed (saved or not) go through
// cardpass.ProgramFor and cardpass.CardFor to passes.PassLayout, which
// builds pass.json with the same code that signs real passes, and to
// passes/google's class and object builders; cardsvg.go draws what they
// return. designer.js asks for a new drawing as the form changes.

// ProgramImages reads a program's uploaded images (file name → PNG).
type ProgramImages interface {
	ProgramImages(ctx context.Context, programID string) (map[string][]byte, error)
}

// previewIssuer is the Google issuer ID the drawings use: the builders
// want a numeric one, and nothing is sent anywhere.
const previewIssuer = "3388000000000000000"

// previewNumber is the sample card's number.
const previewNumber = "2718281828459"

// designerView is the drawing of both cards.
type designerView struct {
	Apple, Google template.HTML
	// Back lists the Apple card's back fields; Modules the Google card's
	// text modules, both as label and text.
	Back, Modules [][2]string
	T             map[string]string
	Error         string
}

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// loyaltyProgram is the domain's view of an API program.
func loyaltyProgram(p apiProgram, merchantID string) loyalty.Program {
	lp := loyalty.Program{ID: p.ID, MerchantID: merchantID, Kind: p.Kind, Name: p.Name, CurrencyLabel: p.CurrencyLabel,
		EarnRateBP: p.EarnRateBP, WelcomeBonus: p.WelcomeBonus, Terms: p.Terms, BarcodeFormat: p.BarcodeFormat,
		Locale: p.Locale, BackgroundColor: p.Design.BackgroundColor, ForegroundColor: p.Design.ForegroundColor,
		LabelColor: p.Design.LabelColor, LogoText: p.Design.LogoText, TierBasis: p.TierBasis,
		TierDowngrade: p.TierDowngrade, PointsLifetimeDays: p.PointsLifetimeDays, Version: p.Version}
	for _, t := range p.Tiers {
		lp.Tiers = append(lp.Tiers, loyalty.Tier{Code: t.Code, Name: t.Name, Threshold: t.Threshold, EarnRateBP: t.EarnRateBP})
	}
	return lp
}

// asTyped lays the form's values over p for a preview: what reads right
// replaces the saved value, what does not (a colour half typed) leaves
// it. Saving checks every value; a preview only shows.
func (f programForm) asTyped(p loyalty.Program, locales func(string) bool) loyalty.Program {
	set := func(dst *string, v string) {
		if v = strings.TrimSpace(v); v != "" {
			*dst = v
		}
	}
	set(&p.Name, f.Name)
	set(&p.CurrencyLabel, f.CurrencyLabel)
	p.Terms = strings.TrimSpace(f.Terms)
	p.LogoText = strings.TrimSpace(f.LogoText)
	if p.LogoText == "" {
		p.LogoText = string([]rune(p.Name)[:min(len([]rune(p.Name)), 40)])
	}
	if slices.Contains([]string{"qr", "pdf417", "aztec", "code128"}, f.BarcodeFormat) {
		p.BarcodeFormat = f.BarcodeFormat
	}
	if locales(f.Locale) {
		p.Locale = f.Locale
	}
	for _, c := range []struct {
		dst *string
		v   string
	}{{&p.BackgroundColor, f.Background}, {&p.ForegroundColor, f.Foreground}, {&p.LabelColor, f.Label}} {
		if colourRE.MatchString(c.v) {
			*c.dst = c.v
		}
	}
	if rate, ok := parsePercent(f.EarnRate); ok && rate <= 10000 {
		p.EarnRateBP = rate
	}
	if days, ok := parseInt(f.LifetimeDays); ok && days >= 0 && days <= 3650 {
		p.PointsLifetimeDays = int(days)
	}
	if tiers, ok := f.tiersOf(); ok {
		p.Tiers = nil
		for _, t := range tiers {
			p.Tiers = append(p.Tiers, loyalty.Tier{Code: t.Code, Name: t.Name, Threshold: t.Threshold, EarnRateBP: t.EarnRateBP})
		}
	}
	return p
}

// previewCard is the sample card a preview shows: a customer with a
// name, a balance and, where the program has tiers, the first one above
// the start.
func previewCard(p loyalty.Program, holder string) loyalty.Card {
	c := loyalty.Card{SerialNumber: "preview", Number: previewNumber, AuthToken: strings.Repeat("p", 16),
		Balance: 1250, Tier: loyalty.BaseTier, Status: loyalty.CardActive, Customer: loyalty.Customer{Name: holder}}
	for _, t := range p.Tiers {
		c.Tier = t.Code
		if t.Threshold > 0 {
			break
		}
	}
	return c
}

// design draws program p (as typed) for the viewer.
func (con *Console) design(ctx context.Context, v *viewer, p loyalty.Program) (designerView, error) {
	dv := designerView{T: v.lang.Texts()}
	m, err := con.opts.Merchants.Merchant(ctx, v.user.MerchantID)
	if err != nil {
		return dv, err
	}
	images, err := con.opts.Images.ProgramImages(ctx, p.ID)
	if err != nil {
		return dv, err
	}
	pp := cardpass.ProgramFor(m, p, images)
	own := con.texts.Lang(p.Locale)
	pc := cardpass.CardFor(previewCard(p, own.Text("con_design_sample_name")), p)
	if p.PointsLifetimeDays > 0 {
		pc.Expiring = passes.Expiry{Points: 120, At: con.now().AddDate(0, 0, min(p.PointsLifetimeDays, 30))}
	}
	art := cardArt{
		Logo:  designImageURL(p, "logo@2x.png"),
		Strip: designImageURL(p, "strip@2x.png"),
		Icon:  designImageURL(p, "icon@2x.png"),
	}
	if logo, ok := passes.PreviewImage(pp, "logo@2x.png"); ok {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(logo)); err == nil && cfg.Height > 0 {
			art.LogoAspect = float64(cfg.Width) / float64(cfg.Height)
		}
	}
	layout, err := passes.PassLayout(pp, pc, con.texts)
	if err != nil {
		// Settings the pass cannot carry: the save refuses them by field.
		dv.Error = v.lang.Text("con_design_cannot")
		return dv, nil
	}
	dv.Apple = appleCardSVG(layout, art, v.lang.Text("con_design_apple"))
	for _, f := range layout.Back {
		dv.Back = append(dv.Back, [2]string{f.Label, f.Value})
	}
	is := google.Issuer{ID: previewIssuer, PublicURL: con.opts.PublicURL, Texts: con.texts}
	class, err := is.LoyaltyClass(pp)
	if err != nil {
		dv.Error = v.lang.Text("con_design_cannot")
		return dv, nil
	}
	obj, err := is.LoyaltyObject(pp, pc)
	if err != nil {
		dv.Error = v.lang.Text("con_design_cannot")
		return dv, nil
	}
	dv.Google = googleCardSVG(class, obj, art, v.lang.Text("con_design_google"))
	for _, m := range append(class.TextModulesData, obj.TextModulesData...) {
		dv.Modules = append(dv.Modules, [2]string{m.Header, m.Body})
	}
	return dv, nil
}

// designImageURL is where the preview finds one of p's images; the
// program's version in it changes with every upload.
func designImageURL(p loyalty.Program, name string) string {
	return "/console/programs/" + url.PathEscape(p.ID) + "/image/" + name + "?v=" + strconv.FormatInt(p.Version, 10)
}

// programPreview answers designer.js: the cards as the form's values
// (in the query) would make them.
func (con *Console) programPreview(c *gin.Context, v *viewer) {
	p, ok := con.loadProgram(c, v)
	if !ok {
		return
	}
	f := readProgramForm(c.Request.URL.Query())
	dv, err := con.design(c.Request.Context(), v, f.asTyped(loyaltyProgram(p, v.user.MerchantID), con.texts.Has))
	if err != nil {
		con.fail(c, err)
		return
	}
	var buf bytes.Buffer
	if err := con.pages["program"].ExecuteTemplate(&buf, "designer-preview", dv); err != nil {
		con.fail(c, err)
		return
	}
	c.Header("Content-Security-Policy", contentPolicy)
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// programImage serves one of a program's images as its passes carry it
// (the program's own, else the default), for the preview.
func (con *Console) programImage(c *gin.Context, v *viewer) {
	p, ok := con.loadProgram(c, v)
	if !ok {
		return
	}
	images, err := con.opts.Images.ProgramImages(c.Request.Context(), p.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	data, ok := passes.PreviewImage(passes.Program{Design: passes.Design{Images: images}}, c.Param("name"))
	if !ok || !strings.HasSuffix(c.Param("name"), ".png") {
		con.notFound(c)
		return
	}
	// The URL names the program's version, which an upload moves on.
	c.Header("Cache-Control", "private, max-age="+strconv.Itoa(int((24*time.Hour).Seconds())))
	c.Data(http.StatusOK, "image/png", data)
}
