package api_test

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// refusal is one request the API must refuse, with the answer it must give.
type refusal struct {
	name, method, path, body string
	status                   int
	code, field              string
}

// send sends a raw JSON body (with an Idempotency-Key on transactions).
func (ts *testServer) send(key string, r refusal) response {
	ts.t.Helper()
	if strings.HasSuffix(r.path, "/transactions") && r.method == "POST" {
		return ts.post(key, strings.Split(r.path, "/")[4], "k-"+strings.ReplaceAll(r.name, " ", "-"), r.body)
	}
	if r.body == "" {
		return ts.do(r.method, r.path, key, nil)
	}
	return ts.do(r.method, r.path, key, r.body)
}

func (ts *testServer) expect(t *testing.T, key string, r refusal) response {
	t.Helper()
	res := ts.send(key, r)
	if res.Code != r.status {
		t.Fatalf("status = %d, want %d\n%s", res.Code, r.status, res.Body.String())
	}
	if r.code != "" {
		if code, field := res.errorOf(t); code != r.code || field != r.field {
			t.Fatalf("error = %s/%s, want %s/%s\n%s", code, field, r.code, r.field, res.Body.String())
		}
	}
	return res
}

func TestControlCharactersAreRefusedByField(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	tests := []refusal{
		{name: "program name NUL", method: "POST", path: "/api/v1/programs", body: `{"name":"Coffee\u0000"}`, field: "name"},
		{name: "program name ESC", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"name":"\u001b[31mRed"}`, field: "name"},
		{name: "program name line break", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"name":"two\nlines"}`, field: "name"},
		{name: "currency label C1", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"currency_label":"p\u0085ts"}`, field: "currency_label"},
		{name: "terms BEL", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"terms":"ring\u0007"}`, field: "terms"},
		{name: "logo text DEL", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"design":{"logo_text":"x\u007f"}}`, field: "design.logo_text"},
		{name: "tier name", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"tiers":[{"code":"base","name":"Base\u0000","threshold":0}]}`, field: "tiers[0].name"},
		{name: "customer name", method: "POST", path: "/api/v1/programs/" + prog + "/cards", body: `{"phone":"+79123456780","name":"Anna\u0008"}`, field: "name"},
		{name: "adjust reason", method: "POST", path: "/api/v1/cards/" + serial + "/transactions", body: `{"kind":"adjust","points":5,"reason":"gift\u001b"}`, field: "reason"},
		{name: "card message", method: "POST", path: "/api/v1/cards/" + serial + "/messages", body: `{"text":"Hello\u0007"}`, field: "text"},
		{name: "card message line break", method: "POST", path: "/api/v1/cards/" + serial + "/messages", body: `{"text":"Hello\nthere"}`, field: "text"},
		{name: "program message", method: "POST", path: "/api/v1/programs/" + prog + "/messages", body: `{"text":"\u0000"}`, field: "text"},
		{name: "campaign name", method: "POST", path: "/api/v1/campaigns", body: `{"program_id":"` + prog + `","name":"Back\u0000","template":"{link}"}`, field: "name"},
		{name: "campaign template", method: "POST", path: "/api/v1/campaigns", body: `{"program_id":"` + prog + `","name":"Back","template":"\u001b{link}"}`, field: "template"},
	}
	before := map[string]int{"programs": ts.count("programs"), "transactions": ts.count("transactions"),
		"customers": ts.count("customers"), "campaigns": ts.count("campaigns")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.status, tt.code = 422, "invalid_field"
			res := ts.expect(t, key, tt)
			if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "control characters") {
				t.Errorf("message %q does not say what is wrong", msg)
			}
		})
	}
	for table, n := range before {
		if got := ts.count(table); got != n {
			t.Errorf("%s rows went from %d to %d", table, n, got)
		}
	}
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+prog, key, nil); p["version"] != 1.0 {
		t.Errorf("a refused update changed the program: %v", p)
	}

	// Texts shown over several lines keep their line breaks.
	p := ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, `{"terms":"1. Earn.\n2. Spend.\tEnjoy."}`)
	if p["terms"] != "1. Earn.\n2. Spend.\tEnjoy." {
		t.Errorf("terms = %q", p["terms"])
	}
	c := ts.mustDo(201, "POST", "/api/v1/campaigns", key, `{"program_id":"`+prog+`","name":"Back","template":"Hi {name}!\n{link}"}`)
	if c["template"] != "Hi {name}!\n{link}" {
		t.Errorf("template = %q", c["template"])
	}
}

