package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

func testBox(t *testing.T) *credential.Box {
	t.Helper()
	box, err := credential.NewBox(bytes.Repeat([]byte{9}, credential.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

const (
	koshelekLogin    = "cardsmobile-zerno"
	koshelekPassword = "Kosh3lek-partner-pw"
)

// koshelekProgram makes a program with the «Кошелёк» channel on and
// returns it with a fake Кошелёк platform that calls its partner API.
func (ts *testServer) koshelekProgram(key string) (string, *koshelektest.Client) {
	ts.t.Helper()
	prog := ts.program(key)
	p := ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"koshelek": map[string]any{
		"login": koshelekLogin, "password": koshelekPassword, "push_login": "zerno-push", "push_password": "push-pw"}})
	return prog, &koshelektest.Client{T: ts.t, BaseURL: p["koshelek_base_url"].(string), Login: koshelekLogin,
		Pass: koshelekPassword, Handler: ts.http}
}

func TestKoshelekSettingsAreSetOnTheProgramAndNeverShown(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+prog, key, nil); p["koshelek_base_url"] != nil ||
		p["koshelek"].(map[string]any)["enabled"] != false {
		t.Fatalf("a new program shows %v / %v", p["koshelek_base_url"], p["koshelek"])
	}

	// Bad input: 4xx naming the field, and nothing written, the program's
	// own fields included.
	for _, c := range []struct {
		body        map[string]any
		status      int
		field, code string
	}{
		{map[string]any{"koshelek": map[string]any{"login": "zerno"}}, 422, "koshelek.password", "invalid_field"},
		{map[string]any{"koshelek": map[string]any{"password": koshelekPassword}}, 422, "koshelek.login", "invalid_field"},
		{map[string]any{"name": "Новое имя", "koshelek": map[string]any{"login": "ze:rno", "password": koshelekPassword}}, 422, "koshelek.login", "invalid_field"},
		{map[string]any{"koshelek": map[string]any{"login": "zerno", "password": "short"}}, 422, "koshelek.password", "invalid_field"},
		{map[string]any{"koshelek": map[string]any{"login": "zerno", "password": koshelekPassword, "push_login": "p"}}, 422, "koshelek.push_password", "invalid_field"},
		{map[string]any{"koshelek": map[string]any{"login": "zerno", "password": koshelekPassword, "push_login": "p:q", "push_password": "x"}}, 422, "koshelek.push_login", "invalid_field"},
		{map[string]any{"koshelek": map[string]any{"login": "zerno", "pasword": koshelekPassword}}, 400, "koshelek.pasword", "unknown_field"},
		{map[string]any{"koshelek": map[string]any{"enabled": "yes"}}, 400, "koshelek.enabled", "wrong_type"},
	} {
		res := ts.do("PATCH", "/api/v1/programs/"+prog, key, c.body)
		if code, field := res.errorOf(t); res.Code != c.status || code != c.code || field != c.field {
			t.Errorf("PATCH %v = %d %s %s; want %d %s %s", c.body, res.Code, code, field, c.status, c.code, c.field)
		}
	}
	if n := ts.count("koshelek_programs"); n != 0 {
		t.Fatalf("%d settings rows after refusals", n)
	}
	if p := ts.mustDo(200, "GET", "/api/v1/programs/"+prog, key, nil); p["name"] != "Кофейня" {
		t.Fatalf("a refused PATCH changed the name: %v", p["name"])
	}
	// Only PATCH takes the channel: a new program does not.
	res := ts.do("POST", "/api/v1/programs", key, map[string]any{"name": "X", "koshelek": map[string]any{"login": "a"}})
	if code, field := res.errorOf(t); res.Code != 400 || code != "unknown_field" || field != "koshelek" {
		t.Errorf("create with koshelek = %d %s %s", res.Code, code, field)
	}

	res = ts.do("PATCH", "/api/v1/programs/"+prog, key, map[string]any{"name": "Зерно", "koshelek": map[string]any{
		"login": koshelekLogin, "password": koshelekPassword, "push_login": "zerno-push", "push_password": "push-pw-секрет"}})
	if res.Code != 200 {
		t.Fatalf("PATCH = %d %s", res.Code, res.Body.String())
	}
	p := res.json(t)
	want := "https://cards.example.com/koshelek/" + prog
	k := p["koshelek"].(map[string]any)
	if p["name"] != "Зерно" || p["koshelek_base_url"] != want || k["base_url"] != want || k["enabled"] != true ||
		k["login"] != koshelekLogin || k["push_login"] != "zerno-push" || k["push_configured"] != true ||
		k["push_callback_url"] != want+"/push-callback" {
		t.Fatalf("PATCH answer = %v", p)
	}
	var hash, sealed string
	ts.db.QueryRow(`SELECT password_hash, push_password FROM koshelek_programs WHERE program_id = ?`, prog).Scan(&hash, &sealed)
	if !strings.HasPrefix(hash, "$argon2id$") || !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "push-pw") {
		t.Fatalf("stored %q / %q", hash, sealed)
	}
	if got, err := testBox(t).Open(sealed, prog); err != nil || got != "push-pw-секрет" {
		t.Fatalf("sealed push password opens to %q, %v", got, err)
	}
	for _, path := range []string{"/api/v1/programs/" + prog, "/api/v1/programs"} {
		body := ts.do("GET", path, key, nil).Body.String()
		for _, secret := range []string{koshelekPassword, "push-pw", hash, sealed} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
		if !strings.Contains(body, want) {
			t.Errorf("GET %s does not show the base URL", path)
		}
	}

	// A change of the Push API password alone keeps the rest, and the
	// program's version.
	version := p["version"]
	p = ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"koshelek": map[string]any{"push_password": "newer"}})
	if p["version"] != version || p["koshelek"].(map[string]any)["login"] != koshelekLogin {
		t.Fatalf("push password change: %v", p)
	}
	// Off: the base URL is gone and the partner API refuses the login.
	client := &koshelektest.Client{T: t, BaseURL: want, Login: koshelekLogin, Pass: koshelekPassword, Handler: ts.http}
	if _, e := client.Search(url.Values{"msisdn": {"79161234567"}}); e != nil {
		t.Fatalf("search while on = %+v", e)
	}
	p = ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"koshelek": map[string]any{"enabled": false}})
	if p["koshelek_base_url"] != nil || p["koshelek"].(map[string]any)["enabled"] != false {
		t.Fatalf("off: %v", p)
	}
	if _, e := client.Search(url.Values{"msisdn": {"79161234567"}}); e == nil || e.Code != "100" {
		t.Fatalf("search while off = %+v", e)
	}
}

