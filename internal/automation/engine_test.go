package automation_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestCheapestChannelThatReaches: a welcome message to three new
// customers. The one with the card in Apple Wallet gets it on the lock
// screen (a pass update with changeMessage, pushed through the fake
// APNs) and no text; the one without an installed card who agreed to
// texts gets an SMS at the fake Twilio; the one who did not agree gets
// nothing.
func TestCheapestChannelThatReaches(t *testing.T) {
	appleToken := strings.Repeat("0a", 32) // APNs tokens are 64 hex digits
	w := newWorld(t, storetest.SQLiteURL(t))
	e := w.engine(w.st)
	a := w.automation(store.Automation{Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, FrequencyCapDays: 14})
	w.clock.Advance(time.Minute)
	apple := w.customer(phone(1), true)
	w.install(apple, appleToken)
	texted := w.customer(phone(2), true)
	silent := w.customer(phone(3), false)
	w.drain() // the cards' own changes
	pushesBefore := len(w.apns.Requests())

	ev, sent := e.round(t)
	if ev.Messages != 3 || sent["wallet"] != 1 || sent["sms"] != 1 || sent["skipped"] != 1 {
		t.Fatalf("evaluation %+v, sent %v; want 3 messages: one wallet, one sms, one skipped", ev, sent)
	}
	w.drain()

	// The lock screen: a push to the installed iPhone, and the pass it
	// downloads carries the text with changeMessage and the 50 points.
	pushes := w.apns.Requests()[pushesBefore:]
	if len(pushes) != 1 || pushes[0].Token != appleToken || string(pushes[0].Body) != "{}" {
		t.Fatalf("APNs got %+v, want one empty push to the iPhone", pushes)
	}
	value, change := passMessage(t, w.passJSON(apple.serial))
	if !strings.HasPrefix(value, "Анна, дарим 50 баллов: https://k.ru/c/") || change != "%@" {
		t.Fatalf("pass message %q (changeMessage %q)", value, change)
	}
	texts := w.texts()
	if texts[apple.phone] != 0 || texts[silent.phone] != 0 || texts[texted.phone] != 1 || len(texts) != 1 {
		t.Fatalf("texts %v: only %s should be texted", texts, texted.phone)
	}
	msg := w.twilio.Messages()[0]
	if !strings.HasPrefix(msg.Text, "Анна, дарим 50 баллов: https://k.ru/c/") || msg.From != "+15005550006" {
		t.Fatalf("text %+v", msg)
	}
	// Each send records its channel and what it cost; the skip says why.
	for _, c := range []struct {
		serial, channel, status string
		cost                    int
	}{{apple.serial, "wallet", "sent", 0}, {texted.serial, "sms", "sent", 790 * sms.Count(msg.Text).Parts}, {silent.serial, "", "skipped", 0}} {
		if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE serial_number = ? AND channel = ? AND status = ? AND cost = ?`,
			c.serial, c.channel, c.status, c.cost); n != 1 {
			t.Errorf("%s: no message sent by %q with status %s and cost %d", c.serial, c.channel, c.status, c.cost)
		}
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE reason LIKE '%no advertising consent%'`); n != 1 {
		t.Error("the skipped message does not say it lacked consent")
	}
	// The bonus went with both messages, once.
	if n := w.count(`SELECT COUNT(*) FROM transactions WHERE reason = 'bonus: welcome' AND points = 50`); n != 2 {
		t.Errorf("%d bonus lines, want 2", n)
	}
	// A second round sends nothing more.
	if _, sent := e.round(t); len(sent) != 0 {
		t.Fatalf("second round sent %v", sent)
	}
	_ = a
}

