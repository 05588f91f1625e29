package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// dashClock is a settable clock shared by the stores of a test.
type dashClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *dashClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *dashClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// dashHistory writes six weeks of a program's life, day by day, and
// returns the program and its merchant.
//
//	2 March: cards A, B, C issued (50 welcome points each); A buys for
//	  1,000.00 (50 points); A is installed in Apple Wallet, B in Google.
//	3 March: A buys again for 200.00 (10 points, A's second purchase);
//	  B redeems 20 points; B's Google save is removed.
//	11 April: D issued and buys for 500.00 (25 points); C voided; the
//	  March points, 30 days old, expire.
func dashHistory(t *testing.T, s *Store, clk *dashClock) (Merchant, loyalty.Program, map[string]string) {
	t.Helper()
	ctx := context.Background()
	clk.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	m, p := newTestProgram(t, s, "dash")
	p, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
		p.WelcomeBonus, p.PointsLifetimeDays = 50, 30
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	serial := map[string]string{}
	issue := func(name, phone string) {
		c, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		serial[name] = c.SerialNumber
	}
	post := func(name, kind string, amount, points int64) {
		t.Helper()
		key := fmt.Sprint(name, kind, amount, points, clk.Now().Unix())
		if _, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: serial[name], Kind: kind,
			PurchaseAmount: amount, Points: points, IdempotencyKey: key, RequestHash: []byte(key)}, created); err != nil {
			t.Fatal(err)
		}
	}
	register := func(device, name, channel string) {
		if _, err := s.Devices().Register(ctx, Registration{DeviceID: device, PassTypeID: "pass.test", SerialNumber: serial[name],
			PushToken: "tok-" + device, Channel: channel}); err != nil {
			t.Fatal(err)
		}
	}
	issue("A", "+79120000001")
	issue("B", "+79120000002")
	issue("C", "+79120000003")
	clk.set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	post("A", loyalty.Earn, 100000, 0)
	register("dev-a", "A", "apple")
	register("dev-b", "B", "google")

	clk.set(time.Date(2026, 3, 3, 18, 30, 0, 0, time.UTC))
	post("A", loyalty.Earn, 20000, 0)
	post("B", loyalty.Redeem, 0, 20)
	if _, err := s.Devices().Unregister(ctx, "dev-b", serial["B"]); err != nil {
		t.Fatal(err)
	}

	clk.set(time.Date(2026, 4, 11, 8, 0, 0, 0, time.UTC))
	issue("D", "+79120000004")
	post("D", loyalty.Earn, 50000, 0)
	if _, err := s.Cards().VoidCard(ctx, m.ID, serial["C"]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Cards().ExpirePoints(ctx, clk.Now(), 100); err != nil {
		t.Fatal(err)
	}
	return m, p, serial
}

