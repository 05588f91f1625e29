package console

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestDashboardServerTimeFigure seeds a program with 100,000 cards and a
// year of their ledger, wallets and a campaign, and measures the server
// time of the dashboard page (from the console's access log): the first
// view, which rolls the year up, and the views after it. It runs with
// LOYALPASS_FIGURES=1, on SQLite and, when LOYALPASS_TEST_POSTGRES is
// set, on PostgreSQL; it states figures and asserts only what the page
// shows.
func TestDashboardServerTimeFigure(t *testing.T) {
	if os.Getenv("LOYALPASS_FIGURES") == "" {
		t.Skip("set LOYALPASS_FIGURES=1 to measure")
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			timings := &durations{}
			// The console's clock is the real one here: its access log
			// times the requests.
			r := newRigAt(t, url, func(o *Options) { o.Log, o.Now = slog.New(timings), time.Now })
			const n = 100_000
			start := time.Now()
			want := seedDashboard(t, r, url, n)
			t.Logf("seeded %d cards, %d ledger lines, %d wallets, %d campaign recipients in %v", n, want.lines,
				want.wallets, want.recipients, time.Since(start).Round(time.Millisecond))

			c := r.as(Owner)
			for i, weeks := range []int{12, 12, 26, 52} {
				path := "/console/dashboard?weeks=" + strconv.Itoa(weeks)
				timings.reset()
				p := c.get(path)
				if p.status != http.StatusOK {
					t.Fatalf("%s: %d", path, p.status)
				}
				if i == 0 {
					t.Logf("first view (rolls up a year): server time %v", timings.wait(t, 1)[0].Round(time.Microsecond))
					if !strings.Contains(p.body, `id="tile-active"><span class="tile-label">Действующие карты</span><span class="tile-value">`+
						r.con.texts.Lang("ru").Int(want.active)+`<`) {
						t.Errorf("the active cards tile does not show %d", want.active)
					}
					if !strings.Contains(p.body, `<span class="tile-value">`+r.con.texts.Lang("ru").Int(want.outstanding)+`</span>`) {
						t.Errorf("the outstanding tile does not show %d", want.outstanding)
					}
					continue
				}
				timings.reset()
				const views = 40
				cpu0, _ := processCPUTime()
				for range views {
					if p := c.get(path); p.status != http.StatusOK {
						t.Fatalf("%s: %d", path, p.status)
					}
				}
				cpu1, ok := processCPUTime()
				d := timings.wait(t, views)
				slices.Sort(d)
				cpu := "unknown"
				if ok {
					cpu = ((cpu1 - cpu0) / views).Round(time.Microsecond).String()
				}
				t.Logf("%s, %d views: server time p50 %v, p90 %v, max %v; CPU time of the test process per view %s",
					path, len(d), d[len(d)/2].Round(time.Microsecond), d[len(d)*9/10].Round(time.Microsecond),
					d[len(d)-1].Round(time.Microsecond), cpu)
			}
			// What a view costs more when the minute of the campaign report
			// is over: the report of 10,000 recipients, through the API.
			var took []time.Duration
			for range 10 {
				start := time.Now()
				var rep apiReport
				if err := r.con.api.call(context.Background(), r.merchant.ID, http.MethodGet,
					"/api/v1/campaigns/cmp_seed/report", nil, "", &rep); err != nil || rep.Texted.Recipients == 0 {
					t.Fatalf("report: %v %+v", err, rep)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			t.Logf("the campaign report of %d recipients: p50 %v", want.recipients, took[len(took)/2].Round(time.Microsecond))
		})
	}
}

// durations collects the durations of the console's access log lines for
// the dashboard.
type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (h *durations) Enabled(context.Context, slog.Level) bool { return true }
func (h *durations) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *durations) WithGroup(string) slog.Handler            { return h }
func (h *durations) Handle(_ context.Context, rec slog.Record) error {
	var route string
	var took time.Duration
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "route":
			route = a.Value.String()
		case "duration":
			took = a.Value.Duration()
		}
		return true
	})
	if rec.Message == "http" && route == "/console/dashboard" {
		h.mu.Lock()
		h.d = append(h.d, took)
		h.mu.Unlock()
	}
	return nil
}
func (h *durations) reset() { h.mu.Lock(); h.d = nil; h.mu.Unlock() }

