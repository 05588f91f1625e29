package automation_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// ScaleEnv names the number of customers TestSchedulerAtScale builds
// (1000000 for the figure in BENCHMARKS.md); unset, it does not run.
const ScaleEnv = "LOYALPASS_SCHEDULER_SCALE"

// TestSchedulerAtScale measures the scheduler over a program of many
// customers on SQLite: each customer with a card, a birthday, four
// purchases in their own rhythm and points that expire, every trigger
// with an automation. It times the first evaluation (which reads every
// card's rhythm once), then a day's evaluation after a day of purchases
// (the scheduler's incremental work: a day's birthdays, the purchases
// that turned 60 days old, the dues that fell in the day, the changed
// cards), then a minute's.
func TestSchedulerAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(ScaleEnv))
	if n <= 0 {
		t.Skipf("set %s=1000000 to measure the scheduler over a million customers", ScaleEnv)
	}
	dir := os.Getenv("LOYALPASS_SCALE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "scale.db")
	os.Remove(path)
	clock := &clock{}
	now := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	clock.Set(now)
	ctx := context.Background()
	st, m, p := scaleProgram(t, path, clock)
	defer st.Close()
	began := time.Now()
	seed(t, path, m.ID, p.ID, n, now)
	t.Logf("seeded %d customers, %d cards, %d purchases in %s", n, n, 4*n, time.Since(began).Round(time.Second))

	trigs := []loyalty.Trigger{{Type: loyalty.TriggerBirthday, Days: 3}, {Type: loyalty.TriggerInactive, Days: 60},
		{Type: loyalty.TriggerRepurchaseDue}, {Type: loyalty.TriggerPointsExpiring, Days: 7},
		{Type: loyalty.TriggerTierChanged, Tier: "gold"}, {Type: loyalty.TriggerEnrolled, Days: 1}, {Type: loyalty.TriggerCardInstalled}}
	for _, tr := range trigs {
		a := store.Automation{MerchantID: m.ID, ProgramID: p.ID, Name: tr.Type, Trigger: tr, HoldoutBP: 1000, FrequencyCapDays: 14,
			QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", PurchaseWindowDays: 14, Provider: "log",
			Variants: []store.Variant{{Text: "{link}", BonusKind: loyalty.BonusPoints}}}
		if err := st.Automations().CreateAutomation(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	scheduler := automation.NewScheduler(automation.SchedulerOptions{Store: automation.StoreOf(st), Now: clock.Now,
		Every: time.Minute, Lease: time.Hour})
	measure := func(what string) {
		t.Helper()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		start := time.Now()
		ev, err := scheduler.RunOnce(ctx)
		wall := time.Since(start)
		cpu := cpuTime() - cpu0
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		t.Logf("%s: %s wall, %s CPU; %d automations, %d changed cards watched, %d candidates, %d messages; "+
			"%.1f MB allocated, heap %.1f MB after, peak RSS of the process so far %.0f MB",
			what, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), ev.Automations, ev.Watched, ev.Candidates, ev.Messages,
			float64(after.TotalAlloc-before.TotalAlloc)/1e6, float64(after.HeapInuse)/1e6, float64(ru.Maxrss)/1e3)
	}
	clock.Advance(time.Minute)
	measure("first evaluation (every card's rhythm read once)")

	// A day passes: one customer in 20 buys (raw rows, as the ledger
	// writes them: the line, the card's totals and updated_at).
	clock.Advance(24 * time.Hour)
	day(t, path, m.ID, p.ID, n, clock.Now())
	measure("a day's evaluation")
	clock.Advance(time.Minute)
	measure("a minute's evaluation")
}

// scaleProgram opens a SQLite store at path on clock, with a merchant and
// a program of two tiers whose points last a year.
func scaleProgram(t *testing.T, path string, clock *clock) (*store.Store, store.Merchant, loyalty.Program) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := st.Merchants().EnsureMerchant(ctx, "scale", "RU")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Scale", CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr",
		Locale: "ru", PointsLifetimeDays: 365, Tiers: []loyalty.Tier{{Code: "base", Name: "Base"}, {Code: "gold", Name: "Gold", Threshold: 5000}}}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	return st, m, p
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bulk inserts rows of cols into table, many rows per statement.
type bulk struct {
	t     *testing.T
	tx    *sql.Tx
	head  string
	cols  int
	batch []any
}

func (b *bulk) add(vals ...any) {
	b.batch = append(b.batch, vals...)
	if len(b.batch) >= 500*b.cols {
		b.flush()
	}
}

func (b *bulk) flush() {
	if len(b.batch) == 0 {
		return
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", b.cols), ",") + ")"
	q := b.head + strings.TrimSuffix(strings.Repeat(row+",", len(b.batch)/b.cols), ",")
	if _, err := b.tx.Exec(q, b.batch...); err != nil {
		b.t.Fatal(err)
	}
	b.batch = b.batch[:0]
}