func TestDashboardFiguresRollUpOnceAndMatchTheLedger(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := &dashClock{}
		s := openTestStore(t, url, func(o *Options) { o.Now = clk.Now })
		m, p, _ := dashHistory(t, s, clk)
		clk.set(time.Date(2026, 4, 11, 20, 0, 0, 0, time.UTC))
		from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

		// Read on 11 April, and again as the days go by: the roll-up moves
		// on, and every figure stays what it was.
		var first DashboardFigures
		for i, at := range []time.Time{clk.Now(), clk.Now().Add(6 * time.Hour), clk.Now().Add(3 * 24 * time.Hour)} {
			clk.set(at)
			f, err := s.Dashboard().Figures(ctx, m.ID, p.ID, from)
			if err != nil {
				t.Fatal(err)
			}
			if want := dayStart(at.Add(-rollupGrace), time.UTC); !f.RolledUp.Equal(want) {
				t.Errorf("read %d: rolled up to %v, want %v", i, f.RolledUp, want)
			}
			if i == 0 {
				first = f
				continue
			}
			if got, want := fmt.Sprint(f.Days, f.Cohorts), fmt.Sprint(first.Days, first.Cohorts); got != want {
				t.Errorf("read %d differs from the first:\n%s\n%s", i, got, want)
			}
		}
		f := first
		day := func(d string) DayFigures { return f.Days[d] }
		if d := day("2026-03-02"); d.CardsIssued != 3 || d.PointsIssued != 200 || d.Installs["apple"] != 1 ||
			d.Installs["google"] != 1 || len(d.Uninstalls) != 0 {
			t.Errorf("2 March: %+v", d)
		}
		if d := day("2026-03-03"); d.CardsIssued != 0 || d.PointsIssued != 10 || d.PointsRedeemed != 20 ||
			d.Uninstalls["google"] != 1 {
			t.Errorf("3 March: %+v", d)
		}
		// On 11 April: D's 50 + 25; what was left of the March lots lapses:
		// A 50+50 (its 10 of 3 March lapse on 2 April too), B 50−20, C voided
		// keeps its lot until it lapses.
		d := day("2026-04-11")
		if d.CardsIssued != 1 || d.CardsVoided != 1 || d.PointsIssued != 75 {
			t.Errorf("11 April: %+v", d)
		}
		var balances int64
		if err := s.read.QueryRowContext(ctx, `SELECT SUM(balance) FROM cards WHERE program_id = ?`, p.ID).Scan(&balances); err != nil {
			t.Fatal(err)
		}
		var net, expired int64
		for _, d := range f.Days {
			net += d.Net()
			expired += d.PointsExpired
		}
		if net != balances || expired == 0 {
			t.Errorf("outstanding from the figures %d (expired %d), balances %d", net, expired, balances)
		}
		if len(f.Cohorts) != 2 {
			t.Fatalf("cohorts %+v", f.Cohorts)
		}
		march, april := f.Cohorts[0], f.Cohorts[1]
		marchStart := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		if march.Month != marchStart || march.Cards != 3 || len(march.Months) != 1 ||
			march.Months[0] != (CohortMonth{Month: marchStart, Revenue: 120000, Purchases: 2, Repeat: 1}) {
			t.Errorf("March cohort %+v", march)
		}
		aprilStart := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		if april.Month != aprilStart || april.Cards != 1 || len(april.Months) != 1 ||
			april.Months[0] != (CohortMonth{Month: aprilStart, Revenue: 50000, Purchases: 1}) {
			t.Errorf("April cohort %+v", april)
		}

		// Asked from 3 March: 2 March is in the opening sums.
		g, err := s.Dashboard().Figures(ctx, m.ID, p.ID, from.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g.Days["2026-03-02"]; ok || g.Before.CardsIssued != 3 || g.Before.PointsIssued != 200 ||
			g.Before.Installs["google"] != 1 {
			t.Errorf("from 3 March: before %+v", g.Before)
		}

		// Another merchant cannot read the program.
		other, _ := newTestProgram(t, s, "other")
		if _, err := s.Dashboard().Figures(ctx, other.ID, p.ID, from); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's read: %v, want ErrNotFound", err)
		}
	})
}

// TestDashboardRollUpRacesAddOnce: two instances reading a program's
// dashboard for the first time at once roll up each day once.
func TestDashboardRollUpRacesAddOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := &dashClock{}
		inst := [2]*Store{openTestStore(t, url, func(o *Options) { o.Now = clk.Now })}
		m, p, _ := dashHistory(t, inst[0], clk)
		inst[1] = openTestStore(t, url, func(o *Options) { o.Now = clk.Now })
		clk.set(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
		from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		results := make([]DashboardFigures, 8)
		errs := make([]error, 8)
		for i := range results {
			wg.Go(func() { results[i], errs[i] = inst[i%2].Dashboard().Figures(ctx, m.ID, p.ID, from) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		var issued int64
		if err := inst[0].read.QueryRowContext(ctx, `SELECT SUM(value) FROM dashboard_days WHERE program_id = ? AND metric = ?`,
			p.ID, metricCardsIssued).Scan(&issued); err != nil {
			t.Fatal(err)
		}
		if issued != 4 {
			t.Errorf("cards issued in the roll-up: %d, want 4", issued)
		}
		for i, f := range results {
			if got, want := fmt.Sprint(f.Days), fmt.Sprint(results[0].Days); got != want {
				t.Errorf("read %d: %s, want %s", i, got, want)
			}
		}
	})
}
