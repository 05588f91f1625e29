package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends a transaction with an idempotency key.
func (ts *testServer) post(key, serial, idem string, body string) response {
	ts.t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/cards/"+serial+"/transactions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	checkResponse(ts.t, req, rec)
	return response{rec}
}

func (ts *testServer) card(key, prog, phone string) string {
	ts.t.Helper()
	c := ts.do("POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": phone})
	if c.Code != 201 && c.Code != 200 {
		ts.t.Fatalf("issue card: %d %s", c.Code, c.Body.String())
	}
	return c.json(ts.t)["serial_number"].(string)
}

func balanceOf(t *testing.T, res response) float64 {
	t.Helper()
	if res.Code != 201 {
		t.Fatalf("transaction = %d %s", res.Code, res.Body.String())
	}
	return res.json(t)["card"].(map[string]any)["balance"].(float64)
}

func TestEarnRedeemAdjustRefund(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key) // 5 %, welcome 100
	serial := ts.card(key, prog, "+79123456789")

	// 1,250.00 at 5 % = 62.5 → 62 points, plus the welcome 100.
	earn := ts.post(key, serial, "k1", `{"kind":"earn","purchase_amount":125000}`)
	if b := balanceOf(t, earn); b != 162 {
		t.Fatalf("balance after earn = %v, want 162", b)
	}
	earnID := earn.json(t)["transaction"].(map[string]any)["id"].(string)
	if b := balanceOf(t, ts.post(key, serial, "k2", `{"kind":"redeem","points":100}`)); b != 62 {
		t.Fatalf("after redeem = %v", b)
	}
	res := ts.post(key, serial, "k3", `{"kind":"redeem","points":63}`)
	if code, field := res.errorOf(t); res.Code != 409 || code != "insufficient_points" || field != "points" {
		t.Fatalf("overdraw = %d %s/%s", res.Code, code, field)
	}
	if b := balanceOf(t, ts.post(key, serial, "k4", `{"kind":"adjust","points":-2,"reason":"typo at the till"}`)); b != 60 {
		t.Fatalf("after adjust = %v", b)
	}
	// Half the purchase back: 31 of its 62 points reversed.
	if b := balanceOf(t, ts.post(key, serial, "k5", `{"kind":"refund","transaction_id":"`+earnID+`","purchase_amount":62500}`)); b != 29 {
		t.Fatalf("after half refund = %v, want 29", b)
	}
	// The rest of the purchase: the remaining 31 points, but only 29 are left.
	rest := ts.post(key, serial, "k6", `{"kind":"refund","transaction_id":"`+earnID+`"}`)
	if b := balanceOf(t, rest); b != 0 {
		t.Fatalf("after full refund = %v, want 0", b)
	}
	card := rest.json(t)["card"].(map[string]any)
	if card["lifetime_points"] != 0.0 || card["lifetime_spend"] != 0.0 {
		t.Fatalf("lifetime totals after full refund = %v / %v", card["lifetime_points"], card["lifetime_spend"])
	}
	over := ts.post(key, serial, "k7", `{"kind":"refund","transaction_id":"`+earnID+`","purchase_amount":1}`)
	if _, field := over.errorOf(t); over.Code != 422 || field != "purchase_amount" {
		t.Fatalf("refund beyond the purchase = %d %s", over.Code, field)
	}

	list := ts.mustDo(200, "GET", "/api/v1/cards/"+serial+"/transactions?limit=3", key, nil)
	txs := list["transactions"].([]any)
	if len(txs) != 3 || txs[0].(map[string]any)["kind"] != "refund" || list["next_cursor"] == "" {
		t.Fatalf("first page = %v", list)
	}
	more := ts.mustDo(200, "GET", "/api/v1/cards/"+serial+"/transactions?cursor="+list["next_cursor"].(string), key, nil)
	kinds := []string{}
	for _, tx := range append(txs, more["transactions"].([]any)...) {
		kinds = append(kinds, tx.(map[string]any)["kind"].(string))
	}
	if got := strings.Join(kinds, ","); got != "refund,refund,adjust,redeem,earn,welcome" {
		t.Fatalf("ledger = %s", got)
	}
	ts.assertLedgerBalances()
}

