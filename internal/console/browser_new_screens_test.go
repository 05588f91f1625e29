package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserNewScreens opens each screen of automations, coupons, users,
// the password and the settings in Chromium, as the owner: every visible
// control has a label the browser finds, the plots draw their marks, and
// each screen fits 360 px; a screenshot of each (and of the automation in
// English) goes to the artifacts.
func TestBrowserNewScreens(t *testing.T) {
	r := newRig(t)
	b := newBrowser(t, r)
	auto, job := newScreenFixtures(t, r)
	c := b.session(t)
	b.signIn(t, c, Owner)
	unlabelled := `String([...document.querySelectorAll("main input:not([type=hidden]), main select, main textarea")]
		.filter(e => e.labels.length === 0 && !e.getAttribute("aria-label")).map(e => e.name).join(","))`
	for _, s := range []struct{ name, path string }{
		{"automations", "/console/automations"},
		{"automation", "/console/automations/" + auto},
		{"coupons", "/console/coupons"},
		{"coupon", "/console/coupons/" + job},
		{"users", "/console/users"},
		{"password", "/console/password"},
		{"settings", "/console/settings"},
	} {
		if st := b.open(t, c, s.path); st != http.StatusOK {
			t.Fatalf("%s: %d", s.path, st)
		}
		if got := b.eval(t, c, unlabelled); got != "" {
			t.Errorf("%s: controls without a label: %s", s.name, got)
		}
		b.shoot(t, c, s.name)
		b.narrow(t, c, s.path, s.name+"-360")
	}
	// Variant B typed: its preview appears, as sent, counted (Cyrillic:
	// UCS-2), from the campaigns' preview route.
	b.open(t, c, "/console/automations")
	got := b.eval(t, c, `new Promise(ok => {
		const box = document.getElementById("variant-preview-1");
		new MutationObserver((_, o) => {
			if (!box.hidden && document.getElementById("variant-text-1").textContent.startsWith("Анна, ждём")) {
				o.disconnect(); ok(document.getElementById("variant-segments-1").textContent); }
		}).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
		const t = document.getElementById("variant_text_1");
		t.value = "{name}, ждём вас: {link}";
		t.dispatchEvent(new Event("input", {bubbles: true})); })`)
	if !strings.HasPrefix(got, "UCS-2 · 1 SMS") {
		t.Errorf("variant B's live preview says %q", got)
	}
	b.shoot(t, c, "automations-typed")
	b.open(t, c, "/console/automations/"+auto)
	for id, n := range map[string]string{"plot-auto-funnel": "8", "plot-auto-conversion": "4", "plot-auto-lift": "3"} {
		js := `String([...document.querySelectorAll("#` + id + ` .mark")].filter(m => { const b = m.getBoundingClientRect();
			return b.width > 0 && b.height > 0 }).length)`
		if got := b.eval(t, c, js); got != n {
			t.Errorf("%s: %s marks drawn, want %s", id, got, n)
		}
	}
	if got := b.eval(t, c, `String(document.querySelectorAll("#plot-auto-lift .interval").length)`); got != "3" {
		t.Errorf("lift intervals drawn: %s, want 3", got)
	}
	b.open(t, c, "/console/lang/en?next=/console/automations/"+auto)
	if got := b.eval(t, c, `document.documentElement.lang`); got != "en" {
		t.Fatalf("language %s", got)
	}
	b.shoot(t, c, "automation-en")
	b.do(t, c, chromedp.EmulateViewport(1280, 900))
}
