package console

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDashboard: the dashboard's plots render in Chromium with
// the seeded history, each mark drawn where it takes room, and the page
// stays within its weight.
func TestBrowserDashboard(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Joins = fakeJoins{Views: 120, CodesSent: 40, Verified: 31, Installed: 17} })
	b := newBrowser(t, r)
	seedHistory(t, r)
	c := b.session(t)
	b.signIn(t, c, Owner)
	if got := b.location(t, c); got != "/console/dashboard" {
		t.Fatalf("an owner lands on %s", got)
	}
	// Every mark is drawn with room on the page: 12 weeks × (1 + 2
	// channels) on the cards plot, 12 × 3 points bars, 12 outstanding,
	// 3 + 2 + 1 LTV dots, 3 repeat bars, 4 join steps.
	want := map[string]string{"plot-cards": "36", "plot-points": "36", "plot-outstanding": "12", "plot-ltv": "6",
		"plot-repeat": "3", "plot-join": "4"}
	for id, n := range want {
		js := `String([...document.querySelectorAll("#` + id + ` .mark")].filter(m => { const b = m.getBoundingClientRect();
			return b.width > 0 && (b.height > 0 || m.tagName === "rect") }).length)`
		if got := b.eval(t, c, js); got != n {
			t.Errorf("%s: %s marks drawn, want %s", id, got, n)
		}
	}
	if got := b.eval(t, c, `getComputedStyle(document.querySelector("#plot-points .mark.s1")).fill`); got != "rgb(29, 78, 216)" {
		t.Errorf("the style sheet does not colour the marks: fill %s", got)
	}
	b.shoot(t, c, "dashboard")
	b.weigh(t, c, "/console/dashboard")
	if st := b.open(t, c, "/console/dashboard?weeks=52"); st != http.StatusOK {
		t.Fatalf("52 weeks: %d", st)
	}
	b.shoot(t, c, "dashboard-52")
	b.narrow(t, c, "/console/dashboard", "dashboard-360")
}

// narrow opens path on a 360-pixel-wide screen, checks that nothing
// makes the page scroll sideways, and saves a screenshot as name.
func (b *browser) narrow(t *testing.T, c context.Context, path, name string) {
	t.Helper()
	b.do(t, c, chromedp.EmulateViewport(360, 780))
	b.open(t, c, path)
	if got := b.eval(t, c, `String(document.documentElement.scrollWidth)`); got != "360" {
		t.Errorf("%s at 360 px is %s px wide", path, got)
	}
	b.shoot(t, c, name)
	b.do(t, c, chromedp.EmulateViewport(1280, 900))
}

// TestBrowserCampaigns: the live preview follows the text as it is
// typed (GSM-7 until a Cyrillic letter, then UCS-2, more parts as it
// grows), a campaign is created and started, and its report is drawn.
func TestBrowserCampaigns(t *testing.T) {
	r := newRig(t)
	lapsedCustomers(t, r, 30)
	b := newBrowser(t, r)
	c := b.session(t)
	b.signIn(t, c, Manager)
	b.open(t, c, "/console/campaigns")
	segments := func() string { return b.eval(t, c, `document.getElementById("preview-segments").textContent`) }
	// typed puts text in the field as typing would (an input event) and
	// waits until the preview shows the text from the server, beginning
	// with shown, and its segments, beginning with want.
	typed := func(text, shown, want string) {
		t.Helper()
		got := b.eval(t, c, `new Promise(ok => {
			const shown = `+strconv.Quote(shown)+`, want = `+strconv.Quote(want)+`;
			const seen = () => document.getElementById("preview-text").textContent.startsWith(shown) &&
				document.getElementById("preview-segments").textContent.startsWith(want);
			new MutationObserver((_, o) => { if (seen()) { o.disconnect(); ok("yes"); } })
				.observe(document.getElementById("sms-preview"), {subtree: true, childList: true, characterData: true});
			const t = document.getElementById("template");
			t.value = `+strconv.Quote(text)+`;
			t.dispatchEvent(new Event("input", {bubbles: true})); })`)
		if got != "yes" {
			t.Fatalf("after typing %q the preview says %q, want %q…", text, segments(), want)
		}
	}
	typed("Come back, {bonus} points: {link}", "Come back, 100 points: http", "GSM-7 · 1 SMS")
	typed("Ждём, {points}: {link}", "Ждём, 100 баллов: http", "UCS-2 · 1 SMS")
	typed(strings.Repeat("Возвращайтесь! ", 6)+"{link}", "Возвращайтесь! Возвращайтесь!", "UCS-2 · 2 SMS")
	// And a real keystroke: Latin letters after the Cyrillic keep it UCS-2.
	b.do(t, c, chromedp.Click(chromedp.ID("template")), chromedp.KeyEvent(" Hi"))
	b.shoot(t, c, "campaigns")
	b.weigh(t, c, "/console/campaigns")

	b.eval(t, c, `document.getElementById("template").value = "{name}, дарим {points}: {link}", "ok"`)
	b.do(t, c, chromedp.SetValue(chromedp.ID("name"), "Скучаем по вам"), chromedp.SetValue(chromedp.ID("holdout_percent"), "20"))
	if st := b.submit(t, c, chromedp.Click(chromedp.ID("create-campaign"))); st != http.StatusOK {
		t.Fatalf("create answered %d", st)
	}
	if st := b.submit(t, c, chromedp.Click(chromedp.ID("campaign-start"))); st != http.StatusOK {
		t.Fatalf("start answered %d", st)
	}
	if got := b.eval(t, c, `document.getElementById("campaign-status").textContent`); got != "идёт" {
		t.Fatalf("status %q after start", got)
	}
	if got := b.eval(t, c, `String(document.querySelectorAll("#plot-campaign .mark").length)`); got != "8" {
		t.Errorf("funnel marks %s, want 6 texted and 2 holdout", got)
	}
	b.shoot(t, c, "campaign")
	here := b.location(t, c)
	b.weigh(t, c, here)
	b.narrow(t, c, here, "campaign-360")
	b.narrow(t, c, "/console/campaigns", "campaigns-360")
}