func TestIdempotencyKeys(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	serial := ts.card(key, ts.program(key), "+79123456789")

	first := ts.post(key, serial, "same", `{"kind":"earn","purchase_amount":100000}`)
	again := ts.post(key, serial, "same", `{ "purchase_amount": 100000, "kind": "earn" }`)
	if first.Code != 201 || again.Code != 201 || first.Body.String() != again.Body.String() {
		t.Fatalf("replay differs:\n%s\n%s", first.Body.String(), again.Body.String())
	}
	if again.Header().Get("Idempotent-Replayed") != "true" {
		t.Error("replay not marked")
	}
	other := ts.post(key, serial, "same", `{"kind":"earn","purchase_amount":200000}`)
	if code, _ := other.errorOf(t); other.Code != 422 || code != "idempotency_key_reused" {
		t.Fatalf("reused key with another body = %d %s", other.Code, code)
	}
	missing := ts.post(key, serial, "", `{"kind":"earn","purchase_amount":100}`)
	if code, field := missing.errorOf(t); missing.Code != 400 || code != "idempotency_key_required" || field != "Idempotency-Key" {
		t.Fatalf("missing key = %d %s %s", missing.Code, code, field)
	}
	if n := ts.count("transactions WHERE kind = 'earn'"); n != 1 {
		t.Fatalf("earn lines = %d, want 1", n)
	}
	// Keys belong to a merchant: another merchant may use the same key.
	keyB := ts.merchant("other")
	serialB := ts.card(keyB, ts.program(keyB), "+79123456789")
	if res := ts.post(keyB, serialB, "same", `{"kind":"earn","purchase_amount":100000}`); res.Code != 201 {
		t.Fatalf("merchant B with A's key string = %d", res.Code)
	}
}

func TestTransactionBodiesAreChecked(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	serial := ts.card(key, ts.program(key), "+79123456789")
	tests := []struct{ body, field string }{
		{`{"kind":"earn"}`, "purchase_amount"},
		{`{"kind":"earn","purchase_amount":0}`, "purchase_amount"},
		{`{"kind":"earn","purchase_amount":-5}`, "purchase_amount"},
		{`{"kind":"earn","purchase_amount":100,"points":5}`, "points"},
		{`{"kind":"redeem","points":0}`, "points"},
		{`{"kind":"redeem","points":5,"purchase_amount":100}`, "purchase_amount"},
		{`{"kind":"adjust","points":5}`, "reason"},
		{`{"kind":"adjust","points":0,"reason":"x"}`, "points"},
		{`{"kind":"refund"}`, "transaction_id"},
		{`{"kind":"refund","transaction_id":"txn_nope"}`, "transaction_id"},
		{`{"kind":"steal","points":5}`, "kind"},
		{`{"points":5}`, "kind"},
	}
	for i, tt := range tests {
		res := ts.post(key, serial, fmt.Sprint("bad-", i), tt.body)
		if _, field := res.errorOf(t); res.Code != 422 || field != tt.field {
			t.Errorf("%s = %d field %q, want 422 %q", tt.body, res.Code, field, tt.field)
		}
	}
	if res := ts.post(key, serial, "wrong-type", `{"kind":"earn","purchase_amount":"100"}`); res.Code != 400 {
		t.Errorf("string amount = %d", res.Code)
	}
	if n := ts.count("transactions"); n != 1 { // the welcome bonus only
		t.Fatalf("transactions after bad bodies = %d", n)
	}
	ts.mustDo(200, "POST", "/api/v1/cards/"+serial+"/void", key, nil)
	if code, _ := ts.post(key, serial, "after-void", `{"kind":"earn","purchase_amount":100}`).errorOf(t); code != "card_voided" {
		t.Fatalf("earn on a voided card: %s", code)
	}
}

