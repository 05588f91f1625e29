package store

import (
	"context"
	"errors"
	"maps"
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

// TestJoinFunnelCountsByTheMerchantsDay: steps are counted on the
// merchant's calendar day. In Moscow (UTC+3, the default) a view at 20:30
// UTC is that day's (23:30 there) and one at 22:30 UTC the next day's
// (01:30); the dashboard's window from a Moscow midnight counts by those
// days. A merchant whose zone is UTC counts 22:30 UTC on the same day.
func TestJoinFunnelCountsByTheMerchantsDay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock() // 2 March 2026, 10:00 UTC
		s := openTestStore(t, url, withClock(clk))
		moscow, _ := time.LoadLocation("Europe/Moscow")
		m, p := joinProgram(t, s, "shop")
		u, q := joinProgram(t, s, "utc")
		if err := s.ConsoleSettings().SetTimezone(ctx, u.ID, "UTC", AuditEntry{MerchantID: u.ID, Action: "settings.update"}); err != nil {
			t.Fatal(err)
		}
		view := func() {
			t.Helper()
			for _, code := range []string{p.JoinCode, q.JoinCode} {
				if err := s.JoinFunnel().CountJoinStep(ctx, code, JoinStepView); err != nil {
					t.Fatal(err)
				}
			}
		}
		clk.advance(10*time.Hour + 30*time.Minute) // 20:30 UTC, 23:30 in Moscow
		view()
		clk.advance(2 * time.Hour) // 22:30 UTC, 01:30 on 3 March in Moscow
		view()
		days := func(programID string) map[string]int64 {
			t.Helper()
			rows, err := s.read.QueryContext(ctx, `SELECT day, count FROM join_steps WHERE program_id = ?`, programID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int64{}
			for rows.Next() {
				var day string
				var n int64
				if err := rows.Scan(&day, &n); err != nil {
					t.Fatal(err)
				}
				out[day] = n
			}
			return out
		}
		if got := days(p.ID); !maps.Equal(got, map[string]int64{"2026-03-02": 1, "2026-03-03": 1}) {
			t.Errorf("Moscow merchant's days: %v", got)
		}
		if got := days(q.ID); !maps.Equal(got, map[string]int64{"2026-03-02": 2}) {
			t.Errorf("UTC merchant's days: %v", got)
		}
		march3 := time.Date(2026, 3, 3, 0, 0, 0, 0, moscow)
		if got, err := s.JoinFunnel().Funnel(ctx, m.ID, p.ID, march3); err != nil || got.Views != 1 {
			t.Errorf("from Moscow's 3 March: %+v, %v; want the 22:30 UTC view alone", got, err)
		}
		if got, _ := s.JoinFunnel().Funnel(ctx, m.ID, p.ID, march3.AddDate(0, 0, -1)); got.Views != 2 {
			t.Errorf("from Moscow's 2 March: %+v, want both views", got)
		}
	})
}