func TestCampaignTimezoneAndTier(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	plain := ts.program(key)
	tiered := ts.mustDo(201, "POST", "/api/v1/programs", key, `{"name":"Gold club","tiers":[
		{"code":"silver","name":"Silver","threshold":0},{"code":"gold","name":"Gold","threshold":1000}]}`)["id"].(string)
	campaign := func(prog, extra string) string {
		return `{"program_id":"` + prog + `","name":"Back","template":"{link}"` + extra + `}`
	}
	for _, tt := range []refusal{
		{name: "Local", body: campaign(plain, `,"timezone":"Local"`), status: 422, code: "invalid_field", field: "timezone"},
		{name: "not a zone", body: campaign(plain, `,"timezone":"Mars/Olympus"`), status: 422, code: "invalid_field", field: "timezone"},
		{name: "unknown tier", body: campaign(tiered, `,"tier":"platinum"`), status: 422, code: "invalid_field", field: "tier"},
		{name: "base tier of a tiered program", body: campaign(tiered, `,"tier":"base"`), status: 422, code: "invalid_field", field: "tier"},
		{name: "tier of a program without tiers", body: campaign(plain, `,"tier":"gold"`), status: 422, code: "invalid_field", field: "tier"},
		{name: "empty installed", body: campaign(plain, `,"installed":""`), status: 422, code: "invalid_field", field: "installed"},
		{name: "empty bonus_on", body: campaign(plain, `,"bonus_on":""`), status: 422, code: "invalid_field", field: "bonus_on"},
		{name: "known tier", body: campaign(tiered, `,"tier":"gold","timezone":"Asia/Yekaterinburg"`), status: 201},
		{name: "base tier", body: campaign(plain, `,"tier":"base","timezone":"UTC"`), status: 201},
		{name: "any tier", body: campaign(plain, ``), status: 201},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.count("campaigns")
			tt.method, tt.path = "POST", "/api/v1/campaigns"
			ts.expect(t, key, tt)
			if want := before + map[bool]int{true: 1}[tt.status == 201]; ts.count("campaigns") != want {
				t.Errorf("campaigns = %d, want %d", ts.count("campaigns"), want)
			}
		})
	}
}

func TestWebhookEventsAreListedOnce(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	ts.expect(t, key, refusal{method: "POST", path: "/api/v1/webhooks", status: 422, code: "invalid_field", field: "events",
		body: `{"url":"https://hooks.example.com/lp","events":["card.issued","balance.changed","card.issued"]}`})
	if n := ts.count("webhook_endpoints"); n != 0 {
		t.Fatalf("a refused webhook was stored: %d rows", n)
	}
	ts.mustDo(201, "POST", "/api/v1/webhooks", key, `{"url":"https://hooks.example.com/lp","events":["card.issued","balance.changed"]}`)
	list := ts.mustDo(200, "GET", "/api/v1/webhooks", key, nil)["webhooks"].([]any)
	if events := list[0].(map[string]any)["events"].([]any); len(list) != 1 || len(events) != 2 ||
		events[0] != "card.issued" || events[1] != "balance.changed" {
		t.Fatalf("stored webhooks: %v", list)
	}
}

