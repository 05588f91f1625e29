package console

import (
	"net/http"
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
	b.weigh(t, c, b.location(t, c))
}
