package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// TestKoshelekEndToEnd runs the whole integration over loopback HTTP: a
// customer the merchant already has is found by phone by the fake
// Кошелёк platform, issued into Кошелёк, earns points through the
// merchant API; the change reaches the fake Push API through the queue,
// Кошелёк's delivery statuses come back through the Callback API, and the
// next balance call shows the points, equal to the ledger.
func TestKoshelekEndToEnd(t *testing.T) {
	w := newKoshelekWorld(t)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	handler = api.New(api.Options{Stores: api.StoresOf(w.store), PublicURL: srv.URL, Development: true,
		Log:      slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Koshelek: api.KoshelekOptions{Box: w.box}}).Handler()
	merchant := func(method, path, body, idem string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.key)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, b)
		}
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}

	// The merchant turns the channel on and gives Cardsmobile the URLs.
	prog := merchant("POST", "/api/v1/programs", `{"name":"Кофейня «Зерно»","earn_rate_bp":500,"welcome_bonus":50}`, "")["id"].(string)
	p := merchant("PATCH", "/api/v1/programs/"+prog, `{"koshelek":{"login":"zerno","password":"Partner-pass-2024",
		"push_login":"shop-push","push_password":"push-secret"}}`, "")
	base := p["koshelek_base_url"].(string)
	if base != srv.URL+"/koshelek/"+prog {
		t.Fatalf("koshelek_base_url = %q", base)
	}
	w.push.AddAccount(koshelektest.Account{Login: "shop-push", Password: "push-secret",
		CallbackURL: p["koshelek"].(map[string]any)["push_callback_url"].(string), CallbackLogin: "zerno", CallbackPassword: "Partner-pass-2024"})
	platform := &koshelektest.Client{T: t, BaseURL: base, Login: "zerno", Pass: "Partner-pass-2024"}

	// A customer the merchant already has.
	serial := merchant("POST", "/api/v1/programs/"+prog+"/cards", `{"phone":"+79161234567","name":"Анна"}`, "")["serial_number"].(string)

	// Кошелёк finds the card by the phone and issues a copy of it.
	card, e := platform.Search(url.Values{"msisdn": {"79161234567"}})
	if e != nil || card == nil {
		t.Fatalf("search = %+v %+v", card, e)
	}
	if e := platform.UpdateProfile(card.CardNumber, map[string]string{"phone": "79161234567", "firstname": "Анна",
		"birthDate": "1991-02-03"}); e != nil {
		t.Fatalf("profile = %+v", e)
	}
	if e := platform.Communication(card.CardNumber, []string{"push", "email"}, []string{"sms"}); e != nil {
		t.Fatalf("communication = %+v", e)
	}
	installs := merchant("GET", "/api/v1/cards/"+serial, "", "")["installs"].([]any)
	if len(installs) != 1 || installs[0].(map[string]any)["channel"] != "koshelek" || installs[0].(map[string]any)["installed"].(float64) != 1 {
		t.Fatalf("installs = %v", installs)
	}

	// Points through the merchant API reach the holder through the queue.
	merchant("POST", "/api/v1/cards/"+serial+"/transactions", `{"kind":"earn","purchase_amount":250000}`, "e2e-earn-1")
	w.drain()
	got := w.push.Received()
	if len(got) != 1 || got[0].MSISDN != "79161234567" || got[0].Text != "Начислено 125\u00a0баллов. Баланс: 175\u00a0баллов" ||
		!got[0].StatusCallbacks {
		t.Fatalf("push = %+v", got)
	}

	// Кошелёк reports delivery and opening; a stranger's report changes nothing.
	ctx := context.Background()
	stranger := *platform
	stranger.Pass = "wrong-password-123"
	if status, err := w.push.Deliver(ctx, got[0].MessageID); err != nil || status != 200 {
		t.Fatalf("DELIVERED callback = %d %v", status, err)
	}
	if a := stranger.Do("POST", "/push-callback", nil, koshelek.Callback{MessageID: got[0].MessageID, State: "OPENED"}, ""); a.Status != 422 {
		t.Fatalf("a callback with the wrong password = %d", a.Status)
	}
	view := merchant("GET", "/api/v1/cards/"+serial+"/koshelek", "", "")
	msg := view["messages"].([]any)[0].(map[string]any)
	if msg["state"] != "DELIVERED" || msg["delivered_at"] == nil || msg["opened_at"] != nil || msg["type"] != "TRANSACTION" {
		t.Fatalf("after DELIVERED: %v", msg)
	}
	// Another program's login cannot move this program's message.
	other := merchant("POST", "/api/v1/programs", `{"name":"Другая"}`, "")["id"].(string)
	merchant("PATCH", "/api/v1/programs/"+other, `{"koshelek":{"login":"other","password":"Other-pass-2024"}}`, "")
	otherPlatform := &koshelektest.Client{T: t, BaseURL: srv.URL + "/koshelek/" + other, Login: "other", Pass: "Other-pass-2024"}
	if a := otherPlatform.Do("POST", "/push-callback/v1/status", nil, []koshelek.Callback{{MessageID: got[0].MessageID,
		State: "OPENED"}}, ""); a.Status != 200 {
		t.Fatalf("another program's callback = %d %s", a.Status, a.Body)
	}
	if msg := merchant("GET", "/api/v1/cards/"+serial+"/koshelek", "", "")["messages"].([]any)[0].(map[string]any); msg["state"] != "DELIVERED" {
		t.Fatalf("another program's callback moved the message to %v", msg["state"])
	}
	if status, err := w.push.Open(ctx, got[0].MessageID); err != nil || status != 200 {
		t.Fatalf("OPENED callback = %d %v", status, err)
	}
	msg = merchant("GET", "/api/v1/cards/"+serial+"/koshelek", "", "")["messages"].([]any)[0].(map[string]any)
	if msg["state"] != "OPENED" || msg["opened_at"] == nil {
		t.Fatalf("after OPENED: %v", msg)
	}

	// The next balance call shows the points, as the ledger sums them.
	card, e = platform.Card(card.CardNumber)
	var ledger int64
	w.db.QueryRow(`SELECT SUM(points) FROM transactions WHERE serial_number = ?`, serial).Scan(&ledger)
	if e != nil || card.Bonus.Total != "175" || ledger != 175 {
		t.Fatalf("balance = %+v %+v, ledger %d", card, e, ledger)
	}

	// A new customer issued by Кошелёк itself gets the welcome bonus.
	issued, e := platform.Issue(map[string]string{"phone": "79167654321", "firstname": "Борис"})
	if e != nil {
		t.Fatal(e)
	}
	if c, e := platform.Card(issued.CardNumber); e != nil || c.Bonus.Total != "50" {
		t.Fatalf("new card = %+v %+v", c, e)
	}
}
