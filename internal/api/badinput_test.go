package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBadInputIsRefusedByNameAndWritesNothing(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	cards := "/api/v1/programs/" + prog + "/cards"

	tests := []struct {
		name              string
		method, path      string
		body              any
		status            int
		code, field       string
		contentType       string // overrides application/json when set
		withoutAuthHeader bool
	}{
		{name: "malformed JSON", method: "POST", path: cards, body: `{"phone": "+79123456789"`, status: 400, code: "malformed_json"},
		{name: "not JSON at all", method: "POST", path: cards, body: `phone=+79123456789`, status: 400, code: "malformed_json"},
		{name: "empty body", method: "POST", path: cards, body: ``, status: 400, code: "malformed_json"},
		{name: "array body", method: "POST", path: cards, body: `[1,2]`, status: 400, code: "malformed_json"},
		{name: "two objects", method: "POST", path: cards, body: `{"phone":"+79123456789"}{}`, status: 400, code: "malformed_json"},
		{name: "unknown field", method: "POST", path: cards, body: `{"phone":"+79123456789","nmae":"x"}`, status: 400, code: "unknown_field", field: "nmae"},
		{name: "wrong type", method: "POST", path: cards, body: `{"phone":79123456789}`, status: 400, code: "wrong_type", field: "phone"},
		{name: "wrong type bool", method: "POST", path: cards, body: `{"phone":"+79123456789","sms_consent":"yes"}`, status: 400, code: "wrong_type", field: "sms_consent"},
		{name: "oversize body", method: "POST", path: cards, body: `{"phone":"+79123456789","name":"` + strings.Repeat("я", 4000) + `"}`, status: 413, code: "body_too_large"},
		{name: "bad phone", method: "POST", path: cards, body: `{"phone":"12345"}`, status: 422, code: "invalid_phone", field: "phone"},
		{name: "letters for phone", method: "POST", path: cards, body: `{"phone":"abc"}`, status: 422, code: "invalid_phone", field: "phone"},
		{name: "missing phone", method: "POST", path: cards, body: `{"name":"Анна"}`, status: 422, code: "invalid_field", field: "phone"},
		{name: "bad email", method: "POST", path: cards, body: `{"phone":"+79123456789","email":"not-an-email"}`, status: 422, code: "invalid_field", field: "email"},
		{name: "unknown program", method: "POST", path: "/api/v1/programs/prg_nope/cards", body: `{"phone":"+79123456789"}`, status: 404, code: "not_found"},
		{name: "wrong content type", method: "POST", path: cards, body: `{"phone":"+79123456789"}`, contentType: "text/plain", status: 415, code: "unsupported_media_type"},
		{name: "no key", method: "POST", path: cards, body: `{"phone":"+79123456789"}`, withoutAuthHeader: true, status: 401, code: "unauthorized"},
		{name: "program without name", method: "POST", path: "/api/v1/programs", body: `{"earn_rate_bp":500}`, status: 422, code: "invalid_field", field: "name"},
		{name: "earn rate out of range", method: "POST", path: "/api/v1/programs", body: `{"name":"x","earn_rate_bp":20000}`, status: 422, code: "invalid_field", field: "earn_rate_bp"},
		{name: "earn rate fraction", method: "POST", path: "/api/v1/programs", body: `{"name":"x","earn_rate_bp":5.5}`, status: 400, code: "wrong_type", field: "earn_rate_bp"},
		{name: "bad barcode", method: "POST", path: "/api/v1/programs", body: `{"name":"x","barcode_format":"ean13"}`, status: 422, code: "invalid_field", field: "barcode_format"},
		{name: "bad locale", method: "POST", path: "/api/v1/programs", body: `{"name":"x","locale":"de"}`, status: 422, code: "invalid_field", field: "locale"},
		{name: "bad colour", method: "POST", path: "/api/v1/programs", body: `{"name":"x","design":{"background_color":"red"}}`, status: 422, code: "invalid_field", field: "design.background_color"},
		{name: "unknown design field", method: "POST", path: "/api/v1/programs", body: `{"name":"x","design":{"colour":"#000000"}}`, status: 400, code: "unknown_field", field: "design.colour"},
		{name: "negative welcome bonus", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"welcome_bonus":-1}`, status: 422, code: "invalid_field", field: "welcome_bonus"},
		{name: "bad limit", method: "GET", path: "/api/v1/cards?limit=0", status: 400, code: "invalid_query", field: "limit"},
		{name: "bad cursor", method: "GET", path: "/api/v1/cards?cursor=bm9wZQ", status: 400, code: "invalid_query", field: "cursor"},
		{name: "bad status filter", method: "GET", path: "/api/v1/cards?status=lost", status: 400, code: "invalid_query", field: "status"},
		{name: "unknown card", method: "GET", path: "/api/v1/cards/nope", status: 404, code: "not_found"},
		{name: "unknown route", method: "GET", path: "/api/v1/nothing", status: 404, code: "not_found"},
		{name: "wrong method", method: "DELETE", path: "/api/v1/programs", status: 405, code: "method_not_allowed"},
		{name: "image not png", method: "PUT", path: "/api/v1/programs/" + prog + "/images/logo", body: `GIF89a`, contentType: "image/png", status: 422, code: "invalid_field", field: "image"},
		{name: "image wrong type", method: "PUT", path: "/api/v1/programs/" + prog + "/images/logo", body: `x`, contentType: "image/gif", status: 415, code: "unsupported_media_type"},
		{name: "image unknown kind", method: "PUT", path: "/api/v1/programs/" + prog + "/images/background", body: `x`, contentType: "image/png", status: 404, code: "not_found"},
	}
	before := map[string]int{"cards": ts.count("cards"), "customers": ts.count("customers"), "programs": ts.count("programs")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body string
			if s, ok := tt.body.(string); ok {
				body = s
			}
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(body))
			if !tt.withoutAuthHeader {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			ct := "application/json"
			if tt.contentType != "" {
				ct = tt.contentType
			}
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			ts.http.ServeHTTP(rec, req)
			res := response{rec}
			if res.Code != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.Code, tt.status, res.Body.String())
			}
			code, field := res.errorOf(t)
			if code != tt.code || field != tt.field {
				t.Fatalf("error = %s/%s, want %s/%s\n%s", code, field, tt.code, tt.field, res.Body.String())
			}
		})
	}
	for table, n := range before {
		if got := ts.count(table); got != n {
			t.Errorf("%s rows went from %d to %d after refused requests", table, n, got)
		}
	}
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+prog, key, nil); p["welcome_bonus"] != 100.0 || p["version"] != 1.0 {
		t.Errorf("refused update changed the program: %v", p)
	}
}

func TestBadKeysAreUnauthorized(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	forged := key[:len(key)-4] + "AAAA"
	for _, auth := range []string{"", "Bearer", "Bearer " + forged, "Basic " + key, "Bearer lp_", "Bearer " + key + "x"} {
		req := httptest.NewRequest("GET", "/api/v1/programs", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		ts.http.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Errorf("Authorization %q: status %d", auth, rec.Code)
		}
		if strings.Contains(rec.Body.String(), key[3:13]) {
			t.Errorf("the error echoes the key")
		}
	}
}
