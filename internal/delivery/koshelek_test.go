package delivery_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// koshelekWorld is the world with a fake Push API and a worker that has
// the «Кошелёк» channel.
type koshelekWorld struct {
	*world
	push *koshelektest.Server
	box  *credential.Box
}

func newKoshelekWorld(t *testing.T) *koshelekWorld {
	t.Helper()
	w := &koshelekWorld{world: newWorld(t, time.Second), push: koshelektest.NewServer(t)}
	w.push.AddAccount(koshelektest.Account{Login: "shop-push", Password: "push-secret"})
	var err error
	if w.box, err = credential.NewBox(bytes.Repeat([]byte{3}, credential.KeySize)); err != nil {
		t.Fatal(err)
	}
	client, err := koshelek.New(koshelek.Options{BaseURL: w.push.URL, Outbound: netguardtest.Loopback(), PerMinute: 60000})
	if err != nil {
		t.Fatal(err)
	}
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), MaxAttempts: 3, Now: w.clock.Now,
		Backoff: func(int) time.Duration { return time.Minute },
		Channels: []delivery.Channel{delivery.NewKoshelek(delivery.KoshelekOptions{Store: w.store.Koshelek(),
			Sender: client, Box: w.box, StatusCallbacks: true, Now: w.clock.Now})}})
	return w
}

// issueIntoKoshelek makes a program that sends through the Push API
// account and a card issued into Кошелёк for phone; it returns the serial.
func (w *koshelekWorld) issueIntoKoshelek(phone, pushPassword string) (serial, program string) {
	w.t.Helper()
	return w.issueKindIntoKoshelek(`{"name":"Кофейня «Зерно»","earn_rate_bp":1000}`, phone, pushPassword)
}

// issueKindIntoKoshelek is issueIntoKoshelek for a program made of body.
func (w *koshelekWorld) issueKindIntoKoshelek(body, phone, pushPassword string) (serial, program string) {
	w.t.Helper()
	program = w.merchant("POST", "/api/v1/programs", body, "")["id"].(string)
	ctx := context.Background()
	var merchantID string
	w.db.QueryRow(`SELECT merchant_id FROM programs WHERE id = ?`, program).Scan(&merchantID)
	_, _, err := w.store.Koshelek().UpdateProgram(ctx, merchantID, program, nil, func(ks *store.KoshelekSettings) error {
		hash, err := password.Hash("partner-password", password.DefaultParams())
		ks.Enabled, ks.Login, ks.PasswordHash = true, "shop", hash
		ks.PushLogin, ks.PushPassword = "shop-push", w.box.Seal(pushPassword, program)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	card, _, _, err := w.store.Koshelek().Issue(ctx, program, store.KoshelekProfile{Phone: phone})
	if err != nil {
		w.t.Fatal(err)
	}
	return card.SerialNumber, program
}

// TestKoshelekPointsReachTheHolderThroughTheQueue earns on a card that
// lives in Кошелёк and sees the message at the fake Push API, then a
// passing failure retried through a push.retry row that names the card,
// not the phone, then a lock-screen message as a PROMO one.
func TestKoshelekPointsReachTheHolderThroughTheQueue(t *testing.T) {
	w := newKoshelekWorld(t)
	serial, _ := w.issueIntoKoshelek("+79161234567", "push-secret")
	w.drain()
	if got := w.push.Received(); len(got) != 0 {
		t.Fatalf("issuing sent %+v", got)
	}

	w.earn(serial, "k-earn-1", "100000") // 10% of 1,000.00
	w.drain()
	got := w.push.Received()
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	m := got[0]
	if m.PushType != koshelek.Transaction || m.MSISDN != "79161234567" || m.Title != "Кофейня «Зерно»" ||
		m.Text != "Начислено 100\u00a0баллов. Баланс: 100\u00a0баллов" || m.Target != "card" || !m.StatusCallbacks {
		t.Fatalf("message = %+v", m)
	}
	var state, body string
	var sentVersion, version int64
	w.db.QueryRow(`SELECT state, body FROM koshelek_messages WHERE message_id = ?`, m.MessageID).Scan(&state, &body)
	w.db.QueryRow(`SELECT k.sent_version, c.version FROM koshelek_cards k JOIN cards c USING (serial_number)
		WHERE serial_number = ?`, serial).Scan(&sentVersion, &version)
	if state != "ENQUEUED" || body != m.Text || sentVersion != version {
		t.Fatalf("stored message %q %q, sent version %d of %d", state, body, sentVersion, version)
	}

	// Кошелёк is down once: the change waits as a retry of the card.
	w.push.FailNext(koshelektest.Fault{Status: 503, Body: `{"description":"maintenance"}`})
	w.merchant("POST", "/api/v1/cards/"+serial+"/transactions", `{"kind":"redeem","points":30}`, "k-redeem-1")
	w.drain()
	var payload, lastErr string
	if err := w.db.QueryRow(`SELECT payload, last_error FROM outbox WHERE topic = 'push.retry' AND done_at IS NULL`).
		Scan(&payload, &lastErr); err != nil || payload != `{"channel":"koshelek","token":"`+serial+`"}` ||
		!strings.Contains(lastErr, "HTTP 503: maintenance") || strings.Contains(payload, "7916") {
		t.Fatalf("retry row %q %q, %v", payload, lastErr, err)
	}
	w.clock.Advance(2 * time.Minute)
	w.drain()
	if got := w.push.Received(); len(got) != 2 || got[1].Text != "Списано 30\u00a0баллов. Баланс: 70\u00a0баллов" {
		t.Fatalf("after the retry: %+v", got)
	}

	// The merchant's lock-screen message goes as a PROMO message.
	w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"Сегодня кофе за полцены до 12:00"}`, "")
	w.drain()
	got = w.push.Received()
	if len(got) != 3 || got[2].PushType != koshelek.Promo || got[2].Text != "Сегодня кофе за полцены до 12:00" {
		t.Fatalf("lock-screen message: %+v", got[len(got)-1])
	}
	var pending int
	w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND NOT dead`).Scan(&pending)
	if pending != 0 {
		t.Fatalf("%d outbox rows left", pending)
	}
}

