package automation_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// draw is one seeded customer as seed writes it (the same arithmetic on
// the row number), for working out independently what each trigger must
// select.
type draw struct {
	customer, serial string
	joined, last     time.Time
	gap              time.Duration
	birthday         time.Time
	installed        bool
	expires          time.Time // of the first lot
}

// seedDraw is customer i as seed writes it, seeded at now.
func seedDraw(i int, now time.Time) draw {
	return draw{
		customer:  fmt.Sprintf("cus_%d", i),
		serial:    fmt.Sprintf("s%d", i),
		joined:    time.Unix(now.AddDate(0, -12, 0).Unix()+int64(i*7919%(180*24))*3600, 0).UTC(),
		last:      time.Unix(now.Unix()-int64(i*6151%(60*24))*3600, 0).UTC(),
		gap:       time.Duration(7+i*101%50) * 24 * time.Hour,
		birthday:  time.Date(1960+i*31%45, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*7907%365),
		installed: i%3 == 0,
	}
}

// drawOf is draw, with the test's changes: in the month after now, one
// customer in ten (i % 10 == 1) joins, and another's (i % 10 == 2) first
// lot expires a week after that.
func drawOf(i int, now time.Time) draw {
	d := seedDraw(i, now)
	d.expires = d.last.Add(-3*d.gap).AddDate(1, 0, 0)
	within := time.Duration(i%(30*24))*time.Hour + 45*time.Minute
	switch i % 10 {
	case 1:
		d.joined = now.Add(within)
	case 2:
		d.expires = now.Add(7*24*time.Hour + within)
	}
	return d
}

