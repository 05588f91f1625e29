package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
)

func TestWeekStartIsMonday(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-23T00:00:00Z": "2026-03-23", // a Monday
		"2026-03-29T23:59:00Z": "2026-03-23", // the Sunday after
		"2026-03-22T12:00:00Z": "2026-03-16", // the Sunday before
		"2026-01-01T08:00:00Z": "2025-12-29", // a week across the year
	} {
		at, _ := time.Parse(time.RFC3339, in)
		if got := weekStart(at).Format(time.DateOnly); got != want {
			t.Errorf("weekStart(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCohortCurvesAreCumulativePerCard(t *testing.T) {
	month := func(s string) time.Time { m, _ := time.Parse("2006-01", s); return m }
	cs := []store.Cohort{
		{Month: month("2025-10"), Cards: 9},
		{Month: month("2025-12"), Cards: 4, Months: []store.CohortMonth{
			{Month: month("2025-12"), Revenue: 40000, Purchases: 4, Repeat: 1},
			{Month: month("2026-02"), Revenue: 20000, Purchases: 2, Repeat: 1},
		}},
		{Month: month("2026-02"), Cards: 0},
	}
	got := cohortCurves(cs, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 2)
	if len(got) != 2 || !got[0].Month.Equal(month("2025-12")) {
		t.Fatalf("the newest two cohorts: %+v", got)
	}
	if fmt.Sprint(got[0].LTV) != "[10000 10000 15000]" || got[0].Repeat != 2 || got[0].RepeatRate() != 5000 ||
		got[0].Revenue != 60000 || got[0].Purchases != 6 {
		t.Errorf("December: %+v", got[0])
	}
	if fmt.Sprint(got[1].LTV) != "[0]" || got[1].RepeatRate() != 0 {
		t.Errorf("an empty cohort: %+v", got[1])
	}
}

func TestWeeklyRunningTotalsStartFromBefore(t *testing.T) {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	f := store.DashboardFigures{
		Before: store.DayFigures{CardsIssued: 10, CardsVoided: 1, PointsIssued: 500, PointsRedeemed: 100,
			Installs: map[string]int64{"apple": 4}, Uninstalls: map[string]int64{"apple": 1}},
		Days: map[string]store.DayFigures{
			"2026-03-03": {CardsIssued: 2, PointsIssued: 40, Installs: map[string]int64{"google": 2}},
			"2026-03-15": {CardsVoided: 1, PointsExpired: 30, PointsOther: 5, Uninstalls: map[string]int64{"apple": 1}},
		},
	}
	w := weeklyFigures(f, from, 3)
	for name, got := range map[string]any{
		"active": w.Active, "issued": w.Issued, "expired": w.Expired, "other": w.Other, "outstanding": w.Outstanding,
		"apple": w.Installed["apple"], "google": w.Installed["google"], "channels": w.Channels,
	} {
		want := map[string]string{"active": "[11 10 10]", "issued": "[40 0 0]", "expired": "[0 30 0]", "other": "[0 5 0]",
			"outstanding": "[440 405 405]", "apple": "[3 2 2]", "google": "[2 2 2]", "channels": "[apple google]"}[name]
		if fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
	}
}

func TestReportCacheKeepsAReportForAMinute(t *testing.T) {
	var rc reportCache
	loads := 0
	load := func() (apiReport, error) { loads++; return apiReport{Status: fmt.Sprint(loads)}, nil }
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		at   time.Duration
		key  string
		want string
	}{{0, "m1/c1", "1"}, {59 * time.Second, "m1/c1", "1"}, {0, "m2/c1", "2"}, {time.Minute, "m1/c1", "3"}} {
		rep, _ := rc.get(t0.Add(step.at), step.key, load)
		if rep.Status != step.want {
			t.Errorf("%s at +%v: report %s, want %s", step.key, step.at, rep.Status, step.want)
		}
	}
}
