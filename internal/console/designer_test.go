package console

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/passes"
)

// settings is the program form of the rig's program, as the page fills it.
func settings(r *rig) url.Values {
	return url.Values{"name": {r.program.Name}, "currency_label": {"баллы"}, "earn_rate": {"5"}, "welcome_bonus": {"100"},
		"terms": {"1 балл = 1 ₽"}, "barcode_format": {"qr"}, "locale": {"ru"}, "points_lifetime_days": {"0"},
		"background_color": {"#3b2416"}, "foreground_color": {"#ffffff"}, "label_color": {"#f5d7b5"}, "logo_text": {"coffee"},
		"tier_basis": {"points"}, "tier_code": {""}, "tier_name": {""}, "tier_threshold": {""}, "tier_rate": {""},
		"ask_name": {"yes"}, "personal_data_text": {""}, "ads_text": {""}, "sms_daily_budget": {"200"},
		"referrer_points": {"0"}, "friend_points": {"0"}, "min_purchase_amount": {"0"}, "monthly_limit": {"0"}}
}

// TestPreviewDrawsTheFormAsTyped: the preview shows the values of the
// query, unsaved, with the fields the pass would carry, and leaves the
// program as it was.
func TestPreviewDrawsTheFormAsTyped(t *testing.T) {
	r := newRig(t)
	c := r.as(Manager)
	q := settings(r)
	q.Set("background_color", "#0b7a3e")
	q.Set("label_color", "#12")                  // half typed: the saved colour stays
	q.Set("terms", "Новые условия <b>сразу</b>") // shown, escaped
	q.Set("barcode_format", "code128")
	q["tier_code"] = []string{"base", "gold", ""}
	q["tier_name"] = []string{"Старт", "Золото", ""}
	q["tier_threshold"] = []string{"0", "1000", ""}
	q["tier_rate"] = []string{"", "10", ""}
	p := c.get("/console/programs/" + r.program.ID + "/preview?" + q.Encode())
	if p.status != http.StatusOK || p.header.Get("Content-Security-Policy") != contentPolicy {
		t.Fatalf("preview: %d %v", p.status, p.header)
	}
	for _, want := range []string{
		`id="apple-card"`, `data-bg="rgb(11, 122, 62)"`, `fill="rgb(245, 215, 181)"`, // the saved label colour
		`id="google-card"`, `data-bg="#0b7a3e"`,
		">Золото<", ">УРОВЕНЬ<", // the sample card's tier, the label as Wallet writes it
		"Новые условия &lt;b&gt;сразу&lt;/b&gt;",
		"10% от суммы каждой покупки", // the gold tier's own rate on the back
		`/console/programs/` + r.program.ID + `/image/strip@2x.png?v=`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("preview lacks %s", want)
		}
	}
	if strings.Contains(p.body, "<b>") || strings.Contains(p.body, "<script") {
		t.Error("preview not escaped")
	}
	if got, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, r.program.ID); got.BackgroundColor != r.program.BackgroundColor {
		t.Errorf("a preview changed the program: %s", got.BackgroundColor)
	}
}

