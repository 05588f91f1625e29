package api_test

import (
	"net/http"
	"strconv"
	"testing"
)

// TestJoinFunnelCountsTheJoinPage: the join page counts each showing,
// each code texted and each join, for the dashboard's join funnel; a
// phone no text can go to counts no code.
func TestJoinFunnelCountsTheJoinPage(t *testing.T) {
	r := newJoinRig(t, noResendWait)
	for range 3 {
		if rec := r.page("GET", r.joinPath(), nil); rec.Code != http.StatusOK {
			t.Fatalf("join page: %d", rec.Code)
		}
	}
	r.page("POST", r.joinPath(), joinForm("phone", "123"))
	r.join(r.joinPath(), joinForm())
	for step, want := range map[string]int{"view": 3, "code": 1, "verified": 1} {
		if n := r.count("join_steps WHERE step = '" + step + "' AND count = " + strconv.Itoa(want)); n != 1 {
			t.Errorf("step %s: no row counting %d", step, want)
		}
	}
}
