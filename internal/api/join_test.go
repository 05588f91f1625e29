package api_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
	"github.com/loyalpass/loyalpass/internal/store"
)

// joinRig is an API server whose join page texts through a fake Twilio.
type joinRig struct {
	*testServer
	twilio *smstest.Twilio
	key    string
	prog   map[string]any
}

func newJoinRig(t *testing.T, tweaks ...func(*api.Options)) *joinRig {
	t.Helper()
	tw := smstest.NewTwilio(t, "ACjoin", "join-token")
	provider, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: tw.URL, AccountSID: "ACjoin", AuthToken: "join-token", From: "Coffee"})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, append([]func(*api.Options){func(o *api.Options) { o.Join.Provider = provider }}, tweaks...)...)
	key := ts.merchant("shop")
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Кофейня", "welcome_bonus": 100,
		"join":     map[string]any{"ask_birthday": true},
		"referral": map[string]any{"referrer_points": 100, "friend_points": 50, "min_purchase_amount": 50000}})
	return &joinRig{testServer: ts, twilio: tw, key: key, prog: prog}
}

// joinPath is the program's join page path, from its join_url.
func (r *joinRig) joinPath() string {
	u, err := url.Parse(r.prog["join_url"].(string))
	if err != nil || !strings.HasPrefix(u.Path, "/j/") {
		r.t.Fatalf("join_url %v", r.prog["join_url"])
	}
	return u.Path
}

// page sends a browser's request: GET, or POST of a form.
func (r *joinRig) page(method, path string, form url.Values) *httptest.ResponseRecorder {
	r.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148 Safari/604.1")
	req.Header.Set("Accept-Language", "ru-RU,ru")
	rec := httptest.NewRecorder()
	r.http.ServeHTTP(rec, req)
	return rec
}

var smsCode = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode reads the code of the latest text to phone from the fake.
func (r *joinRig) lastCode(phone string) string {
	r.t.Helper()
	msgs := r.twilio.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == phone {
			m := smsCode.FindStringSubmatch(msgs[i].Text)
			if m == nil {
				r.t.Fatalf("no code in %q", msgs[i].Text)
			}
			return m[1]
		}
	}
	r.t.Fatalf("no text to %s", phone)
	return ""
}

// join fills the form, reads the code and enters it; it returns the
// card page the customer lands on.
func (r *joinRig) join(path string, form url.Values) string {
	r.t.Helper()
	rec := r.page("POST", path, form)
	if rec.Code != http.StatusOK {
		r.t.Fatalf("POST %s = %d\n%s", path, rec.Code, rec.Body)
	}
	action := r.joinPath() + "/verify"
	rec = r.page("POST", action, url.Values{"phone": {"+79161234567"}, "code": {r.lastCode("+79161234567")}})
	if rec.Code != http.StatusSeeOther {
		r.t.Fatalf("POST %s = %d\n%s", action, rec.Code, rec.Body)
	}
	return rec.Header().Get("Location")
}

