package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// automationPost is a valid create form: two variants typed as A and C.
func automationPost(programID string, change func(url.Values)) url.Values {
	f := url.Values{"program_id": {programID}, "name": {"Скучаем"}, "trigger_type": {"inactive"}, "trigger_days": {"45"}, "holdout_percent": {"20"},
		"frequency_cap_days": {"14"}, "quiet_start": {"21"}, "quiet_end": {"9"}, "timezone": {"Europe/Moscow"},
		"purchase_window_days": {"14"}, "provider": {"log"},
		"variant_text_0": {"{name}, скучаем! {points}: {link}"}, "variant_bonus_0": {"50"},
		"variant_text_2": {"{name}, вернитесь за {points}: {link}"}, "variant_bonus_2": {"100"}}
	if change != nil {
		change(f)
	}
	return f
}

// fieldError returns the error shown in the label of the field named
// name, "" when there is none.
func fieldError(page, name string) string {
	i := strings.Index(page, `<label for="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	rest = rest[:strings.Index(rest, "</label>")]
	j := strings.Index(rest, `class="field-error">`)
	if j < 0 {
		return ""
	}
	rest = rest[j+len(`class="field-error">`):]
	return rest[:strings.Index(rest, "<")]
}

// TestAutomationsCreateThroughTheAPIsRules: a bad field comes back next
// to its field with the API's own reason (no second set of rules), the
// Preview button shows each variant as sent with its segments, and a good
// form makes the automation the API would (the variants packed, the
// trigger's days under the name its type takes), audited.
func TestAutomationsCreateThroughTheAPIsRules(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.as(Manager)
	if p := c.get("/console/automations"); p.status != http.StatusOK || !strings.Contains(p.body, `id="no-automations"`) {
		t.Fatalf("list: %d", p.status)
	}
	for _, tt := range []struct {
		field  string
		change func(url.Values)
	}{
		{"trigger_days", func(f url.Values) { f.Set("trigger_days", "") }},
		{"trigger_days", func(f url.Values) { f.Set("trigger_days", "0") }},
		{"holdout_percent", func(f url.Values) { f.Set("holdout_percent", "80") }},
		{"holdout_percent", func(f url.Values) { f.Set("holdout_percent", "ten") }},
		{"timezone", func(f url.Values) { f.Set("timezone", "Mars/Olympus") }},
		{"quiet_end", func(f url.Values) { f.Set("quiet_end", "24") }},
		{"variant_text_1", func(f url.Values) { f.Set("variant_text_2", "{nope} {link}") }},
		{"variant_text_0", func(f url.Values) {
			f.Del("variant_text_0")
			f.Del("variant_bonus_0")
			f.Del("variant_text_2")
			f.Del("variant_bonus_2")
		}},
		{"name", func(f url.Values) { f.Set("name", "") }},
		{"trigger_type", func(f url.Values) { f.Set("trigger_type", "tier_changed") }}, // the program has no tiers
	} {
		c.get("/console/automations")
		p := c.postForm("/console/automations", automationPost(r.program.ID, tt.change))
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", tt.field, p.status)
			continue
		}
		if fieldError(p.body, tt.field) == "" && !strings.Contains(p.body, `id="`+tt.field+`"`) {
			t.Errorf("%s: no such field on the page", tt.field)
		}
		if msg := fieldError(p.body, tt.field); msg == "" && !strings.Contains(p.body[strings.Index(p.body, `id="`+tt.field+`"`):], "field-error") {
			t.Errorf("%s: the error is not next to the field", tt.field)
		}
	}
	list, _ := r.st.Automations().Automations(ctx, r.merchant.ID, store.Cursor{}, 10)
	if len(list) != 0 {
		t.Fatalf("refused forms made %d automations", len(list))
	}

	c.get("/console/automations")
	pv := c.postForm("/console/automations", automationPost(r.program.ID, func(f url.Values) { f.Set("preview", "1") }))
	if pv.status != http.StatusOK || !strings.Contains(pv.body, `id="variant-text-0"`) || !strings.Contains(pv.body, "UCS-2") {
		t.Fatalf("preview: %d", pv.status)
	}
	if !strings.Contains(pv.body, "вернитесь за 100") {
		t.Error("the preview does not render the text as sent")
	}

	c.get("/console/automations")
	p := c.postForm("/console/automations", automationPost(r.program.ID, nil))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/automations/aut_") {
		t.Fatalf("create: %d %s\n%s", p.status, p.location, p.body)
	}
	id := strings.TrimPrefix(p.location, "/console/automations/")
	a, err := r.st.Automations().Automation(ctx, r.merchant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Trigger.Type != loyalty.TriggerInactive || a.Trigger.Days != 45 || a.HoldoutBP != 2000 || len(a.Variants) != 2 ||
		a.Variants[1].Bonus != 100 || a.Provider != "log" || a.Timezone != "Europe/Moscow" {
		t.Errorf("stored %+v", a)
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 5)
	if len(log) == 0 || log[0].Action != "automation.create" || log[0].Subject != id || log[0].UserEmail != r.emails[Manager] {
		t.Errorf("audit %+v", log)
	}
}

// seedAutomationReport gives an automation 30 customers, 10 in the
// holdout and 10 in each of two variants, each messaged (the variants'
// on their Apple cards); 2, 4 and 7 of them buy within the window.
func seedAutomationReport(t *testing.T, r *rig, a store.Automation) {
	t.Helper()
	ctx := context.Background()
	var msgs []store.NewMessage
	var serials []string
	for i := range 30 {
		card := r.issue(r.merchant.ID, r.program.ID, fmt.Sprintf("+7912555%04d", i), "Клиент")
		serials = append(serials, card.SerialNumber)
		m := store.NewMessage{Candidate: store.Candidate{CustomerID: card.CustomerID, Serial: card.SerialNumber, Occurrence: "1"},
			Holdout: i < 10, Variant: -1}
		if i >= 10 {
			m.Variant = (i - 10) / 10
		}
		msgs = append(msgs, m)
	}
	if _, err := r.st.Automations().RecordEvaluation(ctx, a, r.clock.Now(), r.clock.Now().Add(time.Hour), msgs); err != nil {
		t.Fatal(err)
	}
	out, err := r.st.Automations().ClaimMessages(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range out {
		if err := r.st.Automations().DeliverOnCard(ctx, m, store.CardDelivery{Channel: "apple", Text: "hi", CapDays: 14}); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.advance(time.Hour)
	for _, i := range []int{0, 1, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25, 26} {
		key := fmt.Sprint("buy", i)
		if _, _, err := r.st.Cards().Post(ctx, loyalty.Posting{MerchantID: r.merchant.ID, Serial: serials[i], Kind: loyalty.Earn,
			PurchaseAmount: 50000, IdempotencyKey: key, RequestHash: []byte(key)},
			func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAutomationPageReportsAndActs: the page draws the report as the API
// counts it (funnel, conversions, lift with its interval), each plot
// with its table; pause, resume and delete change the stored status, each
// audited; another merchant's automation is not found.
func TestAutomationPageReportsAndActs(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.as(Owner)
	c.get("/console/automations")
	p := c.postForm("/console/automations", automationPost(r.program.ID, nil))
	id := strings.TrimPrefix(p.location, "/console/automations/")
	a, err := r.st.Automations().Automation(ctx, r.merchant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	seedAutomationReport(t, r, a)
	p = c.get("/console/automations/" + id)
	if p.status != http.StatusOK {
		t.Fatalf("page: %d", p.status)
	}
	funnel := plotMarks(t, p.body, "plot-auto-funnel")
	if got := joined(funnel["Контрольная группа"]); got != "10,2" {
		t.Errorf("holdout funnel %s, want 10,2", got)
	}
	if got := joined(funnel["Вариант A"]); got != "10,10,4" {
		t.Errorf("variant A funnel %s, want 10,10,4", got)
	}
	if got := joined(funnel["Вариант B"]); got != "10,10,7" {
		t.Errorf("variant B funnel %s, want 10,10,7", got)
	}
	// Holdout 2 of 10, A 4 of 10, B 7 of 10, all messaged 11 of 20.
	if got := joined(plotMarks(t, p.body, "plot-auto-conversion")["Купили за срок учёта"]); got != "20,40,70,55" {
		t.Errorf("conversions %s, want 20,40,70,55", got)
	}
	lift := plotMarks(t, p.body, "plot-auto-lift")
	if len(lift) != 1 || len(lift[firstKey(lift)]) != 3 {
		t.Errorf("lift marks %v, want 3 estimates (all, A, B)", lift)
	}
	if !strings.Contains(p.body, `data-low="`) {
		t.Error("the lift has no interval")
	}
	for _, fig := range []string{"fig-auto-funnel", "fig-auto-conversion", "fig-auto-lift"} {
		if rows := tableRows(t, p.body, fig); len(rows) < 3 {
			t.Errorf("%s: table of %d rows", fig, len(rows))
		}
	}
	// 55 % against 20 %: 35 pp for all messaged; B's interval clears zero.
	if rows := tableRows(t, p.body, "fig-auto-lift"); rows[0][1] != "35" || rows[2][5] != "да" {
		t.Errorf("lift rows %v, want 35 pp for all messaged and B significant", rows)
	}
	for _, step := range []struct{ action, status string }{{"pause", "paused"}, {"resume", "active"}, {"delete", "deleted"}} {
		c.get("/console/automations/" + id)
		p := c.postForm("/console/automations/"+id+"/"+step.action, url.Values{})
		if p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", step.action, p.status, p.body)
		}
		got, err := r.st.Automations().Automation(ctx, r.merchant.ID, id)
		if step.status == "deleted" && errors.Is(err, store.ErrNotFound) {
			continue
		}
		if got.Status != step.status {
			t.Errorf("after %s the automation is %s", step.action, got.Status)
		}
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 10)
	var actions []string
	for _, e := range log {
		if e.Subject == id {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != "automation.delete,automation.resume,automation.pause,automation.create" {
		t.Errorf("audit %v", actions)
	}
	other, _ := r.newMerchant("Другая", "other")
	pw := r.newUser(other.ID, "owner@other.example", Owner)
	o := r.client()
	o.login("owner@other.example", pw)
	if p := o.get("/console/automations/" + id); p.status != http.StatusNotFound {
		t.Errorf("another merchant sees the automation: %d", p.status)
	}
}

func firstKey(m map[string][]string) string {
	for k := range m {
		return k
	}
	return ""
}
