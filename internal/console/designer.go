package console

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/locale"
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
		TierDowngrade: p.TierDowngrade, PointsLifetimeDays: p.PointsLifetimeDays, Version: p.Version,
		StampsRequired: p.StampsRequired, Reward: p.Reward, StampMinPurchase: p.StampMinPurchase, Offer: p.Offer,
		ValidDays: p.ValidDays, ValidUntil: p.ValidUntil, Currency: p.Currency, PointValue: p.PointValue}
	if p.DiscountPercent != nil {
		lp.DiscountPercent = *p.DiscountPercent
	}
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
	if n, ok := parseInt(f.StampsRequired); ok && n >= 2 && n <= 20 {
		p.StampsRequired = int(n)
	}
	if r := strings.TrimSpace(f.Reward); r != "" {
		p.Reward = r
	}
	if n, ok := parseInt(f.DiscountPercent); ok && n >= 0 && n <= 100 {
		p.DiscountPercent = int(n)
	}
	if o := strings.TrimSpace(f.Offer); o != "" {
		p.Offer = o
	}
	if n, ok := parseInt(f.ValidDays); ok && n > 0 {
		p.ValidDays, p.ValidUntil = int(n), nil
	}
	if at, err := time.Parse(time.DateOnly, f.ValidUntil); err == nil && f.ValidDays == "0" {
		end := at.Add(24*time.Hour - time.Second)
		p.ValidUntil, p.ValidDays = &end, 0
	}
	if len(f.Currency) == 3 {
		p.Currency = f.Currency
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
// name, where the program has tiers the first one above the start, and
// what the kind holds: 1 250 points, a stamp card one stamp past its
// middle with a reward ready, a coupon valid for its days, 1 500.00 on a
// gift card.
func previewCard(p loyalty.Program, holder string, now time.Time) loyalty.Card {
	c := loyalty.Card{SerialNumber: "preview", Number: previewNumber, AuthToken: strings.Repeat("p", 16),
		Balance: 1250, Tier: loyalty.BaseTier, Status: loyalty.CardActive, Customer: loyalty.Customer{Name: holder}}
	for _, t := range p.Tiers {
		c.Tier = t.Code
		if t.Threshold > 0 {
			break
		}
	}
	switch p.KindOf() {
	case loyalty.KindStamps:
		c.Balance, c.Rewards = int64(p.StampsRequired/2+1), 1
	case loyalty.KindCoupon:
		c.Balance = 1
		until := now.AddDate(0, 0, max(p.ValidDays, 1))
		if p.ValidUntil != nil {
			until = *p.ValidUntil
		}
		c.ValidUntil = &until
	case loyalty.KindGift:
		digits, _ := loyalty.CurrencyDigits(p.CurrencyOf())
		c.Balance = 1500
		for range digits {
			c.Balance *= 10
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
	pc := cardpass.CardFor(previewCard(p, own.Text("con_design_sample_name"), con.now()), p)
	if p.PointsLifetimeDays > 0 {
		pc.Expiring = passes.Expiry{Points: 120, At: con.now().AddDate(0, 0, min(p.PointsLifetimeDays, 30))}
	}
	art := cardArt{
		Logo:  designImageURL(p, "logo@2x.png"),
		Strip: designImageURL(p, "strip@2x.png"),
		Icon:  designImageURL(p, "icon@2x.png"),
	}
	if p.KindOf() == loyalty.KindStamps { // the strip shows the card's stamps, in the colours as typed
		if strip, err := passes.PreviewStrip(pp, pc); err == nil {
			art.Strip = "data:image/png;base64," + base64.StdEncoding.EncodeToString(strip)
		}
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
	asShown(&layout, own)
	dv.Apple = appleCardSVG(layout, art, v.lang.Text("con_design_apple"))
	for _, f := range layout.Back {
		dv.Back = append(dv.Back, [2]string{f.Label, f.Value})
	}
	is := google.Issuer{ID: previewIssuer, PublicURL: con.opts.PublicURL, Texts: con.texts}
	class, err := is.Class(pp)
	if err != nil {
		dv.Error = v.lang.Text("con_design_cannot")
		return dv, nil
	}
	obj, err := is.Object(pp, pc)
	if err != nil {
		dv.Error = v.lang.Text("con_design_cannot")
		return dv, nil
	}
	face, modules := googleFaceOf(class, obj, own)
	if face.Hero != "" { // a stamp card's hero image, drawn as Google would fetch it
		if hero, err := passes.StampHero(pp, int(pc.Balance)); err == nil {
			face.Hero = "data:image/png;base64," + base64.StdEncoding.EncodeToString(hero)
		} else {
			face.Hero = ""
		}
	}
	dv.Google = googleCardSVG(face, art, v.lang.Text("con_design_google"))
	dv.Modules = modules
	return dv, nil
}

// asShown writes the dates and amounts of the pass's fields the way
// Wallet would on a phone in the program's language.
func asShown(l *passes.Layout, own *locale.Lang) {
	for _, fs := range [][]passes.LayoutField{l.Header, l.Primary, l.Secondary, l.Auxiliary, l.Back} {
		for i := range fs {
			f := &fs[i]
			switch {
			case f.DateStyle != "":
				if at, err := time.Parse(time.RFC3339, f.Value); err == nil {
					f.Value = own.Date(at)
				}
			case f.CurrencyCode != "":
				digits, _ := loyalty.CurrencyDigits(f.CurrencyCode)
				if minor, ok := parseMoney(f.Value); ok && digits == 2 {
					f.Value = own.MoneyIn(minor, f.CurrencyCode, digits)
				} else if n, ok := parseInt(f.Value); ok && digits == 0 {
					f.Value = own.MoneyIn(n, f.CurrencyCode, 0)
				}
			}
		}
	}
}

// googleFaceOf reads what the front of the pass shows from the class and
// the object of whichever vertical the program is, and the text modules
// listed under it; own is the program's language, for the labels the
// builders leave to Google.
func googleFaceOf(class google.Class, obj google.Object, own *locale.Lang) (googleFace, [][2]string) {
	var f googleFace
	var modules [][2]string
	add := func(ms []*walletobjects.TextModuleData) {
		for _, m := range ms {
			modules = append(modules, [2]string{m.Header, m.Body})
		}
	}
	code := func(bc *walletobjects.Barcode) {
		if bc != nil {
			f.Format, f.Code, f.AltText = bc.Type, bc.Value, bc.AlternateText
		}
	}
	switch {
	case class.Offer != nil && obj.Offer != nil:
		c, o := class.Offer, obj.Offer
		f.Bg, f.Issuer, f.Title = c.HexBackgroundColor, c.IssuerName, c.Title
		f.Label1, f.Value1 = c.ShortTitle, ""
		if o.ValidTimeInterval != nil && o.ValidTimeInterval.End != nil {
			if at, err := time.Parse(time.RFC3339, o.ValidTimeInterval.End.Date); err == nil {
				f.Label1, f.Value1 = own.Text("valid_until"), own.Date(at)
			}
		}
		f.Inactive = o.State != google.StateActive
		code(o.Barcode)
		if c.Details != "" {
			modules = append(modules, [2]string{own.Text("terms"), c.Details})
		}
		add(o.TextModulesData)
	case class.GiftCard != nil && obj.GiftCard != nil:
		c, o := class.GiftCard, obj.GiftCard
		f.Bg, f.Issuer, f.Title = c.HexBackgroundColor, c.IssuerName, c.MerchantName
		f.Label1 = own.Text("gift_balance")
		if o.Balance != nil {
			f.Value1 = moneyText(own, o.Balance)
		}
		f.Label2, f.Value2 = c.CardNumberLabel, o.CardNumber
		f.Inactive = o.State != google.StateActive
		code(o.Barcode)
		add(c.TextModulesData)
	case class.Loyalty != nil && obj.Loyalty != nil:
		c, o := class.Loyalty, obj.Loyalty
		f.Bg, f.Issuer, f.Title = c.HexBackgroundColor, c.IssuerName, c.ProgramName
		if p := o.LoyaltyPoints; p != nil {
			f.Label1, f.Value1 = p.Label, balanceText(p.Balance)
		}
		if p := o.SecondaryLoyaltyPoints; p != nil {
			f.Label2, f.Value2 = p.Label, balanceText(p.Balance)
		}
		if o.HeroImage != nil {
			f.Hero = "stamps" // drawn by the caller
		}
		f.Inactive = o.State == google.StateInactive
		code(o.Barcode)
		add(c.TextModulesData)
		add(o.TextModulesData)
	}
	return f, modules
}

// moneyText writes a Google Money in the language's way.
func moneyText(l *locale.Lang, m *walletobjects.Money) string {
	digits, _ := loyalty.CurrencyDigits(m.CurrencyCode)
	minor := m.Micros
	for range 6 - digits {
		minor /= 10
	}
	return l.MoneyIn(minor, m.CurrencyCode, digits)
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
