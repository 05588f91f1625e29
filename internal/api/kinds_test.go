package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/couponissue"
)

// TestProgramKinds creates a program of each kind and reads back its
// settings; every kind's rules refuse with 422 naming the field.
func TestProgramKinds(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("kinds")
	until := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	created := []struct {
		body  map[string]any
		check map[string]any
	}{
		{map[string]any{"name": "Кофе", "kind": "stamps", "stamps_required": 6, "reward": "Булочка в подарок"},
			map[string]any{"kind": "stamps", "stamps_required": 6.0, "reward": "Булочка в подарок", "earn_rate_bp": 0.0}},
		{map[string]any{"name": "Скидки", "kind": "discount", "discount_percent": 5, "tier_basis": "spend",
			"tiers": []any{map[string]any{"code": "base", "name": "Базовый"}, map[string]any{"code": "gold", "name": "Золотой",
				"threshold": 1000000, "discount_percent": 10}}},
			map[string]any{"kind": "discount", "discount_percent": 5.0, "tier_basis": "spend"}},
		{map[string]any{"name": "Купон", "kind": "coupon", "offer": "−20% на всё", "valid_days": 30},
			map[string]any{"kind": "coupon", "offer": "−20% на всё", "valid_days": 30.0}},
		{map[string]any{"name": "Купон к дате", "kind": "coupon", "offer": "−10%", "valid_until": until},
			map[string]any{"kind": "coupon", "valid_until": until}},
		{map[string]any{"name": "Сертификат", "kind": "gift", "currency": "RUB"}, map[string]any{"kind": "gift", "currency": "RUB"}},
		{map[string]any{"name": "Сертификат без валюты", "kind": "gift"}, map[string]any{"kind": "gift", "currency": "RUB"}},
		{map[string]any{"name": "Баллы"}, map[string]any{"kind": "points", "earn_rate_bp": 500.0}},
	}
	for _, c := range created {
		p := ts.mustDo(201, "POST", "/api/v1/programs", key, c.body)
		for k, v := range c.check {
			if p[k] != v {
				t.Errorf("%v: %s = %v, want %v", c.body["name"], k, p[k], v)
			}
		}
	}
	stamps := ts.mustDo(201, "POST", "/api/v1/programs", key, created[0].body)["id"].(string)

	refusals := []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "lottery"}, ""}, // the enum: 400 or 422
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "stamps", "reward": "Кофе"}, "stamps_required"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "stamps", "stamps_required": 21, "reward": "Кофе"}, "stamps_required"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "stamps", "stamps_required": 6}, "reward"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "stamps", "stamps_required": 6, "reward": "Кофе",
			"earn_rate_bp": 500}, "earn_rate_bp"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "stamps_required": 6}, "stamps_required"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "discount", "discount_percent": 101}, ""},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "discount", "tier_basis": "points",
			"tiers": []any{map[string]any{"code": "a", "name": "A"}}}, "tier_basis"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "coupon", "offer": "−20%"}, "valid_days"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "coupon", "offer": "−20%", "valid_days": 5,
			"valid_until": until}, "valid_until"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "coupon", "offer": "−20%",
			"valid_until": "2020-01-01T00:00:00Z"}, "valid_until"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "coupon", "valid_days": 5}, "offer"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "gift", "currency": "XYZ"}, "currency"},
		{"POST", "/api/v1/programs", map[string]any{"name": "x", "kind": "gift", "welcome_bonus": 10}, "welcome_bonus"},
		{"PATCH", "/api/v1/programs/" + stamps, map[string]any{"kind": "gift"}, "kind"},
		{"PATCH", "/api/v1/programs/" + stamps, map[string]any{"stamps_required": 1}, "stamps_required"},
		{"PATCH", "/api/v1/programs/" + stamps, map[string]any{"offer": "x"}, "offer"},
	}
	for _, r := range refusals {
		res := ts.do(r.method, r.path, key, r.body)
		code, field := res.errorOf(t)
		if r.field == "" {
			if res.Code != 400 && res.Code != 422 {
				t.Errorf("%s %v = %d", r.method, r.body, res.Code)
			}
			continue
		}
		if res.Code != 422 || field != r.field {
			t.Errorf("%s %v = %d %s on %q, want 422 on %q\n%s", r.method, r.body, res.Code, code, field, r.field, res.Body.String())
		}
	}
	// A PATCH may change a kind's settings and repeat its kind.
	p := ts.mustDo(200, "PATCH", "/api/v1/programs/"+stamps, key, map[string]any{"kind": "stamps", "stamps_required": 8})
	if p["stamps_required"] != 8.0 || p["version"] != 2.0 {
		t.Errorf("patched stamps program %v", p)
	}
}