func open(t *testing.T, path string) (*sql.DB, *sql.Tx) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	return db, tx
}

// seed writes n customers with a card each, four purchases a gap of
// their own apart (the last one up to 60 days ago), a lot that expires
// within the year, a birthday, and every third card installed. It writes
// with set-based SQL, as internal/bench does: a table of each customer's
// draws (arithmetic on the row number, so every run seeds the same
// program), then one INSERT … SELECT per table, in the order a real
// history writes rows: customers and cards as they join, purchases as
// they happen, every customer's interleaved with the others'.
func seed(t *testing.T, path, merchant, program string, n int, now time.Time) {
	db, tx := open(t, path)
	defer db.Close()
	// at is the driver's text for a time given in Unix seconds, so that
	// seeded times compare with the ones the store writes.
	at := func(unix string) string {
		return `strftime('%Y-%m-%d %H:%M:%S', ` + unix + `, 'unixepoch') || '+00:00'`
	}
	draws := `CREATE TEMP TABLE draws AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		SELECT i, ? + (i * 7919 % (180 * 24)) * 3600 AS joined, ? - (i * 6151 % (60 * 24)) * 3600 AS last,
			(7 + i * 101 % 50) * 86400 AS gap,
			date((1960 + i * 31 % 45) || '-01-01', '+' || (i * 7907 % 365) || ' days') AS birthday FROM n`
	stmts := []struct {
		q    string
		args []any
	}{
		{draws, []any{n, now.AddDate(0, -12, 0).Unix(), now.Unix()}},
		{`INSERT INTO customers (id, merchant_id, phone, name, email, sms_consent, sms_consent_source, created_at, holdout_seed,
			birthday) SELECT 'cus_' || i, ?, printf('+7900%07d', i), '', '', i * 13 % 10 < 7, 'import', ` + at("joined") + `,
			i * 4001 % 10000, birthday FROM draws ORDER BY joined`, []any{merchant}},
		{`INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier, status,
			version, created_at, updated_at, last_purchase_at, link_token)
			SELECT 's' || i, ?, ?, 'cus_' || i, printf('%012d', i), 'tok', 200, 'base', 'active', 5, ` + at("joined") + `,
			` + at("last") + `, ` + at("last") + `, 'lnk' || i FROM draws ORDER BY joined`, []any{merchant, program}},
		{`INSERT INTO transactions (id, merchant_id, program_id, customer_id, serial_number, seq, kind, points,
			purchase_amount, reason, balance_after, remaining, expires_at, created_at)
			SELECT 'txn_' || i || '_' || k, ?, ?, 'cus_' || i, 's' || i, 4 - k, 'earn', 50, 100000, '', 50 * (4 - k), 50,
			CASE WHEN k = 3 THEN ` + at("last - k * gap + 365 * 86400") + ` END, ` + at("last - k * gap") + `
			FROM draws, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY last - k * gap`,
			[]any{merchant, program}},
		{`INSERT INTO devices (id, created_at, updated_at) SELECT 'devs' || i, ` + at("joined") + `, ` + at("joined") + `
			FROM draws WHERE i % 3 = 0`, nil},
		{`INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, push_token, created_at, registered_at,
			push_service_url, user_agent) SELECT 'devs' || i, 's' || i, 'pass.scale', 'apple', printf('%064x', i),
			` + at("joined") + `, ` + at("joined") + `, '', '' FROM draws WHERE i % 3 = 0`, nil},
		{`DROP TABLE draws`, nil},
	}
	for _, st := range stmts {
		if _, err := tx.Exec(st.q, st.args...); err != nil {
			t.Fatalf("seed: %v\n%s", err, st.q)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// ANALYZE, then copy the seed's gigabytes of WAL into the database
	// now: left to the store's first commits, the checkpoint would be timed
	// as part of the first evaluation.
	for _, q := range []string{`ANALYZE`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// day writes a day's purchases: one customer in 20, at now.
func day(t *testing.T, path, merchant, program string, n int, now time.Time) {
	db, tx := open(t, path)
	defer db.Close()
	lines := &bulk{t: t, tx: tx, cols: 14, head: `INSERT INTO transactions (id, merchant_id, program_id, customer_id, serial_number,
		seq, kind, points, purchase_amount, reason, balance_after, remaining, expires_at, created_at) VALUES `}
	upd, err := tx.Prepare(`UPDATE cards SET last_purchase_at = ?, updated_at = ?, balance = balance + 50, version = version + 1
		WHERE serial_number = ?`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 20 {
		serial := fmt.Sprintf("s%d", i)
		at := now.Add(-time.Duration(i%(24*60)) * time.Minute)
		lines.add(fmt.Sprintf("txn_%d_day", i), merchant, program, fmt.Sprintf("cus_%d", i), serial, 5, "earn", 50, 100000, "",
			0, 50, nil, at)
		if _, err := upd.Exec(at, at, serial); err != nil {
			t.Fatal(err)
		}
	}
	lines.flush()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
