package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestCandidatePagesWalkEveryRow reads every trigger's candidates one and
// two rows a page, over cards that share their positions' times (issued,
// installed, bought and changed at one instant: the tie-break orders
// them), and finds what one page of all of them holds: no row skipped,
// none invented.
func TestCandidatePagesWalkEveryRow(t *testing.T) {
	forEachClockedStore(t, func(t *testing.T, s *Store, clk *testClock) {
		ctx := context.Background()
		day := 24 * time.Hour
		m, p := newTestProgram(t, s, "shop")
		p, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
			p.PointsLifetimeDays = 60
			p.Tiers = []loyalty.Tier{{Code: "base", Name: "Base"}, {Code: "gold", Name: "Gold", Threshold: 100}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		start := clk.Now()
		var cards []loyalty.Card
		for i := range 5 {
			c := issue(t, s, m, p, fmt.Sprintf("+7912000001%d", i), "1990-03-20")
			earnAt(t, s, m, c.SerialNumber, "first"+c.SerialNumber)
			for dev := range 1 + i%2 { // two devices on some cards
				if _, err := s.Devices().Register(ctx, Registration{DeviceID: fmt.Sprint("dev", i, dev), PassTypeID: "pass.x",
					SerialNumber: c.SerialNumber, PushToken: "tok", Channel: "apple"}); err != nil {
					t.Fatal(err)
				}
			}
			cards = append(cards, c)
		}
		if _, err := s.Automations().WatchRhythms(ctx, p.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		for _, c := range cards {
			earnAt(t, s, m, c.SerialNumber, "second"+c.SerialNumber)
			earnAt(t, s, m, c.SerialNumber, "third"+c.SerialNumber) // 100 points: gold
		}
		if _, err := s.Automations().WatchRhythms(ctx, p.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		end := clk.Now()
		mar19 := time.Date(2026, 3, 19, 12, 0, 0, 0, time.UTC)
		for _, w := range []struct {
			trig     loyalty.Trigger
			from, to time.Time
		}{
			{loyalty.Trigger{Type: loyalty.TriggerEnrolled}, start.Add(-time.Minute), end},
			{loyalty.Trigger{Type: loyalty.TriggerCardInstalled}, start.Add(-time.Minute), end},
			{loyalty.Trigger{Type: loyalty.TriggerInactive, Days: 1}, start.Add(-time.Minute).Add(day), end.Add(day)},
			{loyalty.Trigger{Type: loyalty.TriggerPointsExpiring, Days: 1}, start.Add(59 * day), end.Add(59 * day)},
			{loyalty.Trigger{Type: loyalty.TriggerTierChanged, Tier: "gold"}, start, end},
			{loyalty.Trigger{Type: loyalty.TriggerBirthday}, mar19.Add(-2 * day), mar19.Add(day)},
		} {
			a := *testAutomation(m, p, w.trig)
			a.ID = "auto_" + w.trig.Type
			all, err := s.Automations().Candidates(ctx, a, w.from, w.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) < len(cards) {
				t.Errorf("%s: %d candidates, want at least %d", w.trig.Type, len(all), len(cards))
			}
			for _, limit := range []int{1, 2} {
				var paged []Candidate
				pages := 0
				for cur := (CandidateCursor{}); !cur.Done; pages++ {
					var page []Candidate
					if page, cur, err = s.Automations().CandidatePage(ctx, a, w.from, w.to, cur, limit); err != nil {
						t.Fatal(err)
					}
					for _, c := range page {
						if !slices.Contains(paged, c) {
							paged = append(paged, c)
						}
					}
				}
				if got, want := serials(paged), serials(all); !slices.Equal(got, want) || pages <= len(all)/limit {
					t.Errorf("%s, %d a page: %v in %d pages, want %v", w.trig.Type, limit, got, pages, want)
				}
			}
		}
	})
}