// TestKoshelekFailuresEndAsDeadLetters keeps the Push API failing: the
// retries stop after their attempts and the merchant sees a dead letter;
// a refused login is a dead letter at once.
func TestKoshelekFailuresEndAsDeadLetters(t *testing.T) {
	w := newKoshelekWorld(t)
	serial, _ := w.issueIntoKoshelek("+79161234567", "push-secret")
	w.push.FailNext(koshelektest.Fault{Status: 500}, koshelektest.Fault{Status: 502}, koshelektest.Fault{Status: 503},
		koshelektest.Fault{Status: 503})
	w.earn(serial, "k-earn-1", "100000")
	for range 4 {
		w.drain()
		w.clock.Advance(2 * time.Minute)
	}
	letters := w.merchant("GET", "/api/v1/dead-letters", "", "")["dead_letters"].([]any)
	if len(letters) != 1 {
		t.Fatalf("dead letters = %v", letters)
	}
	l := letters[0].(map[string]any)
	if l["serial_number"] != serial || !strings.Contains(l["last_error"].(string), "gave up after retries: HTTP 50") {
		t.Fatalf("dead letter = %v", l)
	}
	if len(w.push.Received()) != 0 {
		t.Fatal("a message went through a failing Push API")
	}

	// The wrong Push API password: dead at once, nothing retried.
	other, _ := w.issueIntoKoshelek("+79161234568", "wrong-secret")
	w.earn(other, "k-earn-2", "100000")
	w.drain()
	var dead int
	var lastErr string
	w.db.QueryRow(`SELECT COUNT(*), MAX(last_error) FROM outbox WHERE dead AND serial_number = ?`, other).Scan(&dead, &lastErr)
	if dead != 1 || !strings.Contains(lastErr, "HTTP 401") {
		t.Fatalf("wrong password: %d dead letters, %q", dead, lastErr)
	}
}

// TestKoshelekUnknownPhoneEndsTheInstall: the Push API no longer knows
// the holder, so the card leaves Кошелёк (an uninstall) and is not sent
// to again.
func TestKoshelekUnknownPhoneEndsTheInstall(t *testing.T) {
	w := newKoshelekWorld(t)
	serial, _ := w.issueIntoKoshelek("+79161234567", "push-secret")
	w.push.Register("79990000000") // not the holder
	w.earn(serial, "k-earn-1", "100000")
	w.drain()
	card := w.merchant("GET", "/api/v1/cards/"+serial, "", "")
	installs := card["installs"].([]any)
	if len(installs) != 1 || installs[0].(map[string]any)["channel"] != "koshelek" ||
		installs[0].(map[string]any)["uninstalled"].(float64) != 1 {
		t.Fatalf("installs = %v", installs)
	}
	before := w.push.Attempts()
	w.earn(serial, "k-earn-2", "100000")
	w.drain()
	if w.push.Attempts() != before {
		t.Fatal("a card out of Кошелёк was sent to again")
	}
}

// TestKoshelekConsentAndVoidDecideWhatIsSent: a holder who denied "push"
// gets balance messages but not the merchant's; a voided card gets
// nothing.
func TestKoshelekConsentAndVoidDecideWhatIsSent(t *testing.T) {
	w := newKoshelekWorld(t)
	serial, program := w.issueIntoKoshelek("+79161234567", "push-secret")
	var number string
	w.db.QueryRow(`SELECT number FROM cards WHERE serial_number = ?`, serial).Scan(&number)
	if _, _, err := w.store.Koshelek().Communication(context.Background(), program, number,
		[]store.KoshelekConsent{{Channel: "push", Granted: false}}, `{"deny":["push"]}`); err != nil {
		t.Fatal(err)
	}
	w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"Скидка"}`, "")
	w.earn(serial, "k-earn-1", "100000")
	w.drain()
	got := w.push.Received()
	if len(got) != 1 || got[0].PushType != koshelek.Transaction {
		t.Fatalf("received %+v; want the balance only", got)
	}
	w.merchant("POST", "/api/v1/cards/"+serial+"/void", "", "")
	w.drain()
	if len(w.push.Received()) != 1 {
		t.Fatal("a voided card was sent a message")
	}
}