// wait returns the durations once n have been logged (a request's line
// is written just after its answer is sent).
func (h *durations) wait(t *testing.T, n int) []time.Duration {
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		d := slices.Clone(h.d)
		h.mu.Unlock()
		if len(d) >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d access log lines, want %d", len(d), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// seeded is what seedDashboard wrote.
type seeded struct {
	lines, wallets, recipients int
	active, outstanding        int64
}

// seedDashboard writes n cards of the rig's program, issued evenly over
// the last 364 days, with their ledger (a welcome bonus; none to three
// purchases a week apart; a redemption on every fifth card; an expiry
// on every eleventh), wallets for 70 % of them (Apple, Google,
// WalletPasses; one in twenty removed a month later), purchases in the
// last hours, and a campaign that texted every tenth card. It writes
// straight into the database, in bulk.
func seedDashboard(t *testing.T, r *rig, url string, n int) seeded {
	t.Helper()
	ctx := context.Background()
	pg := store.IsPostgresURL(url)
	var db *sql.DB
	var err error
	if pg {
		db, err = sql.Open("pgx", url)
	} else {
		db, err = sql.Open("sqlite3", "file:"+strings.TrimPrefix(url, "sqlite:")+"?_busy_timeout=10000&_foreign_keys=on")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ins := newBulk(t, ctx, tx, pg)
	now := r.clock.Now().UTC()
	m, p := r.merchant.ID, r.program.ID
	var out seeded
	for i := range n {
		created := now.Add(-364 * 24 * time.Hour / time.Duration(n) * time.Duration(n-i))
		cus, serial := fmt.Sprintf("cus_%06d", i), fmt.Sprintf("ser_%06d", i)
		ins.add("customers", "id, merchant_id, phone, name, email, sms_consent, sms_consent_source, created_at",
			cus, m, fmt.Sprintf("+7900%07d", i), "", "", true, "api", created)
		seq, balance := 0, int64(0)
		line := func(kind string, points, amount int64, at time.Time) {
			seq++
			balance += points
			ins.add("transactions", "id, merchant_id, program_id, customer_id, serial_number, seq, kind, points, purchase_amount, reason, balance_after, created_at",
				fmt.Sprintf("txn_%06d_%d", i, seq), m, p, cus, serial, seq, kind, points, amount, "", balance, at)
			out.lines++
		}
		// The card row goes first (the lines refer to it); its balance is
		// set once the lines are known.
		ins.add("cards", "serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier, status, version, created_at, updated_at",
			serial, m, p, cus, fmt.Sprintf("9%011d", i), "tok", 0, "base", "active", 1, created, created)
		line("welcome", 100, 0, created)
		last := created
		for j := 1; j <= i%4; j++ {
			at := created.Add(time.Duration(j) * 7 * 24 * time.Hour)
			if at.After(now) {
				break
			}
			amount := int64(50000 + (i%7)*10000)
			line("earn", amount/2000, amount, at)
			last = at
		}
		if i%5 == 0 && last.After(created) {
			line("redeem", -50, 0, last.Add(24*time.Hour))
		}
		if at := created.Add(200 * 24 * time.Hour); i%11 == 0 && at.Before(now) {
			line("expire", -10, 0, at)
		}
		if i >= n-300 { // bought in the last hours: counted live
			line("earn", 25, 50000, now.Add(-time.Duration(n-i)*time.Minute/2))
		}
		ins.set(serial, balance)
		out.active++
		out.outstanding += balance
		if ch := []string{"apple", "apple", "apple", "apple", "google", "google", "walletpasses"}; i%10 < len(ch) {
			dev := fmt.Sprintf("dev_%06d", i)
			ins.add("devices", "id, created_at, updated_at", dev, created, created)
			var gone any
			if at := created.Add(30 * 24 * time.Hour); i%20 == 0 && at.Before(now) {
				gone = at
			}
			ins.add("registrations", "device_id, serial_number, pass_type_id, channel, created_at, registered_at, unregistered_at",
				dev, serial, "pass.test", ch[i%10], created.Add(time.Hour), created.Add(time.Hour), gone)
			out.wallets++
		}
	}
	started := now.Add(-20 * 24 * time.Hour)
	ins.add("campaigns", "id, merchant_id, program_id, name, status, lapsed_days, tier, installed, bonus_points, bonus_on, template, holdout_bp, salt, quiet_start, quiet_end, timezone, send_rate, frequency_cap_days, purchase_window_days, provider, audience, holdout, created_at, started_at",
		"cmp_seed", m, p, "Скучаем по вам", "finished", 90, "", "any", 50, "open", "{link}", 1000, 7, 21, 9, "Europe/Moscow", 600, 30, 30, "log", n/10, n/100, started, started)
	for i := 7; i < n; i += 10 {
		holdout := i%100 == 7
		var sent, delivered, clicked any
		status := "holdout"
		if !holdout {
			status, sent, delivered = "delivered", started, started.Add(time.Minute)
			if i%3 == 0 {
				clicked = started.Add(time.Hour)
			}
		}
		ins.add("campaign_recipients", "campaign_id, customer_id, serial_number, holdout, status, sent_at, delivered_at, clicked_at",
			"cmp_seed", fmt.Sprintf("cus_%06d", i), fmt.Sprintf("ser_%06d", i), holdout, status, sent, delivered, clicked)
		out.recipients++
	}
	ins.flush()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if pg { // as autovacuum would after a load like this
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// bulk inserts rows many to a statement, table by table in the order
// first named, and sets the cards' balances at the end.
type bulk struct {
	t        *testing.T
	ctx      context.Context
	tx       *sql.Tx
	pg       bool
	order    []string
	cols     map[string]string
	rows     map[string][][]any
	balances map[string]int64
}

func newBulk(t *testing.T, ctx context.Context, tx *sql.Tx, pg bool) *bulk {
	return &bulk{t: t, ctx: ctx, tx: tx, pg: pg, cols: map[string]string{}, rows: map[string][][]any{},
		balances: map[string]int64{}}
}

func (b *bulk) add(table, cols string, values ...any) {
	if _, ok := b.cols[table]; !ok {
		b.order = append(b.order, table)
		b.cols[table] = cols
	}
	b.rows[table] = append(b.rows[table], values)
	if len(b.rows[table]) >= 500 {
		b.flushTo(table) // tables named before it are flushed first
	}
}

func (b *bulk) set(serial string, balance int64) { b.balances[serial] = balance }

// flushTo writes the pending rows of table and of every table named
// before it (which its rows may refer to).
func (b *bulk) flushTo(table string) {
	for _, name := range b.order {
		b.write(name)
		if name == table {
			return
		}
	}
}

func (b *bulk) flush() {
	for _, name := range b.order {
		b.write(name)
	}
	var q strings.Builder
	args := make([]any, 0, 1000)
	for serial, bal := range b.balances {
		args = append(args, serial, bal)
		if len(args) == 1000 {
			b.setBalances(&q, args)
			args = args[:0]
		}
	}
	b.setBalances(&q, args)
}

func (b *bulk) setBalances(q *strings.Builder, args []any) {
	if len(args) == 0 {
		return
	}
	q.Reset()
	q.WriteString("UPDATE cards SET balance = CASE serial_number")
	all := slices.Clone(args)
	for i := 0; i < len(args); i += 2 {
		fmt.Fprintf(q, " WHEN %s THEN %s", b.ph(i+1), b.ph(i+2))
		if b.pg {
			q.WriteString("::bigint")
		}
	}
	q.WriteString(" END WHERE serial_number IN (")
	for i := 0; i < len(args); i += 2 {
		if i > 0 {
			q.WriteString(", ")
		}
		all = append(all, args[i])
		q.WriteString(b.ph(len(all)))
	}
	q.WriteString(")")
	if _, err := b.tx.ExecContext(b.ctx, q.String(), all...); err != nil {
		b.t.Fatalf("set balances: %v", err)
	}
}

func (b *bulk) ph(i int) string {
	if b.pg {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}

func (b *bulk) write(table string) {
	rows := b.rows[table]
	if len(rows) == 0 {
		return
	}
	var q strings.Builder
	fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, b.cols[table])
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, row := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for j, v := range row {
			if j > 0 {
				q.WriteString(", ")
			}
			args = append(args, v)
			q.WriteString(b.ph(len(args)))
		}
		q.WriteString(")")
	}
	if _, err := b.tx.ExecContext(b.ctx, q.String(), args...); err != nil {
		b.t.Fatalf("insert into %s: %v", table, err)
	}
	b.rows[table] = rows[:0]
}