// TestRestartSendsNothingTwice: an instance dies after claiming messages
// and handing some to the provider; after the restart the scheduler makes
// no message again, the sender sends the claimed ones never handed over,
// and fails, rather than resends, those that were.
func TestRestartSendsNothingTwice(t *testing.T) {
	w := newWorld(t, storetest.SQLiteURL(t))
	w.automation(store.Automation{Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, FrequencyCapDays: 14})
	w.clock.Advance(time.Minute)
	for i := range 30 {
		w.customer(phone(i), true)
	}
	first := w.engine(w.st)
	ctx := context.Background()
	if ev, err := first.scheduler.RunOnce(ctx); err != nil || ev.Messages != 30 {
		t.Fatalf("evaluation %+v %v", ev, err)
	}
	// The first instance claims 5, hands 2 texts to the provider and dies
	// before recording anything more.
	claimed, err := w.st.Automations().ClaimMessages(ctx, 5, time.Minute)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	for _, m := range claimed[:2] {
		if _, err := w.st.Automations().ReserveText(ctx, m, 14, 0); err != nil {
			t.Fatal(err)
		}
	}
	// The restart: a new store and engine on the same database, later.
	w.clock.Advance(time.Hour)
	restarted := w.open()
	second := w.engine(restarted)
	ev, sent := second.round(t)
	if ev.Messages != 0 {
		t.Fatalf("the restart made %d messages again", ev.Messages)
	}
	if sent["sms"] != 28 {
		t.Fatalf("sent %v, want the 25 not claimed before the crash and the 3 claimed but never handed over", sent)
	}
	for to, n := range w.texts() {
		if n != 1 {
			t.Fatalf("%s texted %d times", to, n)
		}
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE status = 'failed' AND reason LIKE 'interrupted%'`); n != 2 {
		t.Fatalf("%d messages failed as interrupted, want the 2 handed over", n)
	}
	if _, sent := second.round(t); len(sent) != 0 {
		t.Fatalf("a later round sent %v", sent)
	}
}

// TestTwoInstancesSendNothingTwice runs two instances' schedulers and
// senders at once on one database: every customer is texted once.
func TestTwoInstancesSendNothingTwice(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.URL(t))
			w.automation(store.Automation{Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, FrequencyCapDays: 14})
			w.clock.Advance(time.Minute)
			const n = 40
			for i := range n {
				w.customer(phone(i), true)
			}
			engines := []engine{w.engine(w.st), w.engine(w.open())}
			var wg sync.WaitGroup
			for _, e := range engines {
				wg.Go(func() {
					for range 3 {
						ctx := context.Background()
						if _, err := e.scheduler.RunOnce(ctx); err != nil {
							t.Error(err)
						}
						if _, err := e.sender.RunOnce(ctx, ctx); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			texts := w.texts()
			if len(texts) != n {
				t.Fatalf("%d customers texted, want %d", len(texts), n)
			}
			for to, k := range texts {
				if k != 1 {
					t.Fatalf("%s texted %d times", to, k)
				}
			}
			if k := w.count(`SELECT COUNT(*) FROM automation_messages`); k != n {
				t.Fatalf("%d messages, want %d", k, n)
			}
		})
	}
}

// TestQuietHoursCapAndBudget: at night nothing goes, it waits for the
// morning; a second automation within the frequency cap sends nothing;
// the SMS budget stops texts it cannot pay for.
func TestQuietHoursCapAndBudget(t *testing.T) {
	w := newWorld(t, storetest.SQLiteURL(t))
	ctx := context.Background()
	w.clock.Set(time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC)) // 22:00 in Moscow
	w.automation(store.Automation{Name: "welcome", Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, FrequencyCapDays: 14})
	w.automation(store.Automation{Name: "installed", Trigger: loyalty.Trigger{Type: loyalty.TriggerCardInstalled}, FrequencyCapDays: 14})
	if _, err := w.st.Automations().SetSMSBudget(ctx, w.merchant.ID, w.program.ID, 790*2); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	a := w.customer(phone(1), true)
	w.install(a, strings.Repeat("ab", 32))
	for i := 2; i <= 4; i++ {
		w.customer(phone(i), true)
	}
	e := w.engine(w.st)
	if ev, sent := e.round(t); ev.Messages != 5 || sent["postponed"] != 5 {
		t.Fatalf("at night: %+v %v, want 5 messages postponed", ev, sent)
	}
	w.clock.Set(time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)) // 9:00 in Moscow
	_, sent := e.round(t)
	// customer 1: one wallet message, the other capped; 2–4: two texts
	// in the budget (one segment each), the third skipped.
	if sent["wallet"] != 1 || sent["sms"] != 2 || sent["skipped"] != 2 {
		t.Fatalf("in the morning: %v", sent)
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE reason LIKE 'frequency cap%'`); n != 1 {
		t.Errorf("%d messages stopped by the cap, want 1", n)
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE reason LIKE '%budget is spent%'`); n != 1 {
		t.Errorf("%d messages stopped by the budget, want 1", n)
	}
	if b, _ := w.st.Automations().SMSBudget(ctx, w.merchant.ID, w.program.ID); b.Spent != 790*2 {
		t.Errorf("budget spent %d", b.Spent)
	}
}