func TestWelcomeBonusOncePerCustomerAndProgram(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	first := ts.card(key, prog, "+79123456789")
	ts.mustDo(200, "POST", "/api/v1/cards/"+first+"/void", key, nil)
	second := ts.card(key, prog, "8 912 345 67 89")
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+second, key, nil); c["balance"] != 0.0 {
		t.Fatalf("new card after a void got the welcome bonus again: %v", c["balance"])
	}
	if n := ts.count("transactions WHERE kind = 'welcome'"); n != 1 {
		t.Fatalf("welcome lines = %d", n)
	}
	// Another program of the merchant has its own welcome bonus.
	other := ts.card(key, ts.program(key), "+79123456789")
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+other, key, nil); c["balance"] != 100.0 {
		t.Fatalf("second program's welcome = %v", c["balance"])
	}
}

func TestTiersUpgradeAndTheirRateApplies(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{
		"name": "Club", "earn_rate_bp": 500, "tier_basis": "spend", "tier_downgrade": true,
		"tiers": []map[string]any{
			{"code": "silver", "name": "Серебро", "threshold": 0, "earn_rate_bp": 500},
			{"code": "gold", "name": "Золото", "threshold": 1000000, "earn_rate_bp": 1000},
		},
	})["id"].(string)
	serial := ts.card(key, prog, "+79123456789")
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil); c["tier"] != "silver" {
		t.Fatalf("new card tier = %v", c["tier"])
	}
	big := ts.post(key, serial, "big", `{"kind":"earn","purchase_amount":1000000}`) // 10,000.00 at 5 %
	card := big.json(t)["card"].(map[string]any)
	if card["balance"] != 500.0 || card["tier"] != "gold" {
		t.Fatalf("after 10,000.00: %v / %v", card["balance"], card["tier"])
	}
	// Gold earns 10 %.
	if b := balanceOf(t, ts.post(key, serial, "small", `{"kind":"earn","purchase_amount":10000}`)); b != 510 {
		t.Fatalf("gold earn = %v, want 510", b)
	}
	// The tier is on the pass.
	pass := ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil).Body.Bytes()
	if !strings.Contains(string(pass), "Золото") {
		t.Error("the pass does not show the tier name")
	}
	// Refunding the big purchase drops the card back (downgrade allowed).
	bigID := big.json(t)["transaction"].(map[string]any)["id"].(string)
	res := ts.post(key, serial, "refund-big", `{"kind":"refund","transaction_id":"`+bigID+`"}`)
	if tier := res.json(t)["card"].(map[string]any)["tier"]; tier != "silver" {
		t.Fatalf("after refund tier = %v", tier)
	}
	bad := ts.do("PATCH", "/api/v1/programs/"+prog, key, map[string]any{"tiers": []map[string]any{{"code": "x", "name": "X", "threshold": 5}}})
	if _, field := bad.errorOf(t); bad.Code != 422 || field != "tiers" {
		t.Fatalf("bad tiers = %d %s", bad.Code, field)
	}
}