// TestBrowserDesigner creates a program, changes its background colour
// and sees the preview follow (screenshots before and after, compared
// pixel by pixel), saves it, and uploads a strip image that the preview
// then shows.
func TestBrowserDesigner(t *testing.T) {
	r := newRig(t)
	b := newBrowser(t, r)
	c := b.session(t)
	b.signIn(t, c, Owner)
	b.open(t, c, "/console/programs")
	b.do(t, c, chromedp.SetValue(chromedp.ID("new-name"), "Чайная"))
	if st := b.submit(t, c, chromedp.Click(chromedp.ID("create-program"))); st != http.StatusOK {
		t.Fatalf("create answered %d", st)
	}
	id := strings.TrimPrefix(b.location(t, c), "/console/programs/")
	b.do(t, c, chromedp.WaitVisible(chromedp.ID("apple-card")), chromedp.WaitVisible(chromedp.ID("google-card")))
	b.shoot(t, c, "program-designer")
	before := b.shootNode(t, c, "designer-preview", "designer-before")

	// A new colour: the form's input event, then the new drawing.
	b.redraw(t, c, `const i = document.getElementById("background_color"); i.value = "#0b7a3e";
		i.dispatchEvent(new Event("input", {bubbles: true}));`)
	if got := b.eval(t, c, `document.getElementById("apple-card").dataset.bg + " " + document.getElementById("google-card").dataset.bg`); got != "rgb(11, 122, 62) #0b7a3e" {
		t.Fatalf("the cards are drawn on %s", got)
	}
	after := b.shootNode(t, c, "designer-preview", "designer-after")
	if bytes.Equal(before, after) {
		t.Fatal("the preview looks the same after the colour changed")
	}
	// The top left of the Apple card, below the logo row's corner: the
	// background as drawn.
	for name, shot := range map[string][]byte{"before": before, "after": after} {
		want := map[string]color.RGBA{"before": {0x1f, 0x29, 0x37, 0xff}, "after": {0x0b, 0x7a, 0x3e, 0xff}}[name]
		if got := b.pixelAt(t, c, shot, "apple-card", 6, 52); !near(got, want) {
			t.Errorf("%s: the Apple card's background is %v, want %v", name, got, want)
		}
	}
	if p, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, id); p.BackgroundColor == "#0b7a3e" {
		t.Fatal("the preview saved the colour")
	}
	if st := b.submit(t, c, chromedp.Click(chromedp.ID("save-program"))); st != http.StatusOK {
		t.Fatalf("save answered %d", st)
	}
	if p, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, id); p.BackgroundColor != "#0b7a3e" {
		t.Fatalf("saved colour %s", p.BackgroundColor)
	}

	// A strip of our own: the preview draws it at once after the upload.
	strip := filepath.Join(t.TempDir(), "strip.png")
	writeStrip(t, strip)
	b.do(t, c, chromedp.SetUploadFiles(chromedp.ID("image-file"), []string{strip}),
		chromedp.SetValue(chromedp.ID("image-kind"), "strip"))
	if st := b.submit(t, c, chromedp.Click(chromedp.ID("upload-image"))); st != http.StatusOK {
		t.Fatalf("upload answered %d", st)
	}
	if got := b.eval(t, c, `document.getElementById("saved") ? "saved" : document.body.innerText`); got != "saved" {
		t.Fatalf("after the upload: %s", got)
	}
	b.do(t, c, chromedp.WaitVisible(chromedp.ID("apple-card")))
	b.eval(t, c, `Promise.all([...document.querySelectorAll("#designer-preview image")].map(i =>
		new Promise(ok => { const img = new Image(); img.onload = img.onerror = () => ok(1); img.src = i.getAttribute("href"); }))).then(() => "ok")`)
	shot := b.shootNode(t, c, "designer-preview", "designer-strip")
	if got := b.pixelAt(t, c, shot, "apple-card", 170, 120); !near(got, color.RGBA{0xf5, 0x9e, 0x0b, 0xff}) {
		t.Errorf("the strip drawn is %v, want the uploaded orange", got)
	}
	b.shoot(t, c, "program-designer-strip")
	b.weigh(t, c, "/console/programs/"+id)
	b.narrow(t, c, "/console/programs/"+id, "program-360")
}