// txn posts a transaction body with a fresh key.
func (ts *testServer) txn(key, serial, body string) response {
	ts.t.Helper()
	return ts.post(key, serial, fmt.Sprint("k-", time.Now().UnixNano()), body)
}

func cardOf(t *testing.T, res response) map[string]any {
	t.Helper()
	if res.Code != 201 {
		t.Fatalf("transaction = %d %s", res.Code, res.Body.String())
	}
	return res.json(t)["card"].(map[string]any)
}

func wantError(t *testing.T, res response, status int, code, field string) {
	t.Helper()
	c, f := res.errorOf(t)
	if res.Code != status || c != code || f != field {
		t.Errorf("got %d %s on %q, want %d %s on %q\n%s", res.Code, c, f, status, code, field, res.Body.String())
	}
}

func TestStampTransactions(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("stamps")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Кофе", "kind": "stamps",
		"stamps_required": 3, "reward": "Кофе в подарок", "stamp_min_purchase": 10000})["id"].(string)
	serial := ts.card(key, prog, "+79123456789")

	wantError(t, ts.txn(key, serial, `{"kind":"stamp"}`), 422, "invalid_field", "purchase_amount")
	c := cardOf(t, ts.txn(key, serial, `{"kind":"stamp","count":2,"purchase_amount":20000}`))
	if c["kind"] != "stamps" || c["stamps"] != 2.0 || c["rewards_available"] != 0.0 || c["stamps_required"] != 3.0 {
		t.Fatalf("after 2 stamps: %v", c)
	}
	res := ts.txn(key, serial, `{"kind":"stamp","count":2,"purchase_amount":25000}`)
	c = cardOf(t, res)
	line := res.json(t)["transaction"].(map[string]any)
	if c["stamps"] != 1.0 || c["rewards_available"] != 1.0 || line["rewards"] != 1.0 || line["points"] != -1.0 {
		t.Fatalf("after 4 stamps of 3: card %v, line %v", c, line)
	}
	if c := cardOf(t, ts.txn(key, serial, `{"kind":"redeem_reward"}`)); c["rewards_available"] != 0.0 || c["stamps"] != 1.0 {
		t.Fatalf("after the reward: %v", c)
	}
	wantError(t, ts.txn(key, serial, `{"kind":"redeem_reward"}`), 409, "no_reward", "kind")
	wantError(t, ts.txn(key, serial, `{"kind":"earn","purchase_amount":100}`), 422, "invalid_field", "kind")
	wantError(t, ts.txn(key, serial, `{"kind":"stamp","count":101}`), 422, "invalid_field", "count")
	wantError(t, ts.txn(key, serial, `{"kind":"stamp","amount":5}`), 422, "invalid_field", "amount")

	// A retried stamp is applied once.
	first := ts.post(key, serial, "same-stamp", `{"kind":"stamp","purchase_amount":10000}`)
	again := ts.post(key, serial, "same-stamp", `{"kind":"stamp","purchase_amount":10000}`)
	if first.Code != 201 || again.Code != 201 || again.Header().Get("Idempotent-Replayed") != "true" ||
		cardOf(t, again)["stamps"] != 2.0 {
		t.Fatalf("replay: %d %d %s", first.Code, again.Code, again.Body.String())
	}
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil); c["stamps"] != 2.0 || c["rewards_available"] != 0.0 {
		t.Errorf("card %v", c)
	}
	ts.assertLedgerBalances()
}

