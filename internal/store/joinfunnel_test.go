package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestJoinFunnelCountsEachStep: views, texted codes and joins are counted
// by day, the installs of those who joined come from their consents and
// wallets, a window leaves out what came before it, and another
// merchant reads nothing.
func TestJoinFunnelCountsEachStep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock()
		s := openTestStore(t, url, withClock(clk))
		m, p := joinProgram(t, s, "shop")
		jf := s.JoinFunnel()
		count := func(step string, n int) {
			for range n {
				if err := jf.CountJoinStep(ctx, p.JoinCode, step); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Yesterday: 5 views, 1 code, no join.
		count(JoinStepView, 5)
		count(JoinStepCode, 1)
		clk.advance(24 * time.Hour)
		today := clk.now()
		count(JoinStepView, 7)
		count(JoinStepCode, 3)
		count(JoinStepVerified, 2)
		if err := jf.CountJoinStep(ctx, "unknowncode", JoinStepView); err != nil {
			t.Fatalf("an unknown code: %v", err)
		}
		a := joinPhone(t, s, p.ID, "+79123450001", joinForm("Анна"))
		joinPhone(t, s, p.ID, "+79123450002", joinForm("Борис"))
		if _, err := s.Devices().Register(ctx, Registration{DeviceID: "d1", PassTypeID: "pass.t",
			SerialNumber: a.Card.SerialNumber, PushToken: "t", Channel: "apple"}); err != nil {
			t.Fatal(err)
		}
		// A card issued at the till (no join page consent) and installed
		// is not the join page's.
		till, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123450003"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Devices().Register(ctx, Registration{DeviceID: "d2", PassTypeID: "pass.t",
			SerialNumber: till.SerialNumber, PushToken: "t", Channel: "google"}); err != nil {
			t.Fatal(err)
		}
		got, err := jf.Funnel(ctx, m.ID, p.ID, today.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := (JoinFunnelCounts{Views: 12, CodesSent: 4, Verified: 2, Installed: 1}); got != want {
			t.Errorf("two days: %+v, want %+v", got, want)
		}
		if got, _ := jf.Funnel(ctx, m.ID, p.ID, today); got != (JoinFunnelCounts{Views: 7, CodesSent: 3, Verified: 2, Installed: 1}) {
			t.Errorf("today: %+v", got)
		}
		if got, _ := jf.Funnel(ctx, m.ID, p.ID, today.Add(24*time.Hour)); got != (JoinFunnelCounts{}) {
			t.Errorf("tomorrow: %+v", got)
		}
		other, _ := newTestProgram(t, s, "other")
		if _, err := jf.Funnel(ctx, other.ID, p.ID, today); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant: %v", err)
		}
	})
}