func joinForm(extra ...string) url.Values {
	v := url.Values{"phone": {"8 916 123-45-67"}, "consent_personal_data": {"yes"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// noResendWait lets a test join twice in a row.
func noResendWait(o *api.Options) {
	o.Join.Limits = loyalty.DefaultJoinLimits
	o.Join.Limits.ResendWait = 0
}

func TestJoinPageIssuesAndRestoresTheCard(t *testing.T) {
	r := newJoinRig(t, noResendWait)
	if rec := r.page("GET", r.joinPath(), nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="birthday"`) {
		t.Fatalf("join page: %d", rec.Code)
	}
	loc := r.join(r.joinPath(), joinForm("name", "Анна", "birthday", "1990-05-17", "consent_ads", "yes"))
	if !strings.HasPrefix(loc, "https://cards.example.com/c/") {
		t.Fatalf("landed on %q", loc)
	}
	msgs := r.twilio.Messages()
	if len(msgs) != 1 || msgs[0].To != "+79161234567" || msgs[0].From != "Coffee" || !strings.Contains(msgs[0].Text, "Кофейня") {
		t.Fatalf("texts: %+v", msgs)
	}
	// The card page answers with the wallet button.
	page := r.page("GET", strings.TrimPrefix(loc, "https://cards.example.com"), nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `id="apple-wallet"`) {
		t.Fatalf("card page: %d", page.Code)
	}
	list := r.mustDo(200, "GET", "/api/v1/customers?phone=%2B79161234567", r.key, nil)["customers"].([]any)
	if len(list) != 1 {
		t.Fatalf("customers = %v", list)
	}
	cust := list[0].(map[string]any)
	if cust["name"] != "Анна" || cust["birthday"] != "1990-05-17" {
		t.Errorf("customer = %v", cust)
	}
	id := cust["id"].(string)
	detail := r.mustDo(200, "GET", "/api/v1/customers/"+id, r.key, nil)
	cards := detail["cards"].([]any)
	serial := cards[0].(map[string]any)["serial_number"].(string)
	if len(cards) != 1 || cards[0].(map[string]any)["balance"] != 100.0 || detail["may_send_ads"] != true {
		t.Errorf("customer detail = %v", detail)
	}
	// Joining again (a new phone, the same number) lands on the same card.
	r.post(r.key, serial, "buy-1", `{"kind":"earn","purchase_amount":20000}`)
	again := r.join(r.joinPath(), joinForm())
	if again != loc {
		t.Errorf("second join landed on %q, want the same card %q", again, loc)
	}
	if n := r.count("cards"); n != 1 {
		t.Errorf("%d cards", n)
	}
	if n := r.count("transactions WHERE kind = 'welcome'"); n != 1 {
		t.Errorf("%d welcome bonuses", n)
	}
	if c := r.mustDo(200, "GET", "/api/v1/cards/"+serial, r.key, nil); c["balance"] != 110.0 {
		t.Errorf("restored card balance %v, want 110", c["balance"])
	}
	// The consent history: personal data and ads from the join page, with
	// the address, browser and text version, and the texts themselves.
	recs := r.mustDo(200, "GET", "/api/v1/customers/"+id+"/consents", r.key, nil)["consents"].([]any)
	if len(recs) != 3 { // personal data and ads, then personal data again at the second join
		t.Fatalf("consents = %v", recs)
	}
	for _, x := range recs {
		rec := x.(map[string]any)
		if rec["source"] != "join_page" || rec["granted"] != true || rec["ip"] != "192.0.2.1" ||
			!strings.Contains(rec["user_agent"].(string), "iPhone") || !strings.HasPrefix(rec["text_version"].(string), "sha256:") {
			t.Errorf("record %v", rec)
		}
	}
	export := r.mustDo(200, "GET", "/api/v1/customers/"+id+"/export", r.key, nil)
	texts := export["consent_texts"].(map[string]any)
	if len(texts) != 2 {
		t.Errorf("exported texts = %v", texts)
	}
	if lines := export["transactions"].(map[string]any)[serial].([]any); len(lines) != 2 {
		t.Errorf("exported ledger = %v", lines)
	}
	r.assertLedgerBalances()
}

func TestJoinCodeDiesAfterThreeWrongTries(t *testing.T) {
	r := newJoinRig(t)
	if rec := r.page("POST", r.joinPath(), joinForm()); rec.Code != http.StatusOK {
		t.Fatalf("form: %d", rec.Code)
	}
	code := r.lastCode("+79161234567")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	verify := r.joinPath() + "/verify"
	for i, want := range []int{422, 422, 410} {
		rec := r.page("POST", verify, url.Values{"phone": {"+79161234567"}, "code": {wrong}})
		if rec.Code != want {
			t.Fatalf("wrong try %d: %d, want %d", i+1, rec.Code, want)
		}
	}
	if rec := r.page("POST", verify, url.Values{"phone": {"+79161234567"}, "code": {code}}); rec.Code != http.StatusGone {
		t.Errorf("the right code after three wrong tries: %d, want 410", rec.Code)
	}
	if n := r.count("cards"); n != 0 {
		t.Errorf("%d cards issued", n)
	}
}

func TestJoinResendAndLimitsAnswer429(t *testing.T) {
	r := newJoinRig(t)
	if rec := r.page("POST", r.joinPath(), joinForm()); rec.Code != http.StatusOK {
		t.Fatalf("form: %d", rec.Code)
	}
	rec := r.page("POST", r.joinPath(), joinForm())
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), "Попробуйте ещё раз через 1 минуту") {
		t.Fatalf("resend at once: %d %q\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if n := len(r.twilio.Messages()); n != 1 {
		t.Errorf("%d texts, want 1", n)
	}
}

func TestJoinSMSBudgetStopsSends(t *testing.T) {
	r := newJoinRig(t)
	r.mustDo(200, "PATCH", "/api/v1/programs/"+r.prog["id"].(string), r.key, map[string]any{"join": map[string]any{"sms_daily_budget": 2}})
	for i, phone := range []string{"+79161230001", "+79161230002", "+79161230003"} {
		rec := r.page("POST", r.joinPath(), joinForm("phone", phone))
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Fatalf("join %d: %d, want %d", i+1, rec.Code, want)
		}
	}
	if n := len(r.twilio.Messages()); n != 2 {
		t.Errorf("%d texts past a budget of 2", n)
	}
	// A number the provider refuses costs nothing and says so on the form.
	r.twilio.FailNumber("+79161239999", smstest.InvalidNumber)
	r.mustDo(200, "PATCH", "/api/v1/programs/"+r.prog["id"].(string), r.key, map[string]any{"join": map[string]any{"sms_daily_budget": 3}})
	if rec := r.page("POST", r.joinPath(), joinForm("phone", "+79161239999")); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("refused number: %d", rec.Code)
	}
	if rec := r.page("POST", r.joinPath(), joinForm("phone", "+79161230004")); rec.Code != http.StatusOK {
		t.Errorf("the refused number used up the budget: %d", rec.Code)
	}
}

// TestReferralOverHTTP: a friend joins by the referrer's link, a small
// purchase pays nothing, a qualifying one pays both; a refund of one
// kopeck takes the purchase below the minimum and reverses the referral.
// A subscribed endpoint receives referral.joined, referral.qualified and
// referral.reversed once each with their data; the refund replayed emits
// nothing new.
func TestReferralOverHTTP(t *testing.T) {
	r := newJoinRig(t)
	hooks := newHookSink(t, r.testServer, store.EventReferralJoined, store.EventReferralQualified, store.EventReferralReversed)
	referrer := r.card(r.key, r.prog["id"].(string), "+79160000001")
	cust := r.mustDo(200, "GET", "/api/v1/cards/"+referrer, r.key, nil)["customer"].(map[string]any)["id"].(string)
	refURL := r.mustDo(200, "GET", "/api/v1/customers/"+cust, r.key, nil)["cards"].([]any)[0].(map[string]any)["referral_url"].(string)
	if !strings.Contains(refURL, "/r/") {
		t.Fatalf("referral_url %q", refURL)
	}
	shortURL := r.mustDo(200, "GET", "/api/v1/cards/"+referrer, r.key, nil)["short_url"].(string)
	if card := r.page("GET", strings.TrimPrefix(shortURL, "https://cards.example.com"), nil); !strings.Contains(card.Body.String(), refURL) {
		t.Errorf("the card page does not show the referral link %s", refURL)
	}
	u, _ := url.Parse(refURL)
	page := r.page("GET", u.Path, nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "50\u00a0баллов") {
		t.Fatalf("referral page: %d", page.Code)
	}
	ref := regexp.MustCompile(`name="ref" value="([^"]+)"`).FindStringSubmatch(page.Body.String())
	loc := r.join(r.joinPath(), joinForm("ref", ref[1]))
	friend := r.mustDo(200, "GET", "/api/v1/customers?phone=%2B79161234567", r.key, nil)["customers"].([]any)[0].(map[string]any)["id"].(string)
	fs := r.mustDo(200, "GET", "/api/v1/customers/"+friend, r.key, nil)
	friendSerial := fs["cards"].([]any)[0].(map[string]any)["serial_number"].(string)
	if !strings.HasSuffix(loc, fs["cards"].([]any)[0].(map[string]any)["short_url"].(string)[len("https://cards.example.com"):]) {
		t.Errorf("landed on %q", loc)
	}
	report := func() map[string]any {
		return r.mustDo(200, "GET", "/api/v1/programs/"+r.prog["id"].(string)+"/referrals", r.key, nil)
	}
	if rep := report(); rep["joins"] != 1.0 || rep["qualified"] != 0.0 || rep["points_paid"] != 0.0 {
		t.Errorf("report after the join = %v", rep)
	}
	r.post(r.key, friendSerial, "small", `{"kind":"earn","purchase_amount":49999}`)
	if rep := report(); rep["qualified"] != 0.0 {
		t.Errorf("a small purchase qualified: %v", rep)
	}
	res := r.post(r.key, friendSerial, "big", `{"kind":"earn","purchase_amount":50000}`)
	if res.Code != 201 {
		t.Fatalf("purchase: %d %s", res.Code, res.Body)
	}
	// 100 welcome + 24 + 25 earned + 50 for the friend, in the answer.
	if got := res.json(t)["card"].(map[string]any)["balance"]; got != 199.0 {
		t.Errorf("friend balance in the answer %v, want 199", got)
	}
	if c := r.mustDo(200, "GET", "/api/v1/cards/"+referrer, r.key, nil); c["balance"] != 200.0 {
		t.Errorf("referrer balance %v, want 200", c["balance"])
	}
	if rep := report(); rep["joins"] != 1.0 || rep["qualified"] != 1.0 || rep["points_paid"] != 150.0 {
		t.Errorf("report = %v", rep)
	}

	purchase := res.json(t)["transaction"].(map[string]any)["id"].(string)
	refund := fmt.Sprintf(`{"kind":"refund","transaction_id":%q,"purchase_amount":1}`, purchase)
	back := r.post(r.key, friendSerial, "back", refund)
	if back.Code != 201 {
		t.Fatalf("refund: %d %s", back.Code, back.Body)
	}
	if c := r.mustDo(200, "GET", "/api/v1/cards/"+referrer, r.key, nil); c["balance"] != 100.0 {
		t.Errorf("referrer balance after the refund %v, want 100", c["balance"])
	}
	got := hooks.deliver()
	if len(got) != 3 {
		t.Fatalf("the endpoint received %v, want joined, qualified, reversed", got)
	}
	byType := map[string]map[string]any{}
	for _, e := range got {
		byType[e.Type] = e.Data
	}
	referral := byType[store.EventReferralQualified]["referral_id"]
	want := map[string]any{"referral_id": referral, "program_id": r.prog["id"], "referrer_serial_number": referrer,
		"friend_serial_number": friendSerial, "referrer_points": 100.0, "friend_points": 50.0, "purchase_id": purchase,
		"refund_id": back.json(t)["transaction"].(map[string]any)["id"]}
	if reversed := byType[store.EventReferralReversed]; referral == nil || !reflect.DeepEqual(reversed, want) {
		t.Errorf("referral.reversed data = %v\nwant %v", reversed, want)
	}
	if again := r.post(r.key, friendSerial, "back", refund); again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("the refund sent again was not replayed: %d", again.Code)
	}
	if more := hooks.deliver(); len(more) != 0 {
		t.Errorf("the replayed refund emitted %v", more)
	}
	r.assertLedgerBalances()
}

func TestEraseCustomerOverHTTP(t *testing.T) {
	r := newJoinRig(t)
	r.join(r.joinPath(), joinForm("name", "Анна Стёрова"))
	id := r.mustDo(200, "GET", "/api/v1/customers?q=%D1%81%D1%82%D1%91%D1%80", r.key, nil)["customers"].([]any)
	if len(id) != 1 {
		t.Fatalf("search by part of the name: %v", id)
	}
	cid := id[0].(map[string]any)["id"].(string)
	// Consents through the API need a source and evidence.
	res := r.do("PATCH", "/api/v1/customers/"+cid, r.key, map[string]any{"consents": []any{map[string]any{"channel": "ads", "granted": false, "source": "paper"}}})
	if code, field := res.errorOf(t); res.Code != 422 || code != "invalid_field" || field != "consents[0].evidence" {
		t.Errorf("consent without evidence: %d %s %s", res.Code, code, field)
	}
	upd := r.mustDo(200, "PATCH", "/api/v1/customers/"+cid, r.key, map[string]any{"email": "anna@example.com",
		"consents": []any{map[string]any{"channel": "sms", "granted": true, "source": "paper", "evidence": "form 12"}}})
	if upd["email"] != "anna@example.com" || upd["consents"].(map[string]any)["sms"].(map[string]any)["evidence"] != "form 12" {
		t.Errorf("after PATCH: %v", upd)
	}
	if res := r.do("DELETE", "/api/v1/customers/"+cid, r.key, nil); res.Code != 204 {
		t.Fatalf("DELETE: %d %s", res.Code, res.Body)
	}
	after := r.mustDo(200, "GET", "/api/v1/customers/"+cid, r.key, nil)
	if after["name"] != "" || after["email"] != "" || after["erased_at"] == nil || after["may_send_ads"] != false ||
		after["cards"].([]any)[0].(map[string]any)["status"] != "voided" {
		t.Errorf("after erasure: %v", after)
	}
	if list := r.mustDo(200, "GET", "/api/v1/customers?phone=%2B79161234567", r.key, nil)["customers"].([]any); len(list) != 0 {
		t.Errorf("the erased phone is still found: %v", list)
	}
	if res := r.do("PATCH", "/api/v1/customers/"+cid, r.key, map[string]any{"name": "x"}); res.Code != 409 {
		t.Errorf("changing an erased customer: %d", res.Code)
	}
	r.assertLedgerBalances()
}

func TestPosterQRScansToTheJoinURL(t *testing.T) {
	r := newJoinRig(t)
	id := r.prog["id"].(string)
	res := r.do("GET", "/api/v1/programs/"+id+"/poster.png?lang=en", r.key, nil)
	if res.Code != 200 || res.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("poster.png: %d %s", res.Code, res.Header().Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(res.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	got, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode the poster's QR: %v", err)
	}
	if got.GetText() != r.prog["join_url"] {
		t.Errorf("the poster's QR says %q, want %q", got.GetText(), r.prog["join_url"])
	}
	pdf := r.do("GET", "/api/v1/programs/"+id+"/poster.pdf", r.key, nil)
	if pdf.Code != 200 || pdf.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body.Bytes(), []byte("%PDF-")) {
		t.Errorf("poster.pdf: %d %s", pdf.Code, pdf.Header().Get("Content-Type"))
	}
	if res := r.do("GET", "/api/v1/programs/"+id+"/poster.pdf?lang=de", r.key, nil); res.Code != 400 {
		t.Errorf("lang=de: %d", res.Code)
	}
}