func TestFieldNamesMatchExactly(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	for _, tt := range []refusal{
		{name: "transaction", method: "POST", path: "/api/v1/cards/" + serial + "/transactions",
			body: `{"Kind":"earn","PURCHASE_AMOUNT":1}`, field: "Kind"},
		{name: "one folded key among good ones", method: "POST", path: "/api/v1/cards/" + serial + "/transactions",
			body: `{"kind":"earn","Purchase_Amount":100}`, field: "Purchase_Amount"},
		{name: "program", method: "POST", path: "/api/v1/programs", body: `{"Name":"Coffee"}`, field: "Name"},
		{name: "nested object", method: "PATCH", path: "/api/v1/programs/" + prog,
			body: `{"design":{"Background_Color":"#000000"}}`, field: "design.Background_Color"},
		{name: "array of objects", method: "PATCH", path: "/api/v1/programs/" + prog,
			body: `{"tiers":[{"code":"a","name":"A","threshold":0},{"code":"b","name":"B","THRESHOLD":5}]}`, field: "tiers[1].THRESHOLD"},
		{name: "card", method: "POST", path: "/api/v1/programs/" + prog + "/cards", body: `{"Phone":"+79123456780"}`, field: "Phone"},
		{name: "webhook", method: "POST", path: "/api/v1/webhooks", body: `{"URL":"https://hooks.example.com/","events":["card.issued"]}`, field: "URL"},
		{name: "message", method: "POST", path: "/api/v1/cards/" + serial + "/messages", body: `{"Text":"Hi"}`, field: "Text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.status, tt.code = 400, "unknown_field"
			ts.expect(t, key, tt)
		})
	}
	// encoding/json skips null; the API says a field is given or left out.
	for _, tt := range []refusal{
		{name: "null name", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"name":null}`, field: "name"},
		{name: "null nested", method: "PATCH", path: "/api/v1/programs/" + prog, body: `{"design":{"label_color":null}}`, field: "design.label_color"},
		{name: "null points", method: "POST", path: "/api/v1/cards/" + serial + "/transactions",
			body: `{"kind":"earn","purchase_amount":100,"points":null}`, field: "points"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.status, tt.code = 400, "wrong_type"
			ts.expect(t, key, tt)
		})
	}
	ts.expect(t, key, refusal{method: "PATCH", path: "/api/v1/programs/" + prog, body: `null`, status: 400, code: "malformed_json"})
	if n := ts.count("transactions WHERE kind = 'earn'"); n != 0 {
		t.Errorf("a case-folded transaction was posted: %d earn lines", n)
	}
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+prog, key, nil); p["version"] != 1.0 {
		t.Errorf("a case-folded update changed the program: %v", p)
	}
}

func TestMalformedCursorIsBadRequest(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	hook := ts.mustDo(201, "POST", "/api/v1/webhooks", key, `{"url":"https://hooks.example.com/","events":["card.issued"]}`)["id"].(string)
	for _, path := range []string{"/api/v1/programs", "/api/v1/cards", "/api/v1/campaigns", "/api/v1/dead-letters",
		"/api/v1/cards/" + serial + "/transactions", "/api/v1/webhooks/" + hook + "/deliveries"} {
		for _, cursor := range []string{"abc", "-1", "%00", "bm9wZQ", "1.5"} {
			t.Run(path+"?cursor="+cursor, func(t *testing.T) {
				ts.expect(t, key, refusal{method: "GET", path: path + "?cursor=" + cursor, status: 400, code: "invalid_query", field: "cursor"})
			})
		}
	}
}

// goTypeName matches what a Go type looks like in an error: a package
// qualifier, a struct, slice or map type, an unmarshal error.
var goTypeName = regexp.MustCompile(`\b(api|store|loyalty|json|reflect|time)\.[A-Za-z]|struct|\[\][a-z*]|map\[|\*[a-z]+\.|interface \{|Go value|unmarshal`)

func TestErrorMessagesNameNoGoTypes(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	programs, programPath := "/api/v1/programs", "/api/v1/programs/"+prog
	bodies := []struct{ method, path, body string }{
		{"POST", programs, `{"name":"x","design":"blue"}`},
		{"POST", programs, `{"name":"x","design":{"logo_text":5}}`},
		{"POST", programs, `{"name":"x","tiers":{"code":"a"}}`},
		{"POST", programs, `{"name":"x","tiers":[5]}`},
		{"POST", programs, `{"name":"x","tiers":[{"code":"a","name":"A","threshold":"0"}]}`},
		{"POST", programs, `{"name":"x","tiers":"gold"}`},
		{"POST", programs, `{"name":["x"]}`},
		{"POST", programs, `{"name":"x","earn_rate_bp":1e40}`},
		{"POST", programs, `{"name":"x","earn_rate_bp":-0.5}`},
		{"POST", programs, `{"name":"x","tier_downgrade":"yes"}`},
		{"POST", programs, `"x"`},
		{"POST", programs, `null`},
		{"POST", programs, `[{"name":"x"}]`},
		{"POST", programs, `{"name":"x",}`},
		{"POST", programs, `{"name":"x"`},
		{"POST", programs, `{"name":"x"} {"name":"y"}`},
		{"PATCH", programPath, `{"tiers":[{"code":"a","name":"A","threshold":5}]}`},
		{"PATCH", programPath, `{"tier_basis":"visits"}`},
		{"PATCH", programPath, `{"points_lifetime_days":{"days":3}}`},
		{"POST", programPath + "/cards", `{"phone":{"number":"+79123456789"}}`},
		{"POST", programPath + "/cards", `{"phone":"+79123456780","sms_consent":1}`},
		{"POST", "/api/v1/cards/" + serial + "/transactions", `{"kind":"earn","purchase_amount":"100"}`},
		{"POST", "/api/v1/cards/" + serial + "/transactions", `{"kind":["earn"]}`},
		{"POST", "/api/v1/cards/" + serial + "/transactions", `{"kind":"earn","purchase_amount":100,"points":1}`},
		{"POST", "/api/v1/cards/" + serial + "/transactions", `{"kind":"refund"}`},
		{"POST", "/api/v1/cards/" + serial + "/messages", `{"text":null,"x":1}`},
		{"POST", "/api/v1/cards/" + serial + "/fcm-tokens", `{"token":7}`},
		{"POST", "/api/v1/campaigns", `{"program_id":"` + prog + `","name":"x","template":"{link}","lapsed_days":"90"}`},
		{"POST", "/api/v1/campaigns", `{"program_id":"` + prog + `","name":"x","template":"{link}","holdout_percent":12.5}`},
		{"POST", "/api/v1/campaigns", `{"program_id":"` + prog + `","name":"x","template":"no link"}`},
		{"POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/","events":"card.issued"}`},
		{"POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/","events":[1]}`},
		{"POST", "/api/v1/webhooks", `{"url":"ftp://x","events":["card.issued"]}`},
		{"PUT", programPath + "/images/logo", "GIF89a"},
		{"PUT", programPath + "/images/logo", "\x89PNG\r\n\x1a\n broken"},
	}
	for _, b := range bodies {
		t.Run(b.method+" "+b.path+" "+b.body, func(t *testing.T) {
			var res response
			if strings.HasSuffix(b.path, "/logo") {
				req := httptest.NewRequest(b.method, b.path, strings.NewReader(b.body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "image/png")
				res = response{httptest.NewRecorder()}
				ts.http.ServeHTTP(res.ResponseRecorder, req)
			} else {
				res = ts.send(key, refusal{name: b.body, method: b.method, path: b.path, body: b.body})
			}
			if res.Code < 400 || res.Code >= 500 {
				t.Fatalf("status = %d, want a refusal\n%s", res.Code, res.Body.String())
			}
			res.errorOf(t)
			msg := res.json(t)["error"].(map[string]any)["message"].(string)
			if goTypeName.MatchString(msg) {
				t.Errorf("message names a Go type: %q", msg)
			}
			if strings.HasSuffix(msg, ":") || strings.Contains(msg, "%!") {
				t.Errorf("message does not read as a sentence: %q", msg)
			}
		})
	}
}

// TestGoTypeNamePatternBites keeps the pattern above honest.
func TestGoTypeNamePatternBites(t *testing.T) {
	for _, msg := range []string{"design must be a api.designInput, not string", "tiers must be a []loyalty.Tier, not object",
		"json: cannot unmarshal object into Go value of type map[string]int", "x must be a *store.Program"} {
		if !goTypeName.MatchString(msg) {
			t.Errorf("%q passes", msg)
		}
	}
}

// TestLongNameFitsTheLogo: a program name of 100 characters is valid, and
// the logo text it defaults to is cut to the 40 the logo row takes.
func TestLongNameFitsTheLogo(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	name := strings.Repeat("я", 100)
	p := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": name})
	if p["name"] != name || p["design"].(map[string]any)["logo_text"] != strings.Repeat("я", 40) {
		t.Fatalf("name %q, logo text %q", p["name"], p["design"].(map[string]any)["logo_text"])
	}
}