func TestDiscountTransactionsAndLookup(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("discount")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Скидки", "kind": "discount",
		"discount_percent": 5, "tiers": []any{map[string]any{"code": "base", "name": "Базовый"},
			map[string]any{"code": "gold", "name": "Золотой", "threshold": 1000000, "discount_percent": 10}}})["id"].(string)
	serial := ts.card(key, prog, "+79123456789")
	number := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil)["number"].(string)
	lookup := func() map[string]any {
		return ts.mustDo(200, "GET", "/api/v1/cards?number="+number, key, nil)["cards"].([]any)[0].(map[string]any)
	}
	if c := lookup(); c["discount_percent"] != 5.0 || c["tier"] != "base" {
		t.Fatalf("new discount card %v", c)
	}
	res := ts.txn(key, serial, `{"kind":"purchase","purchase_amount":1000000}`)
	if c := cardOf(t, res); c["discount_percent"] != 10.0 || c["tier"] != "gold" || c["balance"] != 0.0 {
		t.Fatalf("after 10,000.00: %v", c)
	}
	if c := lookup(); c["discount_percent"] != 10.0 {
		t.Errorf("POS lookup %v", c)
	}
	purchase := res.json(t)["transaction"].(map[string]any)["id"].(string)
	if c := cardOf(t, ts.txn(key, serial, `{"kind":"refund","transaction_id":"`+purchase+`","purchase_amount":500000}`)); c["lifetime_spend"] != 500000.0 {
		t.Errorf("after a half refund: %v", c)
	}
	wantError(t, ts.txn(key, serial, `{"kind":"purchase"}`), 422, "invalid_field", "purchase_amount")
	wantError(t, ts.txn(key, serial, `{"kind":"redeem","points":1}`), 422, "invalid_field", "kind")
	wantError(t, ts.do("GET", "/api/v1/programs/"+prog+"/liability", key, nil), 409, "no_liability", "")
}

func TestCouponTransactions(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("coupon")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Купон", "kind": "coupon",
		"offer": "−20% на всё", "valid_days": 30})["id"].(string)
	c := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789"})
	until, err := time.Parse(time.RFC3339, c["valid_until"].(string))
	if err != nil || c["coupon_state"] != "active" || c["balance"] != 1.0 || time.Until(until) < 29*24*time.Hour {
		t.Fatalf("new coupon %v", c)
	}
	serial := c["serial_number"].(string)
	if c := cardOf(t, ts.txn(key, serial, `{"kind":"redeem_coupon"}`)); c["coupon_state"] != "redeemed" || c["redeemed_at"] == nil {
		t.Fatalf("redeemed coupon %v", c)
	}
	wantError(t, ts.txn(key, serial, `{"kind":"redeem_coupon"}`), 409, "coupon_redeemed", "")
	wantError(t, ts.do("POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456780",
		"initial_amount": 100}), 422, "invalid_field", "initial_amount")
}

