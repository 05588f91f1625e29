package api_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// TestMerchantsSeeOnlyTheirOwnData uses merchant B's key on every route
// that names merchant A's resources and expects 404 and no change, and
// checks that the list routes show B nothing of A's.
func TestMerchantsSeeOnlyTheirOwnData(t *testing.T) {
	ts := newTestServer(t)
	keyA, keyB := ts.merchant("a"), ts.merchant("b")
	progA := ts.program(keyA)
	cardA := ts.mustDo(201, "POST", "/api/v1/programs/"+progA+"/cards", keyA, map[string]any{"phone": "+79123456789"})
	serialA, numberA := cardA["serial_number"].(string), cardA["number"].(string)
	ts.program(keyB)
	hookA := ts.mustDo(201, "POST", "/api/v1/webhooks", keyA, map[string]any{"url": "https://a.example/hook",
		"events": []string{"balance.changed"}})["id"].(string)
	ts.mustDo(201, "POST", "/api/v1/cards/"+serialA+"/fcm-tokens", keyA, map[string]any{"token": "appA:APA91bA"})
	campA := ts.mustDo(201, "POST", "/api/v1/campaigns", keyA, map[string]any{"program_id": progA, "name": "Back",
		"template": "Вернитесь: {link}"})["id"].(string)
	custA := cardA["customer"].(map[string]any)["id"].(string)
	autoA := ts.mustDo(201, "POST", "/api/v1/automations", keyA, map[string]any{"program_id": progA, "name": "Welcome",
		"trigger": map[string]any{"type": "enrolled"}, "variants": []any{map[string]any{"text": "Привет: {link}"}}})["id"].(string)
	ts.mustDo(200, "PUT", "/api/v1/programs/"+progA+"/sms-budget", keyA, map[string]any{"monthly": 10000})
	couponA := ts.mustDo(201, "POST", "/api/v1/programs", keyA, map[string]any{"name": "Купон", "kind": "coupon",
		"offer": "−20%", "valid_days": 30})["id"].(string)
	issueA := ts.mustDo(202, "POST", "/api/v1/programs/"+couponA+"/coupon-issues", keyA,
		map[string]any{"source_program_id": progA})["id"].(string)

	type call struct {
		method, path, route string
		body                any
		contentType         string
	}
	calls := []call{
		{"GET", "/api/v1/programs/" + progA, "/api/v1/programs/:id", nil, ""},
		{"PATCH", "/api/v1/programs/" + progA, "/api/v1/programs/:id", map[string]any{"name": "stolen"}, ""},
		{"PUT", "/api/v1/programs/" + progA + "/images/logo", "/api/v1/programs/:id/images/:kind", pngBytes(t, 480, 150), "image/png"},
		{"DELETE", "/api/v1/programs/" + progA + "/images/logo", "/api/v1/programs/:id/images/:kind", nil, ""},
		{"POST", "/api/v1/programs/" + progA + "/cards", "/api/v1/programs/:id/cards", map[string]any{"phone": "+79123456780"}, ""},
		{"GET", "/api/v1/cards/" + serialA, "/api/v1/cards/:serial", nil, ""},
		{"POST", "/api/v1/cards/" + serialA + "/void", "/api/v1/cards/:serial/void", nil, ""},
		{"GET", "/api/v1/cards/" + serialA + "/pass.pkpass", "/api/v1/cards/:serial/pass.pkpass", nil, ""},
		{"GET", "/api/v1/cards?number=" + numberA, "/api/v1/cards", nil, ""},
		{"POST", "/api/v1/cards/" + serialA + "/transactions", "/api/v1/cards/:serial/transactions", map[string]any{"kind": "redeem", "points": 50}, ""},
		{"GET", "/api/v1/cards/" + serialA + "/transactions", "/api/v1/cards/:serial/transactions", nil, ""},
		{"POST", "/api/v1/cards/" + serialA + "/messages", "/api/v1/cards/:serial/messages", map[string]any{"text": "stolen"}, ""},
		{"POST", "/api/v1/programs/" + progA + "/messages", "/api/v1/programs/:id/messages", map[string]any{"text": "stolen"}, ""},
		{"POST", "/api/v1/cards/" + serialA + "/fcm-tokens", "/api/v1/cards/:serial/fcm-tokens", map[string]any{"token": "appB:APA91bB"}, ""},
		{"DELETE", "/api/v1/cards/" + serialA + "/fcm-tokens/appA:APA91bA", "/api/v1/cards/:serial/fcm-tokens/:token", nil, ""},
		{"POST", "/api/v1/campaigns", "/api/v1/campaigns", map[string]any{"program_id": progA, "name": "x", "template": "{link}"}, ""},
		{"GET", "/api/v1/campaigns/" + campA, "/api/v1/campaigns/:id", nil, ""},
		{"DELETE", "/api/v1/webhooks/" + hookA, "/api/v1/webhooks/:id", nil, ""},
		{"GET", "/api/v1/webhooks/" + hookA + "/deliveries", "/api/v1/webhooks/:id/deliveries", nil, ""},
		{"POST", "/api/v1/campaigns/" + campA + "/start", "/api/v1/campaigns/:id/:action", nil, ""},
		{"GET", "/api/v1/campaigns/" + campA + "/report", "/api/v1/campaigns/:id/report", nil, ""},
		{"GET", "/api/v1/customers/" + custA, "/api/v1/customers/:id", nil, ""},
		{"PATCH", "/api/v1/customers/" + custA, "/api/v1/customers/:id", map[string]any{"name": "stolen",
			"consents": []any{map[string]any{"channel": "ads", "granted": true, "source": "paper", "evidence": "forged"}}}, ""},
		{"GET", "/api/v1/customers/" + custA + "/consents", "/api/v1/customers/:id/consents", nil, ""},
		{"GET", "/api/v1/customers/" + custA + "/export", "/api/v1/customers/:id/export", nil, ""},
		{"DELETE", "/api/v1/customers/" + custA, "/api/v1/customers/:id", nil, ""},
		{"GET", "/api/v1/programs/" + progA + "/referrals", "/api/v1/programs/:id/referrals", nil, ""},
		{"GET", "/api/v1/programs/" + progA + "/poster.pdf", "/api/v1/programs/:id/poster.pdf", nil, ""},
		{"GET", "/api/v1/programs/" + progA + "/poster.png", "/api/v1/programs/:id/poster.png", nil, ""},
		{"GET", "/api/v1/cards/" + serialA + "/koshelek", "/api/v1/cards/:serial/koshelek", nil, ""},
		{"POST", "/api/v1/automations", "/api/v1/automations", map[string]any{"program_id": progA, "name": "x",
			"trigger": map[string]any{"type": "enrolled"}, "variants": []any{map[string]any{"text": "{link}"}}}, ""},
		{"GET", "/api/v1/automations/" + autoA, "/api/v1/automations/:id", nil, ""},
		{"POST", "/api/v1/automations/" + autoA + "/pause", "/api/v1/automations/:id/:action", nil, ""},
		{"GET", "/api/v1/automations/" + autoA + "/report", "/api/v1/automations/:id/report", nil, ""},
		{"DELETE", "/api/v1/automations/" + autoA, "/api/v1/automations/:id", nil, ""},
		{"GET", "/api/v1/cards/" + serialA + "/rhythm", "/api/v1/cards/:serial/rhythm", nil, ""},
		{"GET", "/api/v1/programs/" + progA + "/sms-budget", "/api/v1/programs/:id/sms-budget", nil, ""},
		{"PUT", "/api/v1/programs/" + progA + "/sms-budget", "/api/v1/programs/:id/sms-budget", map[string]any{"monthly": 1}, ""},
		{"GET", "/api/v1/programs/" + progA + "/liability", "/api/v1/programs/:id/liability", nil, ""},
		{"POST", "/api/v1/programs/" + couponA + "/coupon-issues", "/api/v1/programs/:id/coupon-issues",
			map[string]any{"source_program_id": progA}, ""},
		{"GET", "/api/v1/coupon-issues/" + issueA, "/api/v1/coupon-issues/:id", nil, ""},
	}
	// B cannot turn on A's program's «Кошелёк» channel either.
	calls = append(calls, call{"PATCH", "/api/v1/programs/" + progA, "/api/v1/programs/:id", map[string]any{
		"koshelek": map[string]any{"login": "thief", "password": "long-enough-password", "push_login": "p", "push_password": "q"}}, ""})
	// Lists are checked below: they must show B nothing of A's.
	covered := map[string]bool{"POST /api/v1/programs": true, "GET /api/v1/programs": true, "GET /api/v1/dead-letters": true,
		"GET /api/v1/campaigns": true, "GET /api/v1/webhooks": true, "POST /api/v1/webhooks": true, "GET /api/v1/customers": true,
		"GET /api/v1/automations": true}
	for _, c := range calls {
		covered[c.method+" "+c.route] = true
		var body *bytes.Reader
		switch b := c.body.(type) {
		case []byte:
			body = bytes.NewReader(b)
		case nil:
			body = bytes.NewReader(nil)
		default:
			body = bytes.NewReader(mustJSON(t, b))
		}
		req := httptest.NewRequest(c.method, c.path, body)
		req.Header.Set("Authorization", "Bearer "+keyB)
		req.Header.Set("Idempotency-Key", "b-"+c.method+c.route)
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		} else if c.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		ts.http.ServeHTTP(rec, req)
		if rec.Code != 404 {
			t.Errorf("B: %s %s = %d, want 404\n%s", c.method, c.path, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), serialA) && !strings.HasSuffix(c.path, serialA) {
			t.Errorf("B: %s %s leaks A's serial", c.method, c.path)
		}
	}

	// Lists show B only B's things.
	progs := ts.mustDo(200, "GET", "/api/v1/programs", keyB, nil)["programs"].([]any)
	if len(progs) != 1 || progs[0].(map[string]any)["id"] == progA {
		t.Errorf("B's program list = %v", progs)
	}
	if cards := ts.mustDo(200, "GET", "/api/v1/cards", keyB, nil)["cards"].([]any); len(cards) != 0 {
		t.Errorf("B's card list = %v", cards)
	}
	merchantA, _, _ := ts.store.Merchants().EnsureMerchant(context.Background(), "a", "RU")
	if err := ts.store.Devices().RecordOutcomes(context.Background(), merchantA.ID, []store.Outcome{{
		Target: store.Target{DeviceID: "d", Serial: serialA, Channel: "apple"}, Result: push.Failed, Reason: "BadCertificate"}}); err != nil {
		t.Fatal(err)
	}
	if letters := ts.mustDo(200, "GET", "/api/v1/dead-letters", keyA, nil)["dead_letters"].([]any); len(letters) != 1 {
		t.Errorf("A's dead letters = %v", letters)
	}
	if list := ts.mustDo(200, "GET", "/api/v1/webhooks", keyB, nil)["webhooks"].([]any); len(list) != 0 {
		t.Errorf("B's webhooks = %v", list)
	}
	if list := ts.mustDo(200, "GET", "/api/v1/webhooks", keyA, nil)["webhooks"].([]any); len(list) != 1 {
		t.Errorf("A's webhooks = %v", list)
	}
	if list := ts.mustDo(200, "GET", "/api/v1/campaigns", keyB, nil)["campaigns"].([]any); len(list) != 0 {
		t.Errorf("B's campaigns = %v", list)
	}
	if c := ts.mustDo(200, "GET", "/api/v1/campaigns/"+campA, keyA, nil); c["status"] != "draft" {
		t.Errorf("A's campaign changed: %v", c["status"])
	}
	if list := ts.mustDo(200, "GET", "/api/v1/automations", keyB, nil)["automations"].([]any); len(list) != 0 {
		t.Errorf("B's automations = %v", list)
	}
	if a := ts.mustDo(200, "GET", "/api/v1/automations/"+autoA, keyA, nil); a["status"] != "active" {
		t.Errorf("A's automation changed: %v", a["status"])
	}
	if b := ts.mustDo(200, "GET", "/api/v1/programs/"+progA+"/sms-budget", keyA, nil); b["monthly"] != 10000.0 {
		t.Errorf("A's SMS budget changed: %v", b)
	}
	if n := ts.count("automations"); n != 1 {
		t.Errorf("automations rows = %d, want A's 1", n)
	}
	if letters := ts.mustDo(200, "GET", "/api/v1/dead-letters", keyB, nil)["dead_letters"].([]any); len(letters) != 0 {
		t.Errorf("B's dead letters = %v", letters)
	}
	if cards := ts.mustDo(200, "GET", "/api/v1/cards?program_id="+progA, keyB, nil)["cards"].([]any); len(cards) != 0 {
		t.Errorf("B's card list filtered by A's program = %v", cards)
	}
	for _, q := range []string{"", "?phone=%2B79123456789", "?q=7912"} {
		if list := ts.mustDo(200, "GET", "/api/v1/customers"+q, keyB, nil)["customers"].([]any); len(list) != 0 {
			t.Errorf("B's customers%s = %v", q, list)
		}
		if list := ts.mustDo(200, "GET", "/api/v1/customers"+q, keyA, nil)["customers"].([]any); len(list) != 1 {
			t.Errorf("A's customers%s = %v", q, list)
		}
	}
	if recs := ts.mustDo(200, "GET", "/api/v1/customers/"+custA+"/consents", keyA, nil)["consents"].([]any); len(recs) != 0 {
		t.Errorf("A's customer got consent records from B: %v", recs)
	}
	if c := ts.mustDo(200, "GET", "/api/v1/customers/"+custA, keyA, nil); c["phone"] != "+79123456789" || c["erased_at"] != nil {
		t.Errorf("A's customer changed: %v", c)
	}

	// A's things are as they were.
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+progA, keyA, nil); p["name"] != "Кофейня" || p["version"] != 1.0 {
		t.Errorf("A's program changed: %v", p)
	}
	if c := ts.mustDo(200, "GET", "/api/v1/cards/"+serialA, keyA, nil); c["status"] != "active" || c["balance"] != 100.0 {
		t.Errorf("A's card changed: %v", c)
	}
	if n := ts.count("fcm_tokens"); n != 1 { // A's own
		t.Errorf("fcm_tokens rows = %d, want 1", n)
	}
	if n := ts.count("koshelek_programs"); n != 0 {
		t.Errorf("koshelek_programs rows = %d, want none", n)
	}
	if n := ts.count("cards"); n != 1 {
		t.Errorf("cards rows = %d, want 1", n)
	}
	if n := ts.count("transactions"); n != 1 { // A's welcome bonus
		t.Errorf("transactions rows = %d, want 1", n)
	}

	// Every merchant route is in this test.
	for _, r := range ts.http.(*gin.Engine).Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && !covered[r.Method+" "+r.Path] {
			t.Errorf("route %s %s is not covered by the isolation test", r.Method, r.Path)
		}
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
