package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newTestClock() *testClock { return &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// forEachClockedStore is forEachStore with the store on clk.
func forEachClockedStore(t *testing.T, test func(t *testing.T, s *Store, clk *testClock)) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newTestClock()
		test(t, openTestStore(t, url, func(o *Options) { o.Now = clk.Now }), clk)
	})
}

func testAutomation(m Merchant, p loyalty.Program, trig loyalty.Trigger) *Automation {
	return &Automation{MerchantID: m.ID, ProgramID: p.ID, Name: "test " + trig.Type, Trigger: trig,
		Variants: []Variant{{Text: "Привет, {name}!", BonusKind: loyalty.BonusPoints, Bonus: 50}}, HoldoutBP: 1000,
		FrequencyCapDays: 14, QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", PurchaseWindowDays: 14,
		Provider: "log"}
}

func issue(t *testing.T, s *Store, m Merchant, p loyalty.Program, phone, birthday string) loyalty.Card {
	t.Helper()
	yes := true
	ctx := context.Background()
	c, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: phone,
		Name: "Анна", SMSConsent: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if birthday != "" {
		if _, err := s.Customers().Update(ctx, m.ID, c.CustomerID, CustomerChange{Birthday: &birthday}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func serials(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Serial + " " + c.Occurrence
	}
	sort.Strings(out)
	return out
}

func TestAutomationLifecycle(t *testing.T) {
	forEachClockedStore(t, func(t *testing.T, s *Store, clk *testClock) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		other, _ := newTestProgram(t, s, "other")
		a := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerInactive, Days: 30})
		if err := s.Automations().CreateAutomation(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := s.Automations().Automation(ctx, m.ID, a.ID)
		if err != nil || got.Status != AutomationActive || got.Winner != -1 || !got.EvaluatedUntil.Equal(clk.Now()) ||
			len(got.Variants) != 1 || got.Variants[0].Bonus != 50 || got.Trigger.Days != 30 {
			t.Fatalf("automation = %+v, %v", got, err)
		}
		if _, err := s.Automations().Automation(ctx, other.ID, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another merchant sees it: %v", err)
		}
		c := issue(t, s, m, p, "+79120000001", "")
		if _, err := s.Automations().RecordEvaluation(ctx, got, clk.Now(), clk.Now(), []NewMessage{
			{Candidate: Candidate{c.CustomerID, c.SerialNumber, "x"}, Variant: 0}}); err != nil {
			t.Fatal(err)
		}
		paused, err := s.Automations().SetAutomationStatus(ctx, m.ID, a.ID, AutomationActive, AutomationPaused, "")
		if err != nil || paused.Status != AutomationPaused {
			t.Fatalf("pause: %+v %v", paused, err)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM automation_messages WHERE status = 'skipped' AND reason = 'automation paused'`); n != 1 {
			t.Fatalf("%d pending messages skipped on pause, want 1", n)
		}
		clk.Advance(48 * time.Hour)
		resumed, err := s.Automations().SetAutomationStatus(ctx, m.ID, a.ID, AutomationPaused, AutomationActive, "")
		if err != nil || resumed.Status != AutomationActive || !resumed.EvaluatedUntil.Equal(clk.Now()) {
			t.Fatalf("resume: %+v %v; it fires from now on", resumed, err)
		}
		if _, err := s.Automations().SetAutomationStatus(ctx, m.ID, a.ID, AutomationPaused, AutomationActive, ""); err != nil {
			t.Fatalf("resuming an active automation changes nothing: %v", err)
		}
		if _, err := s.Automations().SetAutomationStatus(ctx, m.ID, a.ID, AutomationActive, AutomationDeleted, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Automations().Automation(ctx, m.ID, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a deleted automation is found: %v", err)
		}
		if list, err := s.Automations().Automations(ctx, m.ID, Cursor{}, 10); err != nil || len(list) != 0 {
			t.Fatalf("list after delete = %v %v", list, err)
		}
	})
}

func countRows(t *testing.T, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.read.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func earnAt(t *testing.T, s *Store, m Merchant, serial, key string) {
	t.Helper()
	_, _, err := s.Cards().Post(context.Background(), loyalty.Posting{MerchantID: m.ID, Serial: serial, Kind: loyalty.Earn,
		PurchaseAmount: 100000, IdempotencyKey: key, RequestHash: []byte(key)}, created)
	if err != nil {
		t.Fatal(err)
	}
}

// TestTriggersSelectWhatTheirWindowHolds moves a clock over a program's
// customers and checks what each trigger selects, and that a window does
// not select what the one before it did.
func TestTriggersSelectWhatTheirWindowHolds(t *testing.T) {
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
		// buyer buys now; sleeper bought 40 days ago (below, by moving
		// the clock); birthday's is on 4 March.
		sleeper := issue(t, s, m, p, "+79120000001", "1990-03-20")
		earnAt(t, s, m, sleeper.SerialNumber, "s1")
		clk.Advance(40 * day)
		buyer := issue(t, s, m, p, "+79120000002", "1985-04-12")
		now := clk.Now()

		cand := func(a Automation, from, to time.Time) []string {
			t.Helper()
			cs, err := s.Automations().Candidates(ctx, a, from, to)
			if err != nil {
				t.Fatal(err)
			}
			return serials(cs)
		}
		auto := func(trig loyalty.Trigger) Automation { return *testAutomation(m, p, trig) }

		// inactive 30: the sleeper's purchase turned 30 days old on day 30.
		inactive := auto(loyalty.Trigger{Type: loyalty.TriggerInactive, Days: 30})
		want := []string{sleeper.SerialNumber + " inactive:" + fmt.Sprint(start.Unix())}
		if got := cand(inactive, start.Add(29*day), start.Add(31*day)); !slices.Equal(got, want) {
			t.Errorf("inactive = %v, want %v", got, want)
		}
		if got := cand(inactive, start.Add(31*day), now); len(got) != 0 {
			t.Errorf("inactive in the next window = %v", got)
		}
		// enrolled 0: the buyer's card was issued in the window.
		enrolled := auto(loyalty.Trigger{Type: loyalty.TriggerEnrolled})
		if got := cand(enrolled, now.Add(-time.Minute), now); !slices.Equal(got, []string{buyer.SerialNumber + " enrolled"}) {
			t.Errorf("enrolled = %v", got)
		}
		// points_expiring 7: the sleeper's lot expires on day 60.
		expiring := auto(loyalty.Trigger{Type: loyalty.TriggerPointsExpiring, Days: 7})
		want = []string{sleeper.SerialNumber + " expiring:" + start.Add(60*day).Format(time.DateOnly)}
		if got := cand(expiring, start.Add(52*day), start.Add(54*day)); !slices.Equal(got, want) {
			t.Errorf("expiring = %v, want %v", got, want)
		}
		// birthday 0: 20 March (in Moscow) selects the sleeper, for 2026.
		birthday := auto(loyalty.Trigger{Type: loyalty.TriggerBirthday})
		mar19 := time.Date(2026, 3, 19, 12, 0, 0, 0, time.UTC)
		if got := cand(birthday, mar19, mar19.Add(day)); !slices.Equal(got, []string{sleeper.SerialNumber + " birthday:2026"}) {
			t.Errorf("birthday = %v", got)
		}
		if got := cand(birthday, mar19.Add(-day), mar19); len(got) != 0 {
			t.Errorf("birthday the day before = %v", got)
		}
		// card_installed: a registration in the window.
		if _, err := s.Devices().Register(ctx, Registration{DeviceID: "dev1", PassTypeID: "pass.x", SerialNumber: buyer.SerialNumber,
			PushToken: "tok", Channel: "apple"}); err != nil {
			t.Fatal(err)
		}
		installed := auto(loyalty.Trigger{Type: loyalty.TriggerCardInstalled})
		if got := cand(installed, now.Add(-time.Minute), now); !slices.Equal(got, []string{buyer.SerialNumber + " installed"}) {
			t.Errorf("installed = %v", got)
		}
		// tier_changed: the watcher sees the buyer reach gold.
		tier := auto(loyalty.Trigger{Type: loyalty.TriggerTierChanged, Tier: "gold"})
		if _, err := s.Automations().WatchRhythms(ctx, p.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		earnAt(t, s, m, buyer.SerialNumber, "b1") // 1000 ₽ at 5 % is 50 points
		earnAt(t, s, m, buyer.SerialNumber, "b2")
		earnAt(t, s, m, buyer.SerialNumber, "b3")
		if _, err := s.Automations().WatchRhythms(ctx, p.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		got := cand(tier, now, clk.Now())
		if len(got) != 1 || got[0][:len(buyer.SerialNumber)] != buyer.SerialNumber {
			t.Errorf("tier changed = %v", got)
		}
		if got := cand(auto(loyalty.Trigger{Type: loyalty.TriggerTierChanged, Tier: "base"}), now, clk.Now()); len(got) != 0 {
			t.Errorf("tier changed to base = %v", got)
		}
	})
}

// TestRhythmsAndDueDates: a customer buying every 10 days gets their own
// gap, and a repurchase automation's due date at last + gap (+ percent).
func TestRhythmsAndDueDates(t *testing.T) {
	forEachClockedStore(t, func(t *testing.T, s *Store, clk *testClock) {
		ctx := context.Background()
		day := 24 * time.Hour
		m, p := newTestProgram(t, s, "shop")
		a := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerRepurchaseDue, DuePercent: 20})
		if err := s.Automations().CreateAutomation(ctx, a); err != nil {
			t.Fatal(err)
		}
		regular := issue(t, s, m, p, "+79120000001", "")
		newcomer := issue(t, s, m, p, "+79120000002", "")
		for i := range 4 {
			earnAt(t, s, m, regular.SerialNumber, fmt.Sprint("r", i))
			if i == 3 {
				earnAt(t, s, m, newcomer.SerialNumber, "n0")
			}
			clk.Advance(10 * day)
		}
		if _, err := s.Automations().WatchRhythms(ctx, p.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		r, err := s.Automations().CardRhythm(ctx, m.ID, regular.SerialNumber)
		if err != nil || !r.Own || r.Gap != 10*day || r.Purchases != 4 {
			t.Fatalf("regular's rhythm = %+v %v", r, err)
		}
		r, err = s.Automations().CardRhythm(ctx, m.ID, newcomer.SerialNumber)
		if err != nil || r.Own || r.Gap != 10*day {
			t.Fatalf("newcomer's rhythm = %+v %v; want the program's typical gap (the regular's 10 days)", r, err)
		}
		lastBuy := clk.Now().Add(-10 * day)
		var fire time.Time
		if err := s.read.QueryRowContext(ctx, `SELECT fire_at FROM automation_dues WHERE automation_id = ? AND serial_number = ?`,
			a.ID, regular.SerialNumber).Scan(&fire); err != nil {
			t.Fatal(err)
		}
		if !fire.Equal(lastBuy.Add(12 * day)) {
			t.Fatalf("due at %v, want last purchase + 10 days × 1.2 = %v", fire, lastBuy.Add(12*day))
		}
		cs, err := s.Automations().Candidates(ctx, *a, lastBuy.Add(11*day), lastBuy.Add(13*day))
		if err != nil || len(cs) != 1 || cs[0].Serial != regular.SerialNumber {
			t.Fatalf("repurchase candidates = %v %v", cs, err)
		}
		// A purchase before the due date makes that due date stale.
		earnAt(t, s, m, regular.SerialNumber, "r-late")
		if cs, _ := s.Automations().Candidates(ctx, *a, lastBuy.Add(11*day), lastBuy.Add(13*day)); len(cs) != 0 {
			t.Fatalf("a customer who bought since is still due: %v", cs)
		}
		if _, err := s.Automations().CardRhythm(ctx, "nobody", regular.SerialNumber); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another merchant reads the rhythm: %v", err)
		}
	})
}

// TestEvaluationMakesEachMessageOnce records the same evaluation twice
// (a crash, an overlapping window) and finds one message per customer
// and occurrence; the watermark only moves forward.
func TestEvaluationMakesEachMessageOnce(t *testing.T) {
	forEachClockedStore(t, func(t *testing.T, s *Store, clk *testClock) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		a := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerEnrolled})
		if err := s.Automations().CreateAutomation(ctx, a); err != nil {
			t.Fatal(err)
		}
		var msgs []NewMessage
		for i := range 5 {
			c := issue(t, s, m, p, fmt.Sprintf("+7912000000%d", i), "")
			msgs = append(msgs, NewMessage{Candidate: Candidate{c.CustomerID, c.SerialNumber, "enrolled"}, Holdout: i == 0})
		}
		to := clk.Now()
		for run := range 2 {
			made, err := s.Automations().RecordEvaluation(ctx, *a, to, to.Add(time.Minute), msgs)
			if err != nil || made != map[int]int{0: 5, 1: 0}[run] {
				t.Fatalf("run %d made %d (%v)", run, made, err)
			}
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM automation_messages WHERE status = 'holdout'`); n != 1 {
			t.Fatalf("%d holdout rows", n)
		}
		// An older evaluation arriving late does not move the watermark back.
		if _, err := s.Automations().RecordEvaluation(ctx, *a, to.Add(-time.Hour), to, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Automations().AutomationByID(ctx, a.ID)
		if !got.EvaluatedUntil.Equal(to) {
			t.Fatalf("watermark %v, want %v", got.EvaluatedUntil, to)
		}
	})
}

// TestCardDeliveryAndTexts: a card message is written with its bonus
// and the cap's stamp in one transaction; a second within the cap is
// refused; a text reserves the budget and gives it back when it fails.
func TestCardDeliveryAndTexts(t *testing.T) {
	forEachClockedStore(t, func(t *testing.T, s *Store, clk *testClock) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		a := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerEnrolled})
		if err := s.Automations().CreateAutomation(ctx, a); err != nil {
			t.Fatal(err)
		}
		c1 := issue(t, s, m, p, "+79120000001", "")
		c2 := issue(t, s, m, p, "+79120000002", "")
		msgs := []NewMessage{{Candidate: Candidate{c1.CustomerID, c1.SerialNumber, "enrolled"}},
			{Candidate: Candidate{c1.CustomerID, c1.SerialNumber, "again"}},
			{Candidate: Candidate{c2.CustomerID, c2.SerialNumber, "enrolled"}}}
		if _, err := s.Automations().RecordEvaluation(ctx, *a, clk.Now(), clk.Now(), msgs); err != nil {
			t.Fatal(err)
		}
		out, err := s.Automations().ClaimMessages(ctx, 10, time.Minute)
		if err != nil || len(out) != 3 {
			t.Fatalf("claimed %d: %v", len(out), err)
		}
		if again, _ := s.Automations().ClaimMessages(ctx, 10, time.Minute); len(again) != 0 {
			t.Fatalf("claimed %d twice", len(again))
		}
		if !out[0].Reach.AdsConsent || !out[0].Reach.Phone || out[0].Reach.Wallet || out[0].Phone != "+79120000001" {
			t.Fatalf("reach = %+v", out[0])
		}
		bonus := loyalty.Posting{MerchantID: m.ID, Serial: c1.SerialNumber, Kind: loyalty.Adjust, Points: 50,
			Reason: "bonus", IdempotencyKey: "b1", RequestHash: []byte("b1")}
		before := countRows(t, s, `SELECT COUNT(*) FROM outbox`)
		if err := s.Automations().DeliverOnCard(ctx, out[0], CardDelivery{Channel: loyalty.ChannelWallet, Text: "С днём рождения!",
			CapDays: 14, Bonus: &bonus, Respond: created}); err != nil {
			t.Fatal(err)
		}
		card, _ := s.Cards().Card(ctx, m.ID, c1.SerialNumber)
		if card.Message != "С днём рождения!" || card.Balance != c1.Balance+50 || card.Version != c1.Version+1 {
			t.Fatalf("card after delivery: message %q balance %d version %d", card.Message, card.Balance, card.Version)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM outbox`) - before; n != 1 {
			t.Fatalf("%d outbox rows: one pass update should carry the points and the message", n)
		}
		err = s.Automations().DeliverOnCard(ctx, out[1], CardDelivery{Channel: loyalty.ChannelWallet, Text: "again", CapDays: 14})
		if !errors.Is(err, ErrCapped) {
			t.Fatalf("second message within the cap: %v", err)
		}
		if card, _ := s.Cards().Card(ctx, m.ID, c1.SerialNumber); card.Message != "С днём рождения!" {
			t.Fatalf("a refused message changed the card: %q", card.Message)
		}

		// Texts: a budget of 900 takes two texts of 450, not three.
		if _, err := s.Automations().SetSMSBudget(ctx, m.ID, p.ID, 900); err != nil {
			t.Fatal(err)
		}
		r, err := s.Automations().ReserveText(ctx, out[2], 14, 450)
		if err != nil || !r.Budget {
			t.Fatalf("reserve: %+v %v", r, err)
		}
		if err := s.Automations().TextNotSent(ctx, out[2], r, "pending", "timeout", clk.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.Automations().SMSBudget(ctx, m.ID, p.ID); b.Spent != 0 {
			t.Fatalf("a text that did not go spent %d", b.Spent)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM customers WHERE id = ? AND last_texted_at IS NULL`, c2.CustomerID); n != 1 {
			t.Fatal("a text that did not go still counts against the cap")
		}
		clk.Advance(time.Minute)
		retry, _ := s.Automations().ClaimMessages(ctx, 10, time.Minute)
		if len(retry) != 1 || retry[0].Attempts != 2 {
			t.Fatalf("retry claimed %+v", retry)
		}
		r, err = s.Automations().ReserveText(ctx, retry[0], 14, 450)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Automations().TextSent(ctx, retry[0], r, "smsru", "p-1", 2, 900, nil, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.Automations().SMSBudget(ctx, m.ID, p.ID); b.Spent != 900 {
			t.Fatalf("spent %d after a two-segment text, want 900", b.Spent)
		}
		groups, channels, err := s.Automations().AutomationReport(ctx, a.ID, time.Time{})
		if err != nil || len(groups) != 1 || groups[0].Messages != 3 || groups[0].Sent != 2 || groups[0].Waiting != 1 ||
			groups[0].Cost != 900 || groups[0].Bonus != 50 || groups[0].Customers != 2 || groups[0].Reached != 2 {
			t.Fatalf("report %+v %v", groups, err)
		}
		if !slices.Equal(channels, []ChannelCount{{"sms", 1, 900}, {"wallet", 1, 0}}) {
			t.Fatalf("channels %+v", channels)
		}
		// c1 has two messages and buys once within both windows: one
		// purchaser, the purchase counted once; nothing counts once the
		// report is cut at windows that closed.
		clk.Advance(time.Hour)
		earnAt(t, s, m, c1.SerialNumber, "c1-buys")
		groups, _, _ = s.Automations().AutomationReport(ctx, a.ID, time.Time{})
		if g := groups[0]; g.Purchasers != 1 || g.Revenue != 100000 {
			t.Fatalf("purchasers %d, revenue %d; want 1 and 100000", g.Purchasers, g.Revenue)
		}
		if closed, _, _ := s.Automations().AutomationReport(ctx, a.ID, clk.Now()); len(closed) != 0 {
			t.Fatalf("windows still open, yet the closed report holds %+v", closed)
		}
		// A delivery report reaches the automation's text.
		if err := s.Campaigns().RecordDelivery(ctx, DeliveryReport{Provider: "smsru", ProviderID: "p-1", Delivered: true}); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM automation_messages WHERE status = 'delivered'`); n != 1 {
			t.Fatal("the delivery report did not reach the automation's text")
		}
	})
}

// TestTwoInstancesNeverSendAMessageTwice: two stores on one database
// claim messages at once; each message is claimed by one of them, and a
// message whose sender died before handing it over waits again.
func TestTwoInstancesNeverSendAMessageTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newTestClock()
		inst := twoInstances(t, url, clk.Now)
		m, p := newTestProgram(t, inst[0], "shop")
		a := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerEnrolled})
		if err := inst[0].Automations().CreateAutomation(ctx, a); err != nil {
			t.Fatal(err)
		}
		var msgs []NewMessage
		for i := range 60 {
			c := issue(t, inst[0], m, p, fmt.Sprintf("+791200000%02d", i), "")
			msgs = append(msgs, NewMessage{Candidate: Candidate{c.CustomerID, c.SerialNumber, "enrolled"}})
		}
		// Both evaluate the same window: one set of messages.
		for _, s := range inst {
			if _, err := s.Automations().RecordEvaluation(ctx, *a, clk.Now(), clk.Now(), msgs); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for _, s := range inst {
			wg.Go(func() {
				for {
					out, err := s.Automations().ClaimMessages(ctx, 7, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(out) == 0 {
						return
					}
					mu.Lock()
					for _, m := range out {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Fatalf("%d messages claimed, want 60", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("message %d claimed %d times", id, n)
			}
		}
		// Both senders died: within the stamp nothing is recovered (another
		// instance may be sending); past it every message waits again, as
		// none was handed to a provider, and is claimed once more.
		if back, failed, _ := inst[1].Automations().AbandonStaleMessages(ctx); back+failed != 0 {
			t.Fatalf("recovered %d+%d messages still within their stamp", back, failed)
		}
		clk.Advance(2 * time.Minute)
		if back, failed, _ := inst[1].Automations().AbandonStaleMessages(ctx); back != 60 || failed != 0 {
			t.Fatalf("recovered %d stale messages, failed %d; want 60 back, none failed", back, failed)
		}
		if out, _ := inst[0].Automations().ClaimMessages(ctx, 100, time.Minute); len(out) != 60 {
			t.Fatalf("claimed %d recovered messages again, want 60", len(out))
		}
	})
}