// TestKoshelekPartnerAPIKeepsTheDocumentedContract plays Кошелёк's calls
// against a program's base URL; the fake client checks every answer
// (200 or 422 only, the Content-Type, the error shape, string scalars).
func TestKoshelekPartnerAPIKeepsTheDocumentedContract(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog, k := ts.koshelekProgram(key)
	ts.mustDo(201, "POST", "/api/v1/webhooks", key, map[string]any{"url": "https://crm.example.com/hook",
		"events": []string{"card.issued", "card.installed"}})
	// A customer the merchant already has, with an e-mail.
	known := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79161112233",
		"email": "anna@example.com"})

	// Search: OR-matching, unknown parameters ignored, an empty 200 on a miss.
	for _, q := range []url.Values{
		{"msisdn": {"79161112233"}},
		{"email": {"Anna@Example.com"}},
		{"msisdn": {"79990000000"}, "email": {"anna@example.com"}},
		{"msisdn": {"79161112233"}, "birthDate": {"1990-01-01"}, "someNewParameter": {"x"}},
	} {
		card, e := k.Search(q)
		if e != nil || card == nil || card.CardNumber != known["number"] || card.CardState != "active" ||
			card.Barcode.BarcodeNumber != known["number"] || card.Barcode.BarcodeType != "QR_CODE" {
			t.Errorf("search %v = %+v %+v", q, card, e)
		}
	}
	for _, q := range []url.Values{{"msisdn": {"79990000000"}}, {"birthDate": {"1990-01-01"}}, {}, {"msisdn": {"not a phone"}}} {
		if card, e := k.Search(q); card != nil || e != nil {
			t.Errorf("search %v = %+v %+v; want the empty answer", q, card, e)
		}
	}
	if a := k.Do("GET", "/v1/card", url.Values{"msisdn": {"79990000000"}}, nil, ""); a.Status != 200 || len(a.Body) != 0 {
		t.Errorf("a miss answered %d %q", a.Status, a.Body)
	}

	// Issue for a verified phone: one card per phone, idempotent, the
	// welcome bonus as for any card, an install on channel koshelek.
	profile := map[string]string{"phone": "79162223344", "firstname": "Борис", "surname": "Зернов",
		"email": "boris@example.com", "birthDate": "1985-05-06", "sex": "m", "countryCode": "RU"}
	first, e := k.Issue(profile)
	if e != nil || first.CardState != "active" || len(first.CardNumber) != 13 {
		t.Fatalf("issue = %+v %+v", first, e)
	}
	again, e := k.Issue(profile)
	if e != nil || again.CardNumber != first.CardNumber {
		t.Fatalf("second issue = %+v %+v; want the same card", again, e)
	}
	card, e := k.Card(first.CardNumber)
	if e != nil || card.Bonus == nil || card.Bonus.Total != "100" || card.Bonus.Available != "100" ||
		len(card.Bonus.Bonuses) != 1 || card.Bonus.Bonuses[0].Amount != "100" {
		t.Fatalf("balance = %+v %+v", card, e)
	}
	var serial string
	ts.db.QueryRow(`SELECT serial_number FROM cards WHERE number = ?`, first.CardNumber).Scan(&serial)
	detail := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil)
	installs := detail["installs"].([]any)
	if detail["customer"].(map[string]any)["name"] != "Борис Зернов" || len(installs) != 1 ||
		installs[0].(map[string]any)["channel"] != "koshelek" {
		t.Fatalf("card = %v", detail)
	}
	if n := ts.count("cards"); n != 2 {
		t.Fatalf("%d cards", n)
	}
	var events []string
	rows, err := ts.db.Query(`SELECT event || ' ' || payload FROM webhook_deliveries WHERE payload LIKE ? ORDER BY id`, "%"+serial+"%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e string
		rows.Scan(&e)
		events = append(events, e)
	}
	rows.Close()
	if len(events) != 2 || !strings.HasPrefix(events[0], "card.issued ") || !strings.HasPrefix(events[1], "card.installed ") ||
		!strings.Contains(events[1], `"channel":"koshelek"`) {
		t.Fatalf("webhook events = %v", events)
	}

	// History, newest first, every value a string.
	if res := ts.post(key, serial, "k-1", `{"kind":"earn","purchase_amount":125000}`); res.Code != 201 {
		t.Fatalf("earn = %d %s", res.Code, res.Body.String())
	}
	lines, e := k.History(first.CardNumber, url.Values{"startDate": {"2000-01-01"}})
	if e != nil || len(lines) != 2 || lines[0].Item != "Покупка" || lines[0].Amount != "125000" || lines[0].Bonuses != "62" ||
		lines[1].Item != "Приветственный бонус" || lines[1].Bonuses != "100" || lines[0].Location != "Кофейня" {
		t.Fatalf("history = %+v %+v", lines, e)
	}
	if lines, e := k.History(first.CardNumber, url.Values{"endDate": {"2000-01-01"}}); e != nil || len(lines) != 0 {
		t.Fatalf("history before any line = %+v %+v", lines, e)
	}

	// Communication: consent evidence with source koshelek; a deny of SMS
	// withdraws the SMS consent.
	if e := k.Communication(first.CardNumber, []string{"email", "push"}, []string{"sms", "call"}); e != nil {
		t.Fatalf("communication = %+v", e)
	}
	view := ts.mustDo(200, "GET", "/api/v1/cards/"+serial+"/koshelek", key, nil)
	if view["in_koshelek"] != true || view["card_number"] != first.CardNumber || len(view["consents"].([]any)) != 4 {
		t.Fatalf("koshelek view = %v", view)
	}
	if c := view["consents"].([]any)[0].(map[string]any); c["channel"] != "call" || c["granted"] != false || c["source"] != "koshelek" {
		t.Fatalf("newest consent = %v", c)
	}
	// The SMS answer is in the customer's consent history too.
	var customerID string
	ts.db.QueryRow(`SELECT customer_id FROM cards WHERE serial_number = ?`, serial).Scan(&customerID)
	history := ts.mustDo(200, "GET", "/api/v1/customers/"+customerID+"/consents", key, nil)["consents"].([]any)
	last := history[len(history)-1].(map[string]any)
	if last["channel"] != "sms" || last["granted"] != false || last["source"] != "koshelek" {
		t.Fatalf("customer's consent history ends with %v", last)
	}

	// Errors: the shape, with string codes.
	errCases := []struct {
		name   string
		answer func() koshelektest.Answer
		code   string
	}{
		{"no credentials", func() koshelektest.Answer { return k.Do("GET", "/v1/card", nil, nil, "-") }, "100"},
		{"wrong password", func() koshelektest.Answer {
			return k.Do("GET", "/v1/card", nil, nil, "Basic "+basic(koshelekLogin, "wrong-password"))
		}, "100"},
		{"a bearer token", func() koshelektest.Answer { return k.Do("GET", "/v1/card", nil, nil, "Bearer "+key) }, "100"},
		{"unknown card", func() koshelektest.Answer { return k.Do("GET", "/v1/card/1234567890128", nil, nil, "") }, "102"},
		{"issue without a phone", func() koshelektest.Answer {
			return k.Do("POST", "/v1/card/anonymous", nil, map[string]string{"email": "x@example.com"}, "")
		}, "101"},
		{"issue with a body that is not JSON", func() koshelektest.Answer { return k.Do("POST", "/v1/card/anonymous", nil, "phone=7916", "") }, "101"},
		{"history with a bad date", func() koshelektest.Answer {
			return k.Do("GET", "/v1/card/"+first.CardNumber+"/purchases", url.Values{"startDate": {"01.01.2024"}}, nil, "")
		}, "101"},
		{"communication of an unknown card", func() koshelektest.Answer {
			return k.Do("PUT", "/v1/card/1234567890128/communication", nil, map[string][]string{"allow": {"sms"}}, "")
		}, "102"},
		{"communication with numbers", func() koshelektest.Answer {
			return k.Do("PUT", "/v1/card/"+first.CardNumber+"/communication", nil, map[string][]int{"allow": {1}}, "")
		}, "101"},
		{"a phone of another card", func() koshelektest.Answer {
			return k.Do("PUT", "/v1/card/"+first.CardNumber, nil, map[string]string{"phone": "79161112233"}, "")
		}, "104"},
		{"no such method", func() koshelektest.Answer { return k.Do("DELETE", "/v1/card", nil, nil, "") }, "106"},
		{"no such path", func() koshelektest.Answer { return k.Do("GET", "/v2/cards", nil, nil, "") }, "106"},
	}
	for _, c := range errCases {
		a := c.answer()
		if a.Status != 422 || !strings.Contains(string(a.Body), `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s; want 422 with code %s", c.name, a.Status, a.Body, c.code)
		}
	}

	// A blocked (voided) card is a 422 to the search and to an issue.
	ts.mustDo(200, "POST", "/api/v1/cards/"+known["serial_number"].(string)+"/void", key, nil)
	if card, e := k.Search(url.Values{"msisdn": {"79161112233"}}); card != nil || e == nil || e.Code != "103" {
		t.Errorf("search for a blocked card = %+v %+v", card, e)
	}
	if _, e := k.Issue(map[string]string{"phone": "79161112233"}); e == nil || e.Code != "103" {
		t.Errorf("issue for a blocked card = %+v", e)
	}
	if card, e := k.Card(known["number"].(string)); e != nil || card.CardState != "inactive" {
		t.Errorf("a voided card's info = %+v %+v", card, e)
	}
}

// TestKoshelekLoginSeesOnlyItsProgram: one program's login never reaches
// another program's cards, of the same merchant or another.
func TestKoshelekLoginSeesOnlyItsProgram(t *testing.T) {
	ts := newTestServer(t)
	keyA, keyB := ts.merchant("a"), ts.merchant("b")
	_, a := ts.koshelekProgram(keyA)
	_, a2 := ts.koshelekProgram(keyA)
	_, b := ts.koshelekProgram(keyB)
	b.Pass = "Another-partner-pw"
	ts.mustDo(200, "PATCH", "/api/v1/programs/"+strings.TrimPrefix(b.BaseURL, "https://cards.example.com/koshelek/"), keyB,
		map[string]any{"koshelek": map[string]any{"login": "shop-b", "password": b.Pass}})
	b.Login = "shop-b"
	cardA, e := a.Issue(map[string]string{"phone": "79161234567"})
	if e != nil {
		t.Fatal(e)
	}

	// B's login on A's base URL is refused; B's own base URL finds nothing of A's.
	intruder := &koshelektest.Client{T: t, BaseURL: a.BaseURL, Login: b.Login, Pass: b.Pass, Handler: ts.http}
	if _, e := intruder.Search(url.Values{"msisdn": {"79161234567"}}); e == nil || e.Code != "100" {
		t.Errorf("B's login on A's program = %+v", e)
	}
	if card, e := b.Search(url.Values{"msisdn": {"79161234567"}}); card != nil || e != nil {
		t.Errorf("B's program finds A's customer: %+v %+v", card, e)
	}
	if _, e := b.Card(cardA.CardNumber); e == nil || e.Code != "102" {
		t.Errorf("B's program shows A's card: %+v", e)
	}
	// Another program of the same merchant, with the same login: its own
	// URL, its own cards.
	if card, e := a2.Search(url.Values{"msisdn": {"79161234567"}}); card != nil || e != nil {
		t.Errorf("A's second program finds the first's card: %+v %+v", card, e)
	}
	if e := a2.Communication(cardA.CardNumber, []string{"sms"}, nil); e == nil || e.Code != "102" {
		t.Errorf("A's second program records consent on the first's card: %+v", e)
	}
	if n := ts.count("koshelek_consents"); n != 0 {
		t.Errorf("%d consent rows", n)
	}
}

func basic(login, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(login + ":" + password))
}

// TestKoshelekLoginGuessingIsThrottled: a client address gets a few
// password checks a minute, then 422 code 105 without a check; Кошелёк's
// own login, checked once before, goes on working.
func TestKoshelekLoginGuessingIsThrottled(t *testing.T) {
	ts := newTestServer(t, func(o *api.Options) { o.Koshelek.LoginChecks = 3 })
	key := ts.merchant("shop")
	_, k := ts.koshelekProgram(key)
	if _, e := k.Search(url.Values{"msisdn": {"79161234567"}}); e != nil {
		t.Fatalf("the right login = %+v", e)
	}
	var codes []string
	for i := range 5 {
		a := k.Do("GET", "/v1/card", nil, nil, "Basic "+basic(koshelekLogin, "guess-"+string(rune('a'+i))))
		var e koshelektest.Error
		json.Unmarshal(a.Body, &e)
		codes = append(codes, e.Code)
	}
	// The right login took one check of the three.
	if strings.Join(codes, ",") != "100,100,105,105,105" {
		t.Fatalf("codes = %v", codes)
	}
	if _, e := k.Search(url.Values{"msisdn": {"79161234567"}}); e != nil {
		t.Fatalf("the right login after the guesses = %+v", e)
	}
}
