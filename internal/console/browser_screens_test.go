package console

import (
	"net/http"
	"testing"
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