func TestGiftTransactionsAndLiability(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("gift")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Сертификат", "kind": "gift", "currency": "RUB"})["id"].(string)
	c := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789", "initial_amount": 300000})
	if c["balance"] != 300000.0 || c["currency"] != "RUB" || c["kind"] != "gift" {
		t.Fatalf("new gift card %v", c)
	}
	serial := c["serial_number"].(string)
	wantError(t, ts.do("POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789",
		"initial_amount": 1000}), 409, "card_exists", "phone")
	if c := cardOf(t, ts.txn(key, serial, `{"kind":"spend","amount":120000}`)); c["balance"] != 180000.0 {
		t.Fatalf("after spending: %v", c)
	}
	wantError(t, ts.txn(key, serial, `{"kind":"spend","amount":180001}`), 409, "insufficient_funds", "amount")
	if c := cardOf(t, ts.txn(key, serial, `{"kind":"load","amount":20000,"reason":"top-up"}`)); c["balance"] != 200000.0 {
		t.Fatalf("after loading: %v", c)
	}
	wantError(t, ts.txn(key, serial, `{"kind":"load"}`), 422, "invalid_field", "amount")
	ts.card(key, prog, "+79123456780") // a card with no money
	l := ts.mustDo(200, "GET", "/api/v1/programs/"+prog+"/liability", key, nil)
	if l["outstanding"] != 200000.0 || l["amount"] != 200000.0 || l["currency"] != "RUB" || l["cards"] != 2.0 {
		t.Errorf("liability %v", l)
	}
	points := ts.program(key) // 100 welcome points per card
	ts.card(key, points, "+79123456789")
	l = ts.mustDo(200, "GET", "/api/v1/programs/"+points+"/liability", key, nil)
	if l["outstanding"] != 100.0 || l["amount"] != 10000.0 || l["point_value"] != 100.0 {
		t.Errorf("points liability %v", l)
	}
	ts.mustDo(200, "PATCH", "/api/v1/programs/"+points, key, map[string]any{"point_value": 50, "currency": "EUR"})
	if l := ts.mustDo(200, "GET", "/api/v1/programs/"+points+"/liability", key, nil); l["amount"] != 5000.0 || l["currency"] != "EUR" {
		t.Errorf("points liability at 50 %v", l)
	}
	ts.assertLedgerBalances()
	if other := ts.merchant("other"); ts.do("GET", "/api/v1/programs/"+prog+"/liability", other, nil).Code != 404 {
		t.Error("another merchant sees the liability")
	}
	if !strings.Contains(ts.do("GET", "/api/v1/cards/"+serial+"/transactions", key, nil).Body.String(), `"kind":"load"`) {
		t.Error("the initial amount is not a load line")
	}
}

// TestCouponIssueJob issues a coupon to a segment through the API: one
// call answers with a job, whose progress reaches done as the issuer
// works through it.
func TestCouponIssueJob(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("coupons")
	points := ts.program(key)
	for i := range 3 {
		ts.card(key, points, fmt.Sprintf("+7912345678%d", i))
	}
	coupon := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Купон", "kind": "coupon",
		"offer": "−20%", "valid_days": 10})["id"].(string)
	res := ts.do("POST", "/api/v1/programs/"+coupon+"/coupon-issues", key, map[string]any{"source_program_id": points})
	job := res.json(t)
	if res.Code != 202 || job["status"] != "running" || job["total"] != 3.0 || job["pending"] != 3.0 ||
		res.Header().Get("Location") != "/api/v1/coupon-issues/"+job["id"].(string) {
		t.Fatalf("coupon issue = %d %v", res.Code, job)
	}
	issuer := couponissue.New(couponissue.Options{Store: ts.store.CouponIssues(), Cards: ts.store.Cards()})
	for {
		n, err := issuer.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	job = ts.mustDo(200, "GET", "/api/v1/coupon-issues/"+job["id"].(string), key, nil)
	if job["status"] != "done" || job["issued"] != 3.0 || job["pending"] != 0.0 {
		t.Errorf("job after the issuer: %v", job)
	}
	if cards := ts.mustDo(200, "GET", "/api/v1/cards?program_id="+coupon, key, nil)["cards"].([]any); len(cards) != 3 ||
		cards[0].(map[string]any)["coupon_state"] != "active" {
		t.Errorf("coupon cards %v", cards)
	}
	wantError(t, ts.do("POST", "/api/v1/programs/"+points+"/coupon-issues", key, map[string]any{"source_program_id": points}),
		409, "not_a_coupon_program", "")
	wantError(t, ts.do("POST", "/api/v1/programs/"+coupon+"/coupon-issues", key, map[string]any{"source_program_id": points,
		"inactive_days": -1}), 422, "invalid_field", "inactive_days")
	if res := ts.do("POST", "/api/v1/programs/"+coupon+"/coupon-issues", key, map[string]any{"source_program_id": "prg_nosuch"}); res.Code != 404 {
		t.Errorf("an unknown source program = %d", res.Code)
	}
}
