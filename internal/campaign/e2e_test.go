package campaign_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/certs/certstest"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/campaign"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func material(t *testing.T) *certs.Material {
	_, m := certstest.Chain(t)
	return m
}

// env is a server on loopback (callbacks need a real URL), its store,
// the fake providers and a clock.
type env struct {
	t      *testing.T
	store  *store.Store
	url    string
	key    string
	clock  *clock
	twilio *smstest.Twilio
	smsru  *smstest.SMSRu
	path   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{}}
	// Noon in Moscow: outside the default quiet hours (21–9).
	e.clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e.path = filepath.Join(t.TempDir(), "c.db")
	st, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + e.path, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	m := material(t)
	handler = api.New(api.Options{Stores: api.StoresOf(st), PublicURL: srv.URL, PassTypeID: m.PassTypeID,
		Passes: cardpass.New(cardpass.StoreOf(st), passes.NewRenderer(m, srv.URL+"/wallet"), nil),
		SMS: api.SMSOptions{Providers: []string{"log", "smsru", "twilio"}, DefaultProvider: "twilio",
			TwilioAuthToken: "twilio-token", CallbackSecret: "s3cret"}}).Handler()
	e.twilio = smstest.NewTwilio(t, "AC0123456789abcdef0123456789abcdef", "twilio-token")
	e.smsru = smstest.NewSMSRu(t, "smsru-api-id")

	mer, _, _ := st.Merchants().EnsureMerchant(context.Background(), "shop", "RU")
	k := apikey.New()
	if err := st.Merchants().CreateAPIKey(context.Background(), store.APIKey{ID: k.ID, MerchantID: mer.ID, SecretHash: k.Hash()}); err != nil {
		t.Fatal(err)
	}
	e.key = k.String()
	return e
}

func (e *env) call(method, path string, body any, header ...string) (int, map[string]any) {
	e.t.Helper()
	var raw string
	if body != nil {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (e *env) must(want int, method, path string, body any, header ...string) map[string]any {
	e.t.Helper()
	code, out := e.call(method, path, body, header...)
	if code != want {
		e.t.Fatalf("%s %s = %d, want %d: %v", method, path, code, want, out)
	}
	return out
}

func (e *env) sender() *campaign.Sender { return e.senderWith(nil) }

// senderWith is sender with {points} worded from texts (nil: shipped).
func (e *env) senderWith(texts *locale.Catalogue) *campaign.Sender {
	twilio, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: e.twilio.URL, AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken: "twilio-token", From: "+15005550006"})
	if err != nil {
		e.t.Fatal(err)
	}
	smsru, err := sms.NewSMSRu(sms.SMSRuConfig{BaseURL: e.smsru.URL, APIID: "smsru-api-id"})
	if err != nil {
		e.t.Fatal(err)
	}
	return campaign.New(campaign.Options{Store: campaign.StoreOf(e.store), ShortURL: e.url, Now: e.clock.Now,
		StatusCallback: e.url + "/hooks/sms/twilio",
		Providers:      map[string]sms.Provider{"twilio": twilio, "smsru": smsru}, Texts: texts})
}

// customers makes n customers with cards: every one bought 200 days ago,
// the last `recent` of them again 10 days ago; all consented but one.
func (e *env) customers(prog string, n, recent int) []string {
	e.t.Helper()
	var phones []string
	start := e.clock.Now()
	e.clock.Set(start.Add(-200 * 24 * time.Hour))
	serials := make([]string, n)
	for i := range n {
		phone := fmt.Sprintf("+7912000%04d", i)
		phones = append(phones, phone)
		card := e.must(201, "POST", "/api/v1/programs/"+prog+"/cards", map[string]any{"phone": phone,
			"name": fmt.Sprintf("Клиент %d", i), "sms_consent": i != 0})
		serials[i] = card["serial_number"].(string)
		e.must(201, "POST", "/api/v1/cards/"+serials[i]+"/transactions", map[string]any{"kind": "earn", "purchase_amount": 100000},
			"Idempotency-Key", "old-"+phone)
	}
	e.clock.Set(start.Add(-10 * 24 * time.Hour))
	for i := n - recent; i < n; i++ {
		e.must(201, "POST", "/api/v1/cards/"+serials[i]+"/transactions", map[string]any{"kind": "earn", "purchase_amount": 50000},
			"Idempotency-Key", "recent-"+phones[i])
	}
	e.clock.Set(start)
	return phones
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}
