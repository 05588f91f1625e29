package automation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestWinnerTakesAllAndAutoPause: once each variant's windows have
// closed on enough customers, a variant whose customers bought far more
// gets every new message (the holdout keeps its own); an automation
// whose messaged customers buy no more than its holdout pauses itself.
func TestWinnerTakesAllAndAutoPause(t *testing.T) {
	w := newWorld(t, storetest.SQLiteURL(t))
	ctx := context.Background()
	ab := w.automation(store.Automation{Name: "ab", Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, HoldoutBP: 2000,
		WinnerMin: 40, Variants: []store.Variant{{Text: "A {link}"}, {Text: "B {link}"}}})
	flat := w.automation(store.Automation{Name: "flat", Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, HoldoutBP: 3000,
		AutoPauseMin: 40})
	w.clock.Advance(time.Minute)
	var people []customer
	for i := range 300 {
		people = append(people, w.customer(phone(i), false)) // no consent, no card: nobody is reached
	}
	e := w.engine(w.st)
	if ev, _ := e.round(t); ev.Messages != 600 {
		t.Fatalf("%d messages, want 600", ev.Messages)
	}
	// Within the window, variant B's customers buy, A's and the holdout's
	// do not. The two automations split the same customers independently,
	// so only those in flat's holdout buy: flat's messaged customers then
	// never buy more than its holdout, whatever the random split.
	w.clock.Advance(24 * time.Hour)
	split := lift.Split{HoldoutBP: 2000, Variants: 2, Winner: -1}
	flatSplit := lift.Split{HoldoutBP: 3000, Variants: 1, Winner: -1}
	for i, c := range people {
		as := lift.Assign(ab.ID, c.id, split)
		if !as.Holdout && as.Variant == 1 && lift.Assign(flat.ID, c.id, flatSplit).Holdout {
			if _, _, err := w.st.Cards().Post(ctx, loyalty.Posting{MerchantID: w.merchant.ID, Serial: c.serial, Kind: loyalty.Earn,
				PurchaseAmount: 50000, IdempotencyKey: fmt.Sprint("buy", i), RequestHash: []byte("x")},
				func(p store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Before the windows close, the rules see nothing to judge.
	e.round(t)
	if a, _ := w.st.Automations().AutomationByID(ctx, ab.ID); a.Winner != -1 {
		t.Fatalf("a winner before any window closed: %d", a.Winner)
	}
	w.clock.Advance(15 * 24 * time.Hour)
	e.round(t)
	a, _ := w.st.Automations().AutomationByID(ctx, ab.ID)
	if a.Winner != 1 {
		t.Fatalf("winner %d, want variant B (1)", a.Winner)
	}
	f, _ := w.st.Automations().AutomationByID(ctx, flat.ID)
	if f.Status != store.AutomationPaused || f.PausedReason == "" {
		t.Fatalf("the automation without lift is %s (%q)", f.Status, f.PausedReason)
	}
	t.Logf("paused: %s", f.PausedReason)
	// New customers: everyone outside the holdout gets B.
	for i := 300; i < 340; i++ {
		w.customer(phone(i), false)
	}
	w.clock.Advance(time.Minute)
	e.round(t)
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE automation_id = ? AND created_at > ? AND NOT holdout AND variant = 0`,
		ab.ID, w.clock.Now().Add(-2*time.Minute)); n != 0 {
		t.Fatalf("%d new messages still went to the losing variant", n)
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE automation_id = ? AND created_at > ? AND variant = 1`,
		ab.ID, w.clock.Now().Add(-2*time.Minute)); n == 0 {
		t.Fatal("the winner got no new messages")
	}
}