func TestPointsExpireFirstInFirstOut(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Expiring", "earn_rate_bp": 1000, "points_lifetime_days": 30})["id"].(string)
	serial := ts.card(key, prog, "+79123456789")
	ts.post(key, serial, "e1", `{"kind":"earn","purchase_amount":100000}`) // 100 points
	ts.post(key, serial, "e2", `{"kind":"earn","purchase_amount":50000}`)  // 50 points
	ts.post(key, serial, "r1", `{"kind":"redeem","points":30}`)            // from the first lot: 70 + 50 left

	pass := ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil).Body.Bytes()
	if !strings.Contains(string(pass), "120") {
		t.Error("the pass does not show the points that expire next")
	}
	cards, points, err := ts.store.Cards().ExpirePoints(context.Background(), time.Now().Add(29*24*time.Hour), 100)
	if err != nil || cards != 0 || points != 0 {
		t.Fatalf("expired early: %d cards %d points %v", cards, points, err)
	}
	cards, points, err = ts.store.Cards().ExpirePoints(context.Background(), time.Now().Add(31*24*time.Hour), 100)
	if err != nil || cards != 1 || points != 120 {
		t.Fatalf("expiry = %d cards %d points %v, want 1 card 120 points", cards, points, err)
	}
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil); c["balance"] != 0.0 {
		t.Fatalf("balance after expiry = %v", c["balance"])
	}
	// A second run finds nothing: no double expiry.
	if cards, _, _ := ts.store.Cards().ExpirePoints(context.Background(), time.Now().Add(40*24*time.Hour), 100); cards != 0 {
		t.Fatal("points expired twice")
	}
	ts.assertLedgerBalances()
}

// TestConcurrentPostingsKeepTheLedgerExact hammers a few cards from many
// goroutines, repeating some idempotency keys, and checks the invariants.
func TestConcurrentPostingsKeepTheLedgerExact(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serials := []string{ts.card(key, prog, "+79123456780"), ts.card(key, prog, "+79123456781"), ts.card(key, prog, "+79123456782")}

	const workers, perWorker = 16, 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	okKeys := map[string]string{} // key → first body answered
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range perWorker {
				serial := serials[rng.IntN(len(serials))]
				// A third of the keys repeat across workers.
				idem := fmt.Sprintf("w%d-%d", w, i)
				if rng.IntN(3) == 0 {
					idem = fmt.Sprintf("shared-%d", rng.IntN(20))
					serial = serials[0]
				}
				body := fmt.Sprintf(`{"kind":"earn","purchase_amount":%d}`, 1000*(1+rng.IntN(50)))
				if strings.HasPrefix(idem, "shared") {
					body = `{"kind":"redeem","points":7}`
				} else if rng.IntN(2) == 0 {
					body = fmt.Sprintf(`{"kind":"redeem","points":%d}`, 1+rng.IntN(40))
				}
				res := ts.post(key, serial, idem, body)
				switch res.Code {
				case 201:
					mu.Lock()
					okKeys[idem] = body
					mu.Unlock()
				case 409: // insufficient points: fine, nothing written
				default:
					t.Errorf("%s %s = %d %s", idem, body, res.Code, res.Body.String())
				}
			}
		})
	}
	wg.Wait()
	ts.assertLedgerBalances()
	var negative int
	ts.db.QueryRow(`SELECT COUNT(*) FROM transactions WHERE balance_after < 0`).Scan(&negative)
	if negative != 0 {
		t.Fatalf("%d lines left a negative balance", negative)
	}
	lines := ts.count("transactions WHERE kind IN ('earn','redeem')")
	if keys := ts.count("idempotency_keys"); lines != keys || keys != len(okKeys) {
		t.Fatalf("%d lines, %d stored keys, %d keys answered 201: each key must write exactly one line", lines, keys, len(okKeys))
	}
}

// assertLedgerBalances checks that every card's balance equals the sum of
// its ledger and of its open lots, and that versions match line numbers.
func (ts *testServer) assertLedgerBalances() {
	ts.t.Helper()
	rows, err := ts.db.Query(`SELECT c.serial_number, c.balance,
		(SELECT COALESCE(SUM(points), 0) FROM transactions t WHERE t.serial_number = c.serial_number),
		(SELECT COALESCE(SUM(remaining), 0) FROM transactions t WHERE t.serial_number = c.serial_number)
		FROM cards c`)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var serial string
		var balance, sum, lots int64
		if err := rows.Scan(&serial, &balance, &sum, &lots); err != nil {
			ts.t.Fatal(err)
		}
		if balance != sum || balance != lots || balance < 0 {
			ts.t.Errorf("card %s: balance %d, ledger sum %d, open lots %d", serial, balance, sum, lots)
		}
	}
}
