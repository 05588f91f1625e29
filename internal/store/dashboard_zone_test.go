package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestDashboardDaysInTheMerchantsZone: postings a minute either side of
// Monday midnight in Moscow (Sunday 20:59 and 21:01 UTC) fall on Sunday
// and Monday when the days are cut in Moscow, on the same Sunday when cut
// in UTC; live, rolled up, and rolled up again after the zone changed.
// Berlin's summer time change splits a roll-up: a posting at 00:30 CEST
// on the first summer Monday is Monday there.
func TestDashboardDaysInTheMerchantsZone(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skip("no zone data:", err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone data:", err)
	}
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := &dashClock{}
		s := openTestStore(t, url, func(o *Options) { o.Now = clk.Now })
		clk.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		m, p := newTestProgram(t, s, "zone")
		c, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79120000011"})
		if err != nil {
			t.Fatal(err)
		}
		adjust := func(at time.Time, points int64) {
			t.Helper()
			clk.set(at)
			key := fmt.Sprint("zone", at.Unix())
			if _, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: c.SerialNumber, Kind: loyalty.Adjust,
				Points: points, Reason: "test", IdempotencyKey: key, RequestHash: []byte(key)}, created); err != nil {
				t.Fatal(err)
			}
		}
		adjust(time.Date(2026, 3, 8, 20, 59, 0, 0, time.UTC), 7)   // Sunday 23:59 in Moscow
		adjust(time.Date(2026, 3, 8, 21, 1, 0, 0, time.UTC), 11)   // Monday 00:01 in Moscow
		adjust(time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC), 13) // Monday 00:30 CEST in Berlin (Sunday 23:30 at +1)
		issued := func(f DashboardFigures, day string) int64 { return f.Days[day].PointsIssued }
		check := func(name string, loc *time.Location, want map[string]int64) {
			t.Helper()
			f, err := s.Dashboard().Figures(ctx, m.ID, p.ID, time.Date(2026, 3, 2, 0, 0, 0, 0, loc))
			if err != nil {
				t.Fatal(err)
			}
			for day, n := range want {
				if got := issued(f, day); got != n {
					t.Errorf("%s: %s issued %d, want %d (days %v)", name, day, got, n, f.Days)
				}
			}
		}
		// Live: nothing rolled up yet at the last posting's minute.
		check("Moscow, live", moscow, map[string]int64{"2026-03-08": 7, "2026-03-09": 11})
		clk.set(time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC))
		check("Moscow, rolled up", moscow, map[string]int64{"2026-03-08": 7, "2026-03-09": 11, "2026-03-30": 13})
		check("UTC, rolled up again", time.UTC, map[string]int64{"2026-03-08": 18, "2026-03-09": 0, "2026-03-29": 13})
		check("Berlin", berlin, map[string]int64{"2026-03-08": 18, "2026-03-29": 0, "2026-03-30": 13})
		check("Moscow again", moscow, map[string]int64{"2026-03-08": 7, "2026-03-09": 11})
	})
}
