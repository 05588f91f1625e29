package automation_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/certs/certstest"
	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
	"github.com/loyalpass/loyalpass/internal/store"
	_ "github.com/loyalpass/loyalpass/internal/store/storetest" // registers the "pgx" driver
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// world is a store, a fake APNs behind the real delivery worker, a fake
// Twilio behind the real SMS adapter, and a clock: what an automation
// needs to reach a phone.
type world struct {
	t        *testing.T
	url      string // the database
	st       *store.Store
	clock    *clock
	apns     *apnstest.Server
	twilio   *smstest.Twilio
	worker   *delivery.Worker
	passes   *cardpass.Service
	typeID   string
	merchant store.Merchant
	program  loyalty.Program
}

// noon is 12:00 in Moscow, outside the default quiet hours (21–9).
var noon = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, url string) *world {
	t.Helper()
	w := &world{t: t, url: url, clock: &clock{}}
	w.clock.Set(noon)
	w.st = w.open()
	files, material := certstest.Chain(t)
	roots := x509.NewCertPool()
	roots.AddCert(material.Intermediate)
	rootPEM, _ := os.ReadFile(files.Root)
	roots.AppendCertsFromPEM(rootPEM)
	w.apns = apnstest.NewServer(t, apnstest.WithClientCAs(roots))
	cert := material.TLSCertificate()
	client, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: w.apns.URL,
		RootCAs: w.apns.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.st), Apple: client, PassTypeID: material.PassTypeID,
		Now: w.clock.Now})
	w.typeID = material.PassTypeID
	w.passes = cardpass.New(cardpass.StoreOf(w.st), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil)
	w.twilio = smstest.NewTwilio(t, "AC0123456789abcdef0123456789abcdef", "twilio-token")
	ctx := context.Background()
	w.merchant, _, _ = w.st.Merchants().EnsureMerchant(ctx, "shop", "RU")
	w.program = loyalty.Program{MerchantID: w.merchant.ID, Name: "Кофейня", CurrencyLabel: "баллы", EarnRateBP: 500,
		BarcodeFormat: "qr", Locale: "ru"}
	if err := w.st.Programs().CreateProgram(ctx, &w.program); err != nil {
		t.Fatal(err)
	}
	return w
}

// open opens another store on the world's database: a restart, or a
// second instance.
func (w *world) open() *store.Store {
	w.t.Helper()
	st, err := store.Open(context.Background(), store.Options{URL: w.url, Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	return st
}

// engine is one instance's scheduler and sender on st.
type engine struct {
	scheduler *automation.Scheduler
	sender    *automation.Sender
}

func (w *world) engine(st *store.Store) engine {
	w.t.Helper()
	twilio, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: w.twilio.URL, AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken: "twilio-token", From: "+15005550006"})
	if err != nil {
		w.t.Fatal(err)
	}
	s := automation.StoreOf(st)
	return engine{
		scheduler: automation.NewScheduler(automation.SchedulerOptions{Store: s, Now: w.clock.Now}),
		sender: automation.NewSender(automation.SenderOptions{Store: s, ShortURL: "https://k.ru", Now: w.clock.Now,
			Prices: outreach.Prices{"twilio": 790},
			Texter: &outreach.Texter{Providers: map[string]sms.Provider{"twilio": twilio}, Now: w.clock.Now}}),
	}
}

// round evaluates and sends once.
func (e engine) round(t *testing.T) (automation.Evaluation, automation.Sent) {
	t.Helper()
	ctx := context.Background()
	ev, err := e.scheduler.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := e.sender.RunOnce(ctx, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev, sent
}

type customer struct {
	phone, serial, id string
}

// customer issues a card; consent says whether they agreed to texts.
func (w *world) customer(phone string, consent bool) customer {
	w.t.Helper()
	c, _, err := w.st.Cards().IssueCard(context.Background(), store.IssueCard{MerchantID: w.merchant.ID, ProgramID: w.program.ID,
		Phone: phone, Name: "Анна", SMSConsent: &consent})
	if err != nil {
		w.t.Fatal(err)
	}
	return customer{phone: phone, serial: c.SerialNumber, id: c.CustomerID}
}

// install registers the card on an iPhone whose push token is token.
func (w *world) install(c customer, token string) {
	w.t.Helper()
	if _, err := w.st.Devices().Register(context.Background(), store.Registration{DeviceID: "dev-" + token,
		PassTypeID: w.typeID, SerialNumber: c.serial, PushToken: token, Channel: store.ChannelApple}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) automation(a store.Automation) store.Automation {
	w.t.Helper()
	a.MerchantID, a.ProgramID = w.merchant.ID, w.program.ID
	defaults := store.Automation{Name: "welcome", Timezone: "Europe/Moscow", QuietStart: 21, QuietEnd: 9,
		PurchaseWindowDays: 14, Provider: "twilio",
		Variants: []store.Variant{{Text: "{name}, дарим {points}: {link}", BonusKind: loyalty.BonusPoints, Bonus: 50}}}
	if a.Name == "" {
		a.Name = defaults.Name
	}
	if a.Timezone == "" {
		a.Timezone, a.QuietStart, a.QuietEnd = defaults.Timezone, defaults.QuietStart, defaults.QuietEnd
	}
	if a.PurchaseWindowDays == 0 {
		a.PurchaseWindowDays = defaults.PurchaseWindowDays
	}
	if a.Provider == "" {
		a.Provider = defaults.Provider
	}
	if a.Variants == nil {
		a.Variants = defaults.Variants
	}
	if err := w.st.Automations().CreateAutomation(context.Background(), &a); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// count runs a COUNT query ("?" placeholders) on a connection of its own.
func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	driver, dsn := "sqlite3", "file:"+strings.TrimPrefix(w.url, "sqlite:")+"?mode=ro&_busy_timeout=5000"
	if store.IsPostgresURL(w.url) {
		driver, dsn = "pgx", w.url
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// drain runs the delivery worker until the outbox is empty.
func (w *world) drain() {
	w.t.Helper()
	for range 20 {
		n, err := w.worker.RunOnce(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	w.t.Fatal("the outbox never drained")
}

// passJSON renders the card's current pass and returns its pass.json.
func (w *world) passJSON(serial string) string {
	w.t.Helper()
	card, err := w.st.Cards().Card(context.Background(), w.merchant.ID, serial)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := w.passes.Pass(context.Background(), card)
	if err != nil {
		w.t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(p.Data), int64(len(p.Data)))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "pass.json" {
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			r.Close()
			return string(b)
		}
	}
	w.t.Fatal("no pass.json")
	return ""
}

// texts counts the fake Twilio's texts per recipient.
func (w *world) texts() map[string]int {
	out := map[string]int{}
	for _, m := range w.twilio.Messages() {
		out[m.To]++
	}
	return out
}

func phone(i int) string { return fmt.Sprintf("+7912%07d", i) }

// passMessage returns the back field of a pass.json that carries the
// card's message and its changeMessage: what the lock screen shows.
func passMessage(t *testing.T, passJSON string) (value, changeMessage string) {
	t.Helper()
	var p struct {
		StoreCard struct {
			BackFields []struct {
				Value         any    `json:"value"`
				ChangeMessage string `json:"changeMessage"`
			} `json:"backFields"`
		} `json:"storeCard"`
	}
	if err := json.Unmarshal([]byte(passJSON), &p); err != nil {
		t.Fatal(err)
	}
	for _, f := range p.StoreCard.BackFields {
		if f.ChangeMessage == "%@" {
			s, _ := f.Value.(string)
			return s, f.ChangeMessage
		}
	}
	return "", ""
}
