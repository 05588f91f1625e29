package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// balanceIsLedger checks the card's balance against the sum of its ledger.
func (r *rig) balanceIsLedger(merchantID, serial string) int64 {
	r.t.Helper()
	card, err := r.st.Cards().Card(context.Background(), merchantID, serial)
	if err != nil {
		r.t.Fatal(err)
	}
	var sum int64
	for _, t := range r.ledger(merchantID, serial) {
		sum += t.Points
	}
	if sum != card.Balance {
		r.t.Fatalf("balance %d, ledger sums to %d", card.Balance, sum)
	}
	return card.Balance
}

// TestCashierFormPostsOnce: the earn form sent twice at once (a double
// tap) makes one ledger line and one audit entry; both answers go back
// to the card.
func TestCashierFormPostsOnce(t *testing.T) {
	r := newRig(t)
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	c := r.as(Cashier)
	shown := c.get("/console/cashier?number=" + card.Number)
	if shown.status != http.StatusOK || !strings.Contains(shown.body, `id="balance">100`) {
		t.Fatalf("cashier page: %d\n%s", shown.status, shown.body)
	}
	form := url.Values{"csrf": {csrfOf(shown.body)}, "action": {"earn"}, "serial": {card.SerialNumber},
		"number": {card.Number}, "key": {fieldOf(shown.body, `id="earn-form"`, "key")}, "value": {"1 250,00"}}
	var wg sync.WaitGroup
	answers := make([]page, 2)
	for i := range answers {
		wg.Go(func() { answers[i] = c.post("/console/cashier", form) })
	}
	wg.Wait()
	for _, p := range answers {
		if p.status != http.StatusSeeOther || p.location != "/console/cashier?number="+card.Number+"&done=1" {
			t.Fatalf("earn: %d → %q\n%s", p.status, p.location, p.body)
		}
	}
	lines := r.ledger(r.merchant.ID, card.SerialNumber)
	if len(lines) != 2 || lines[0].Kind != loyalty.Earn || lines[0].Points != 62 || lines[0].PurchaseAmount != 125000 {
		t.Fatalf("ledger = %+v, want the welcome bonus and one earn of 62", lines)
	}
	if b := r.balanceIsLedger(r.merchant.ID, card.SerialNumber); b != 162 {
		t.Fatalf("balance %d, want 162", b)
	}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 100)
	earns := 0
	for _, e := range log {
		if e.Action == "ledger.earn" {
			earns++
			if e.UserEmail != r.emails[Cashier] || e.Subject != card.Number || e.Ref != "form:"+form.Get("key") || e.Detail != "+62" {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if earns != 1 {
		t.Fatalf("%d earn entries in the audit log, want 1", earns)
	}
	after := c.get(answers[0].location)
	if !strings.Contains(after.body, `id="balance">162`) || !strings.Contains(after.body, `id="last"`) {
		t.Fatalf("after the earn the page shows:\n%s", after.body)
	}

	// Redeeming more than the balance is the API's 409, shown by the field.
	shown = c.get("/console/cashier?number=" + card.Number)
	p := c.post("/console/cashier", url.Values{"csrf": {csrfOf(shown.body)}, "action": {"redeem"},
		"serial": {card.SerialNumber}, "number": {card.Number}, "key": {fieldOf(shown.body, `id="redeem-form"`, "key")},
		"value": {"500"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "недостаточно баллов") {
		t.Fatalf("redeem 500 of 162: %d\n%s", p.status, p.body)
	}
	// A typed amount that is not one is refused before the API.
	p = c.post("/console/cashier", url.Values{"csrf": {csrfOf(shown.body)}, "action": {"earn"},
		"serial": {card.SerialNumber}, "number": {card.Number}, "key": {fieldOf(shown.body, `id="earn-form"`, "key")},
		"value": {"12,5,0"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad amount: %d", p.status)
	}
	if b := r.balanceIsLedger(r.merchant.ID, card.SerialNumber); b != 162 {
		t.Fatalf("balance %d after refusals, want 162", b)
	}
	if p := c.get("/console/cashier?number=0000"); p.status != http.StatusNotFound || !strings.Contains(p.body, `id="not-found"`) {
		t.Fatalf("unknown number: %d", p.status)
	}
}

// TestAdjustmentNeedsAReasonAndNamesItsAuthor.
func TestAdjustmentNeedsAReasonAndNamesItsAuthor(t *testing.T) {
	r := newRig(t)
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	c := r.as(Manager)
	path := "/console/customers/" + card.CustomerID
	shown := c.get(path)
	key := fieldOf(shown.body, `id="card-`+card.Number+`"`, "key")
	form := url.Values{"serial": {card.SerialNumber}, "key": {key}, "points": {"-30"}}
	if p := c.postForm(path+"/adjust", form); p.status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.body, "Укажите причину") {
		t.Fatalf("no reason: %d", p.status)
	}
	form.Set("reason", "Списание по жалобе №12")
	for range 2 { // sent twice: one line
		if p := c.postForm(path+"/adjust", form); p.status != http.StatusSeeOther {
			t.Fatalf("adjust: %d\n%s", p.status, p.body)
		}
	}
	lines := r.ledger(r.merchant.ID, card.SerialNumber)
	if len(lines) != 2 || lines[0].Kind != loyalty.Adjust || lines[0].Points != -30 || lines[0].Reason != "Списание по жалобе №12" {
		t.Fatalf("ledger = %+v", lines)
	}
	r.balanceIsLedger(r.merchant.ID, card.SerialNumber)
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 100)
	if len(log) == 0 || log[0].Action != "ledger.adjust" || log[0].UserEmail != r.emails[Manager] ||
		log[0].Detail != "-30: Списание по жалобе №12" || !strings.HasPrefix(log[0].Ref, "form:") {
		t.Fatalf("audit = %+v", log)
	}
	page := c.get(path + "?adjusted=1")
	for _, want := range []string{"Списание по жалобе №12", `id="adjusted"`, "Корректировка", "−30", "70"} {
		if !strings.Contains(strings.ReplaceAll(page.body, "-30", "−30"), want) {
			t.Errorf("customer page lacks %q", want)
		}
	}
	// The reports screen shows who did it.
	if p := c.get("/console/reports"); !strings.Contains(p.body, r.emails[Manager]) || !strings.Contains(p.body, "Корректировка баланса") {
		t.Errorf("reports do not show the adjustment:\n%s", p.body)
	}
}

// TestIssueAndSearch issues a card from the console (through the API: the
// welcome bonus is there) and finds it by phone, last digits, number and
// name.
func TestIssueAndSearch(t *testing.T) {
	r := newRig(t)
	c := r.as(Manager)
	c.get("/console/customers")
	bad := c.postForm("/console/customers", url.Values{"program": {r.program.ID}, "phone": {"12"}, "name": {"Борис"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `id="phone-error"`) {
		t.Fatalf("bad phone: %d", bad.status)
	}
	p := c.postForm("/console/customers", url.Values{"program": {r.program.ID}, "phone": {"8 (912) 000-11-22"},
		"name": {"Борис Иванов"}, "sms_consent": {"yes"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/customers/") {
		t.Fatalf("issue: %d → %q\n%s", p.status, p.location, p.body)
	}
	cards, _ := r.st.Customers().Search(context.Background(), r.merchant.ID, store.CustomerQuery{Phone: "+79120001122"}, 5)
	if len(cards) != 1 || cards[0].Balance != 100 || !cards[0].Customer.SMSConsent {
		t.Fatalf("issued: %+v", cards)
	}
	for _, q := range []string{"+7 912 000 11 22", "89120001122", "1122", "2000", cards[0].Number, "борис", "Иванов"} {
		if p := c.get("/console/customers?q=" + url.QueryEscape(q)); !strings.Contains(p.body, "<td>"+cards[0].Number+"</td>") {
			t.Errorf("search %q does not find the card", q)
		}
	}
	if p := c.get("/console/customers?q=" + url.QueryEscape("Пётр")); !strings.Contains(p.body, `id="no-results"`) {
		t.Errorf("search for nobody finds something")
	}
}

// TestProgramSettings saves through the API, shows its refusals by the
// field, and records what changed.
func TestProgramSettings(t *testing.T) {
	r := newRig(t)
	c := r.as(Owner)
	path := "/console/programs/" + r.program.ID
	c.get(path)
	form := url.Values{"name": {"Кофейные баллы"}, "currency_label": {"баллы"}, "earn_rate": {"7,5"}, "welcome_bonus": {"50"},
		"terms": {"1 балл = 1 ₽"}, "barcode_format": {"code128"}, "locale": {"en"}, "points_lifetime_days": {"365"},
		"background_color": {"#112233"}, "foreground_color": {"#ffffff"}, "label_color": {"#eeeeee"}, "logo_text": {"Кофе"},
		"ask_name": {"yes"}, "sms_daily_budget": {"200"}, "referrer_points": {"0"}, "friend_points": {"0"},
		"min_purchase_amount": {"0"}, "monthly_limit": {"0"}}
	bad := clone(form)
	bad.Set("background_color", "red")
	if p := c.postForm(path, bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "design.background_color must be a colour") {
		t.Fatalf("bad colour: %d\n%s", p.status, p.body)
	}
	if p := c.postForm(path, form); p.status != http.StatusSeeOther || p.location != path+"?saved=settings" {
		t.Fatalf("save: %d → %q\n%s", p.status, p.location, p.body)
	}
	got, _ := r.st.Programs().Program(context.Background(), r.merchant.ID, r.program.ID)
	if got.EarnRateBP != 750 || got.WelcomeBonus != 50 || got.BarcodeFormat != "code128" || got.Locale != "en" ||
		got.PointsLifetimeDays != 365 || got.BackgroundColor != "#112233" || got.Version == r.program.Version {
		t.Fatalf("program after save: %+v", got)
	}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 10)
	if len(log) == 0 || log[0].Action != "program.update" || !strings.Contains(log[0].Detail, "earn_rate_bp=750") ||
		!strings.Contains(log[0].Detail, "background_color=#112233") || strings.Contains(log[0].Detail, "foreground") {
		t.Fatalf("audit = %+v", log)
	}
	// A new program opens its settings.
	c.get("/console/programs")
	if p := c.postForm("/console/programs", url.Values{"name": {"Вторая"}}); p.status != http.StatusSeeOther ||
		!strings.HasPrefix(p.location, "/console/programs/prg_") {
		t.Fatalf("create: %d → %q", p.status, p.location)
	}
}

// TestKeysAndWebhooks: a key made in the console works against the API,
// a form sent twice makes one, revoking stops it; a webhook is added with
// the API's URL rules and its secret shown once.
func TestKeysAndWebhooks(t *testing.T) {
	r := newRig(t)
	c := r.as(Owner)
	shown := c.get("/console/keys")
	form := url.Values{"key": {fieldOf(shown.body, `action="/console/keys"`, "key")}}
	p := c.postForm("/console/keys", form)
	if p.status != http.StatusCreated {
		t.Fatalf("create key: %d\n%s", p.status, p.body)
	}
	key := between(p.body, `id="new-key">`, "<")
	if !strings.HasPrefix(key, "lp_") {
		t.Fatalf("new key %q", key)
	}
	form.Set("csrf", csrfOf(shown.body))
	if again := c.post("/console/keys", form); again.status != http.StatusConflict || strings.Contains(again.body, `id="new-key"`) {
		t.Fatalf("the same form again: %d", again.status)
	}
	apiGet := func() int {
		req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/programs", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := apiGet(); got != http.StatusOK {
		t.Fatalf("the new key against the API: %d", got)
	}
	keys, _ := r.st.APIKeys().List(context.Background(), r.merchant.ID)
	if len(keys) != 1 {
		t.Fatalf("%d keys, want 1", len(keys))
	}
	c.get("/console/keys")
	if p := c.postForm("/console/keys/"+keys[0].ID+"/revoke", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.status)
	}
	if got := apiGet(); got != http.StatusUnauthorized {
		t.Fatalf("a revoked key against the API: %d", got)
	}

	c.get("/console/webhooks")
	p = c.postForm("/console/webhooks", url.Values{"url": {"https://10.0.0.1/hook"}, "events": {"card.issued"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="url-error"`) {
		t.Fatalf("internal address: %d\n%s", p.status, p.body)
	}
	p = c.postForm("/console/webhooks", url.Values{"url": {"https://crm.example.com/hook"}, "events": {"card.issued", "balance.changed"}})
	if p.status != http.StatusCreated || !strings.HasPrefix(between(p.body, `id="new-secret">`, "<"), "whsec_") {
		t.Fatalf("webhook: %d\n%s", p.status, p.body)
	}
	eps, _ := r.st.Webhooks().WebhookEndpoints(context.Background(), r.merchant.ID)
	if len(eps) != 1 || len(eps[0].Events) != 2 {
		t.Fatalf("endpoints %+v", eps)
	}
	if p := c.get("/console/webhooks?deliveries=" + eps[0].ID); p.status != http.StatusOK || !strings.Contains(p.body, `id="deliveries"`) {
		t.Fatalf("deliveries: %d", p.status)
	}
	if p := c.postForm("/console/webhooks/"+eps[0].ID+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if eps, _ := r.st.Webhooks().WebhookEndpoints(context.Background(), r.merchant.ID); len(eps) != 0 {
		t.Fatalf("endpoint not deleted")
	}
	actions := map[string]int{}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 100)
	for _, e := range log {
		if e.UserEmail == r.emails[Owner] {
			actions[e.Action]++
		}
	}
	for _, a := range []string{"apikey.create", "apikey.revoke", "webhook.create", "webhook.delete"} {
		if actions[a] != 1 {
			t.Errorf("audit has %d %s by the owner, want 1 (%v)", actions[a], a, actions)
		}
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestMerchantsSeeOnlyTheirOwn: a user of another merchant reaches
// nothing of this one by URL or search, and changes nothing.
func TestMerchantsSeeOnlyTheirOwn(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	otherM, _ := r.newMerchant("Пекарня", "bakery")
	pw := r.newUser(otherM.ID, "owner@bakery.example", Owner)
	ep := store.WebhookEndpoint{MerchantID: r.merchant.ID, URL: "https://crm.example.com/hook", Events: []string{"card.issued"}}
	if err := r.st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	if err := r.st.Merchants().CreateAPIKey(ctx, store.APIKey{ID: "key_coffee", MerchantID: r.merchant.ID, SecretHash: []byte("h")}); err != nil {
		t.Fatal(err)
	}
	c := r.client()
	c.login("owner@bakery.example", pw)
	for _, path := range []string{"/console/customers/" + card.CustomerID, "/console/programs/" + r.program.ID,
		"/console/webhooks?deliveries=" + ep.ID, "/console/dashboard?program=" + r.program.ID,
		"/console/programs/" + r.program.ID + "/preview", "/console/programs/" + r.program.ID + "/image/logo@2x.png",
		"/console/programs/" + r.program.ID + "/poster/pdf"} {
		if p := c.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		}
	}
	for _, q := range []string{card.Number, "Анна", "+79123456789"} {
		if p := c.get("/console/customers?q=" + url.QueryEscape(q)); !strings.Contains(p.body, `id="no-results"`) {
			t.Errorf("search %q finds the other merchant's card", q)
		}
	}
	if p := c.get("/console/cashier?number=" + card.Number); p.status != http.StatusNotFound {
		t.Errorf("cashier finds the other merchant's card: %d", p.status)
	}
	c.get("/console/cashier")
	posts := map[string]url.Values{
		"/console/customers/" + card.CustomerID + "/adjust": {"serial": {card.SerialNumber}, "key": {newToken()}, "points": {"5"}, "reason": {"x"}},
		"/console/cashier": {"action": {"earn"}, "serial": {card.SerialNumber}, "number": {card.Number}, "key": {newToken()}, "value": {"100"}},
		"/console/programs/" + r.program.ID: {"name": {"Взлом"}, "earn_rate": {"50"}, "welcome_bonus": {"0"}, "points_lifetime_days": {"0"},
			"sms_daily_budget": {"0"}, "referrer_points": {"0"}, "friend_points": {"0"}, "min_purchase_amount": {"0"}, "monthly_limit": {"0"}},
		"/console/keys/key_coffee/revoke":        {},
		"/console/webhooks/" + ep.ID + "/delete": {},
	}
	for path, form := range posts {
		if p := c.postForm(path, form); p.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, p.status)
		}
	}
	if n := len(r.ledger(r.merchant.ID, card.SerialNumber)); n != 1 {
		t.Errorf("%d ledger lines, want the welcome bonus only", n)
	}
	if p, _ := r.st.Programs().Program(ctx, r.merchant.ID, r.program.ID); p.Name != r.program.Name {
		t.Errorf("program renamed to %q", p.Name)
	}
	if k, _ := r.st.Merchants().APIKey(ctx, "key_coffee"); k.Revoked {
		t.Error("key revoked by another merchant")
	}
	if eps, _ := r.st.Webhooks().WebhookEndpoints(ctx, r.merchant.ID); len(eps) != 1 {
		t.Error("webhook deleted by another merchant")
	}
}