// TestFirstEvaluationOverManyCustomers seeds 20,000 customers, creates
// an automation per trigger, lets 30 days pass and evaluates them once in
// pages of 500: each makes exactly the messages its trigger's window
// holds, placed in the holdout and two variants as lift.Assign says; a
// second evaluation makes none.
func TestFirstEvaluationOverManyCustomers(t *testing.T) {
	const n = 20000
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "first.db")
	seeded := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	clk := &clock{}
	clk.Set(seeded.Add(30 * time.Minute)) // off the seed's whole hours: no time lies on a window's edge
	st, m, p := scaleProgram(t, path, clk)
	defer st.Close()
	seed(t, path, m.ID, p.ID, n, seeded)
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The seed's cards joined 6 to 12 months ago and their lots expire
	// months ahead: one customer in ten joins (and installs) within the
	// month evaluated, and another's first lot expires within it.
	for i := range n {
		d := drawOf(i, seeded)
		var err error
		switch i % 10 {
		case 1:
			_, err = db.Exec(`UPDATE cards SET created_at = ? WHERE serial_number = ?`, d.joined, d.serial)
			if err == nil {
				_, err = db.Exec(`UPDATE registrations SET created_at = ? WHERE serial_number = ?`, d.joined, d.serial)
			}
		case 2:
			_, err = db.Exec(`UPDATE transactions SET expires_at = ? WHERE id = ?`, d.expires, fmt.Sprintf("txn_%d_3", i))
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	trigs := []loyalty.Trigger{{Type: loyalty.TriggerBirthday, Days: 3}, {Type: loyalty.TriggerInactive, Days: 60},
		{Type: loyalty.TriggerRepurchaseDue, DuePercent: 20}, {Type: loyalty.TriggerPointsExpiring, Days: 7},
		{Type: loyalty.TriggerTierChanged, Tier: "gold"}, {Type: loyalty.TriggerEnrolled, Days: 1}, {Type: loyalty.TriggerCardInstalled}}
	autos := map[string]store.Automation{}
	for _, tr := range trigs {
		a := store.Automation{MerchantID: m.ID, ProgramID: p.ID, Name: tr.Type, Trigger: tr, HoldoutBP: 1000, FrequencyCapDays: 14,
			QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", PurchaseWindowDays: 14, Provider: "log",
			Variants: []store.Variant{{Text: "A {link}", BonusKind: loyalty.BonusPoints}, {Text: "B {link}", BonusKind: loyalty.BonusPoints}}}
		if err := st.Automations().CreateAutomation(ctx, &a); err != nil {
			t.Fatal(err)
		}
		autos[tr.Type] = a
	}
	from := clk.Now()
	clk.Advance(30 * 24 * time.Hour)
	to := clk.Now()

	// What each trigger's window (from, to] holds, from the draws alone.
	in := func(at, lo, hi time.Time) bool { return at.After(lo) && !at.After(hi) }
	days := 24 * time.Hour
	birthdays := map[string]int{}
	for _, b := range trigs[0].Birthdays(from, to, autos[loyalty.TriggerBirthday].Quiet().Zone) {
		birthdays[b.MonthDay] = b.Year
	}
	want := map[string]map[string]string{} // trigger → customer → occurrence
	for _, tr := range trigs {
		want[tr.Type] = map[string]string{}
	}
	for i := range n {
		d := drawOf(i, seeded)
		if year, ok := birthdays[d.birthday.Format("01-02")]; ok {
			want[loyalty.TriggerBirthday][d.customer] = fmt.Sprintf("birthday:%d", year)
		}
		if in(d.last, from.Add(-60*days), to.Add(-60*days)) {
			want[loyalty.TriggerInactive][d.customer] = fmt.Sprintf("inactive:%d", d.last.Unix())
		}
		// Four purchases d.gap apart: the customer's own gap is d.gap.
		if in(d.last.Add(d.gap*120/100), from, to) {
			want[loyalty.TriggerRepurchaseDue][d.customer] = fmt.Sprintf("due:%d", d.last.Unix())
		}
		if in(d.expires, from.Add(7*days), to.Add(7*days)) {
			want[loyalty.TriggerPointsExpiring][d.customer] = "expiring:" + d.expires.Format(time.DateOnly)
		}
		if in(d.joined, from.Add(-days), to.Add(-days)) {
			want[loyalty.TriggerEnrolled][d.customer] = "enrolled"
		}
		if d.installed && in(d.joined, from, to) {
			want[loyalty.TriggerCardInstalled][d.customer] = "installed"
		}
	}

	scheduler := automation.NewScheduler(automation.SchedulerOptions{Store: automation.StoreOf(st), Now: clk.Now,
		Every: time.Minute, Lease: time.Hour, Page: 500})
	ev, err := scheduler.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Automations != len(trigs) || ev.Watched != n {
		t.Fatalf("evaluation %+v: want %d automations and %d cards watched", ev, len(trigs), n)
	}
	total := 0
	for _, tr := range trigs {
		a := autos[tr.Type]
		split := lift.Split{HoldoutBP: a.HoldoutBP, Variants: len(a.Variants), Winner: -1}
		wantGroups := map[string]int{}
		for customer := range want[tr.Type] {
			as := lift.Assign(a.ID, customer, split)
			wantGroups[group(as.Holdout, as.Variant)]++
		}
		got := map[string]string{}
		gotGroups := map[string]int{}
		rows, err := db.QueryContext(ctx, `SELECT customer_id, occurrence, holdout, variant, status
			FROM automation_messages WHERE automation_id = ?`, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var customer, occurrence, status string
			var holdout bool
			var variant int
			if err := rows.Scan(&customer, &occurrence, &holdout, &variant, &status); err != nil {
				t.Fatal(err)
			}
			if _, twice := got[customer]; twice {
				t.Errorf("%s: %s has two messages", tr.Type, customer)
			}
			if holdout != (status == "holdout") || (!holdout && status != "pending") {
				t.Errorf("%s: %s is %s with holdout %v", tr.Type, customer, status, holdout)
			}
			got[customer] = occurrence
			gotGroups[group(holdout, variant)]++
		}
		rows.Close()
		for customer, occurrence := range want[tr.Type] {
			if got[customer] != occurrence {
				t.Errorf("%s: %s has %q, want %q", tr.Type, customer, got[customer], occurrence)
			}
		}
		if len(got) != len(want[tr.Type]) || fmt.Sprint(gotGroups) != fmt.Sprint(wantGroups) {
			t.Errorf("%s: %d messages %v, want %d %v", tr.Type, len(got), gotGroups, len(want[tr.Type]), wantGroups)
		}
		t.Logf("%s: %d messages %v", tr.Type, len(got), gotGroups)
		total += len(got)
	}
	if ev.Messages != total || total < 5000 {
		t.Fatalf("evaluation made %d messages, %d in the table; want thousands", ev.Messages, total)
	}

	clk.Advance(time.Minute)
	again, err := scheduler.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM automation_messages`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if again.Messages != 0 || rows != total {
		t.Fatalf("second evaluation made %d messages (%d rows, want %d)", again.Messages, rows, total)
	}

	// One customer in ten (i % 10 == 3) reaches gold: the watcher records
	// the change and tier_changed messages each of them, once.
	clk.Advance(time.Minute)
	if _, err := db.Exec(`UPDATE cards SET tier = 'gold', updated_at = ? WHERE CAST(substr(serial_number, 2) AS INTEGER) % 10 = 3`,
		clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	tiers, err := scheduler.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gold, held int
	if err := db.QueryRow(`SELECT COUNT(DISTINCT customer_id), COALESCE(SUM(CASE WHEN holdout THEN 1 ELSE 0 END), 0)
		FROM automation_messages WHERE automation_id = ? AND occurrence LIKE 'tier:%'`, autos[loyalty.TriggerTierChanged].ID).Scan(&gold, &held); err != nil {
		t.Fatal(err)
	}
	wantHeld := 0
	for i := 3; i < n; i += 10 {
		if lift.Assign(autos[loyalty.TriggerTierChanged].ID, fmt.Sprintf("cus_%d", i), lift.Split{HoldoutBP: 1000, Variants: 2, Winner: -1}).Holdout {
			wantHeld++
		}
	}
	if tiers.Messages != n/10 || gold != n/10 || held != wantHeld {
		t.Fatalf("tier changes made %d messages, %d customers, %d held out; want %d, %d held out", tiers.Messages, gold, held, n/10, wantHeld)
	}
}

func group(holdout bool, variant int) string {
	if holdout {
		return "holdout"
	}
	return fmt.Sprintf("variant %d", variant)
}