// TestPreviewIsThePassesOwnLayout: what the designer draws comes from the
// pass the signer would build for the same program and card.
func TestPreviewIsThePassesOwnLayout(t *testing.T) {
	r := newRig(t)
	m, _ := r.st.Merchants().Merchant(context.Background(), r.merchant.ID)
	pp := cardpass.ProgramFor(m, r.program, nil)
	pc := cardpass.CardFor(previewCard(r.program, "Анна Петрова", time.Now()), r.program)
	l, err := passes.PassLayout(pp, pc, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := r.as(Owner).get("/console/programs/" + r.program.ID)
	for _, f := range append(append(l.Primary, l.Secondary...), l.Auxiliary...) {
		if !strings.Contains(p.body, ">"+f.Value+"<") || !strings.Contains(p.body, strings.ToUpper(f.Label)) && !strings.Contains(p.body, ">"+f.Label+"<") {
			t.Errorf("the page does not draw %s: %s", f.Label, f.Value)
		}
	}
	for _, f := range l.Back {
		if !strings.Contains(p.body, "<dt>"+f.Label+"</dt>") {
			t.Errorf("the back field %q is not listed", f.Label)
		}
	}
}

// TestTiersAreSavedFromTheForm: tiers typed in the table reach the
// program through the API, refusals come back by the table, and the
// audit says what changed.
func TestTiersAreSavedFromTheForm(t *testing.T) {
	r := newRig(t)
	c := r.as(Owner)
	path := "/console/programs/" + r.program.ID
	c.get(path)
	f := settings(r)
	f["tier_code"] = []string{"base", "gold", ""}
	f["tier_name"] = []string{"Старт", "Золото", ""}
	f["tier_threshold"] = []string{"0", "1000", ""}
	f["tier_rate"] = []string{"", "7,5", ""}
	f.Set("tier_downgrade", "yes")
	bad := clone(f)
	bad["tier_threshold"] = []string{"0", "много", ""}
	if p := c.postForm(path, bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="tiers-error"`) {
		t.Fatalf("a bad threshold: %d", p.status)
	}
	unordered := clone(f)
	unordered["tier_threshold"] = []string{"500", "1000", ""}
	if p := c.postForm(path, unordered); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="tiers-error"`) {
		t.Fatalf("a first tier above 0: %d", p.status)
	}
	if p := c.postForm(path, f); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	got, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, r.program.ID)
	if len(got.Tiers) != 2 || got.Tiers[1].Code != "gold" || got.Tiers[1].Threshold != 1000 || got.Tiers[1].EarnRateBP != 750 ||
		!got.TierDowngrade {
		t.Fatalf("tiers saved %+v, downgrade %v", got.Tiers, got.TierDowngrade)
	}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 5)
	if len(log) == 0 || !strings.Contains(log[0].Detail, "tiers=base/gold") || !strings.Contains(log[0].Detail, "tier_downgrade=true") {
		t.Errorf("audit %+v", log)
	}
	// The page shows them back, with a blank row to add one.
	p := c.get(path)
	for _, want := range []string{`id="tier-code-1" name="tier_code" maxlength="32" value="gold"`, `id="tier-rate-1" name="tier_rate" inputmode="decimal" value="7.5"`,
		`id="tier-code-2" name="tier_code" maxlength="32" value=""`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// upload posts an image form as a browser does.
func (c *client) upload(path string, fields map[string]string, file []byte) page {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.WriteField("csrf", csrfOf(c.last))
	if file != nil {
		fw, _ := w.CreateFormFile("image", "strip.png")
		fw.Write(file)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.r.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func orangePNG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{0xf5, 0x9e, 0x0b, 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImagesUploadThroughTheAPI: a PNG goes to the API's image route and
// the pass's files follow; a file that is not a PNG, none at all, or an
// unknown kind is refused by the field; removing goes back to the
// default; each upload is in the audit log; another merchant can do none
// of it.
func TestImagesUploadThroughTheAPI(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.as(Manager)
	path := "/console/programs/" + r.program.ID
	c.get(path)
	for name, tc := range map[string]struct {
		kind string
		file []byte
		want string
	}{
		"not a png":    {"strip", []byte("GIF89a not a png"), "Это изображение не подходит для карты"},
		"no file":      {"strip", nil, "Выберите файл PNG."},
		"unknown kind": {"banner", orangePNG(t, 10, 10), "Выберите изображение: логотип, полосу или значок."},
	} {
		p := c.upload(path+"/images", map[string]string{"kind": tc.kind}, tc.file)
		if p.status < 400 || p.status >= 500 || !strings.Contains(p.body, `id="image-error"`) || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: %d", name, p.status)
		}
	}
	p := c.upload(path+"/images", map[string]string{"kind": "strip"}, orangePNG(t, 750, 288))
	if p.status != http.StatusSeeOther || p.location != path+"?saved=image#images" {
		t.Fatalf("upload: %d %s\n%s", p.status, p.location, p.body)
	}
	images, _ := r.st.Programs().ProgramImages(ctx, r.program.ID)
	if len(images["strip@2x.png"]) == 0 || len(images["strip@3x.png"]) == 0 {
		t.Fatalf("images after upload: %d files", len(images))
	}
	served := c.get(path + "/image/strip@2x.png?v=1")
	if served.status != http.StatusOK || served.body != string(images["strip@2x.png"]) || served.header.Get("Content-Type") != "image/png" {
		t.Errorf("the preview's strip: %d, %d bytes", served.status, len(served.body))
	}
	if p := c.get(path); !strings.Contains(p.body, "Полоса: ваше") || !strings.Contains(p.body, `id="remove-strip"`) {
		t.Error("the page does not show the strip as the program's own")
	}
	if p := c.upload(path+"/images", map[string]string{"kind": "strip", "remove": "1"}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	if images, _ := r.st.Programs().ProgramImages(ctx, r.program.ID); len(images) != 0 {
		t.Errorf("%d image files after removal", len(images))
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 5)
	if len(log) < 2 || log[0].Action != "program.image_removed" || log[1].Action != "program.image" || log[1].Detail != "strip" {
		t.Errorf("audit %+v", log)
	}
	for _, bad := range []string{"../../etc/passwd", "manifest.json", "nothing.png"} {
		if p := c.get(path + "/image/" + url.PathEscape(bad)); p.status != http.StatusNotFound {
			t.Errorf("image %q: %d", bad, p.status)
		}
	}

	// Another merchant: no preview, no image, no upload.
	otherM, _ := r.newMerchant("Пекарня", "bakery")
	pw := r.newUser(otherM.ID, "owner@bakery.example", Owner)
	o := r.client()
	o.login("owner@bakery.example", pw)
	for _, get := range []string{path + "/preview", path + "/image/logo@2x.png"} {
		if p := o.get(get); p.status != http.StatusNotFound {
			t.Errorf("another merchant GET %s: %d", get, p.status)
		}
	}
	o.get("/console/cashier")
	if p := o.upload(path+"/images", map[string]string{"kind": "strip"}, orangePNG(t, 750, 288)); p.status != http.StatusNotFound {
		t.Errorf("another merchant's upload: %d", p.status)
	}
	if images, _ := r.st.Programs().ProgramImages(ctx, r.program.ID); len(images) != 0 {
		t.Error("another merchant's upload landed")
	}
}

// TestJoinAndReferralSettings: the join page's settings and the referral
// terms are saved from the form, and the join poster is handed out.
func TestJoinAndReferralSettings(t *testing.T) {
	r := newRig(t)
	c := r.as(Owner)
	path := "/console/programs/" + r.program.ID
	c.get(path)
	f := settings(r)
	f.Del("ask_name")
	f.Set("ask_birthday", "yes")
	f.Set("sms_daily_budget", "50")
	f.Set("personal_data_text", "Согласен на обработку данных кофейней.")
	f.Set("referrer_points", "100")
	f.Set("friend_points", "50")
	f.Set("min_purchase_amount", "500,50")
	f.Set("monthly_limit", "3")
	bad := clone(f)
	bad.Set("min_purchase_amount", "много")
	if p := c.postForm(path, bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Укажите сумму покупки") {
		t.Fatalf("a bad amount: %d", p.status)
	}
	if p := c.postForm(path, f); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	got, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, r.program.ID)
	if got.Join.AskName || !got.Join.AskBirthday || got.Join.SMSDailyBudget != 50 || got.Join.PersonalDataText == "" ||
		got.Referral.ReferrerPoints != 100 || got.Referral.FriendPoints != 50 || got.Referral.MinPurchaseAmount != 50050 ||
		got.Referral.MonthlyLimit != 3 {
		t.Fatalf("join %+v, referral %+v", got.Join, got.Referral)
	}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 1)
	if len(log) != 1 || !strings.Contains(log[0].Detail, "join") || !strings.Contains(log[0].Detail, "referral=100/50") {
		t.Errorf("audit %+v", log)
	}
	p := c.get(path)
	for _, want := range []string{`id="min_purchase_amount" name="min_purchase_amount" inputmode="decimal" required value="500.50"`,
		`id="ask_birthday" name="ask_birthday" type="checkbox" value="yes" checked`, `/j/`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if p := c.get(path + "/poster/png"); p.status != http.StatusOK || p.header.Get("Content-Type") != "image/png" {
		t.Errorf("PNG poster: %d %s", p.status, p.header.Get("Content-Type"))
	} else if _, err := png.Decode(strings.NewReader(p.body)); err != nil {
		t.Errorf("PNG poster: %v", err)
	}
	if p := c.get(path + "/poster/pdf"); p.status != http.StatusOK || !strings.HasPrefix(p.body, "%PDF") {
		t.Errorf("PDF poster: %d", p.status)
	}
	if p := c.get(path + "/poster/gif"); p.status != http.StatusNotFound {
		t.Errorf("GIF poster: %d", p.status)
	}
}