// redraw runs js, which changes the form, and waits for the preview to
// be drawn again.
func (b *browser) redraw(t *testing.T, c context.Context, js string) {
	t.Helper()
	got := b.eval(t, c, `new Promise(ok => {
		const box = document.getElementById("designer-preview"), was = box.dataset.drawn || "";
		new MutationObserver((_, o) => { if ((box.dataset.drawn || "") !== was) { o.disconnect(); ok("drawn"); } })
			.observe(box, {attributes: true});
		`+js+` })`)
	if got != "drawn" {
		t.Fatalf("the preview was not drawn again: %s", got)
	}
	// The drawing's images, from this origin, before any screenshot.
	b.eval(t, c, `Promise.all([...document.querySelectorAll("#designer-preview image")].map(i =>
		new Promise(ok => { const img = new Image(); img.onload = img.onerror = () => ok(1); img.src = i.getAttribute("href"); }))).then(() => "ok")`)
}

// shootNode saves a screenshot of the element with id as console-NAME.png.
func (b *browser) shootNode(t *testing.T, c context.Context, id, name string) []byte {
	t.Helper()
	data, err := chromedp.Run(c, chromedp.Screenshot(chromedp.ID(id)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.dir, "console-"+name+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return data
}

// pixelAt reads the colour at (x, y) of the element id (in its own SVG
// units) from a screenshot of #designer-preview.
func (b *browser) pixelAt(t *testing.T, c context.Context, shot []byte, id string, x, y float64) color.RGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	var px, py float64
	fmt.Sscan(b.eval(t, c, fmt.Sprintf(`(() => { const box = document.getElementById("designer-preview").getBoundingClientRect();
		const s = document.getElementById(%q), r = s.getBoundingClientRect(), k = r.width / s.viewBox.baseVal.width;
		return (r.left - box.left + %f * k) + " " + (r.top - box.top + %f * k); })()`, id, x, y)), &px, &py)
	// The screenshot may be at the device's scale.
	scale := float64(img.Bounds().Dx()) / parseFloat(b.eval(t, c, `String(document.getElementById("designer-preview").getBoundingClientRect().width)`))
	r, g, bl, a := img.At(int(px*scale), int(py*scale)).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// near reports whether two colours differ by a few levels at most (the
// screenshot is encoded, and the card has a shadow).
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= 6 && d(a.G, b.G) <= 6 && d(a.B, b.B) <= 6
}

// writeStrip writes an orange 750 × 288 PNG.
func writeStrip(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 750, 288))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{0xf5, 0x9e, 0x0b, 0xff}}, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserDesignerKinds draws a program of every kind in Chromium, at
// desktop width and at 360 px, for the screenshots.
func TestBrowserDesignerKinds(t *testing.T) {
	r := newRig(t)
	b := newBrowser(t, r)
	maker := r.as(Owner)
	c := b.session(t)
	b.signIn(t, c, Owner)
	for _, kind := range []string{"stamps", "discount", "coupon", "gift"} {
		path := newKindProgram(t, maker, "Кофейня: "+kind, kind)
		b.open(t, c, path)
		b.do(t, c, chromedp.WaitVisible(chromedp.ID("apple-card")), chromedp.WaitVisible(chromedp.ID("google-card")))
		b.eval(t, c, `Promise.all([...document.querySelectorAll("#designer-preview image")].map(i =>
			new Promise(ok => { const img = new Image(); img.onload = img.onerror = () => ok(1); img.src = i.getAttribute("href"); }))).then(() => "ok")`)
		b.shootNode(t, c, "designer-preview", "designer-"+kind)
		b.narrow(t, c, path, "program-"+kind+"-360")
	}
}
