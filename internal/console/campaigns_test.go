package console

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/store"
)

// TestCampaignPreviewCountsSegments: the preview is the text as the API
// would send it, counted by internal/sms: GSM-7 for Latin, UCS-2 once a
// Cyrillic letter is in, more parts as it grows, too long past six.
func TestCampaignPreviewCountsSegments(t *testing.T) {
	r := newRig(t)
	c := r.as(Manager)
	for _, tc := range []struct {
		template string
		bonus    string
		encoding string
		parts    int
		over     bool
	}{
		{"Hi, {bonus} points wait for you: {link}", "50", "GSM-7", 1, false},
		{"Hi {name}, {bonus} points wait: {link}", "50", "UCS-2", 1, false}, // the sample name is Анна
		{"{name}, дарим {points}: {link}", "50", "UCS-2", 1, false},
		{strings.Repeat("Приходите! ", 10) + "{link}", "0", "UCS-2", 3, false},
		{strings.Repeat("Очень длинный текст. ", 25) + "{link}", "0", "UCS-2", 9, true},
		{"Sale [-20%] {link}", "x", "GSM-7", 1, false},
	} {
		p := c.get("/console/campaigns/preview?" + url.Values{"template": {tc.template}, "bonus_points": {tc.bonus}}.Encode())
		var got campaignPreview
		if err := json.Unmarshal([]byte(p.body), &got); err != nil || p.status != http.StatusOK {
			t.Fatalf("%q: %d %s", tc.template, p.status, p.body)
		}
		bonus := int64(50)
		if tc.bonus != "50" {
			bonus = 0
		}
		text, seg := outreach.Preview(tc.template, bonus, r.srv.URL)
		if got.Text != text || got.Encoding != tc.encoding || got.Parts != tc.parts || got.Units != seg.Units || got.Over != tc.over {
			t.Errorf("%q: %+v, want %s in %d parts (%d units), over %v", tc.template, got, tc.encoding, tc.parts, seg.Units, tc.over)
		}
		if !strings.Contains(got.Summary, tc.encoding) || !strings.Contains(got.Summary, fmt.Sprint(seg.Units)) {
			t.Errorf("%q: summary %q", tc.template, got.Summary)
		}
	}
	// The page shows the sample text as a customer gets it.
	p := c.get("/console/campaigns")
	if !strings.Contains(p.body, `<div class="bubble" id="preview-text">Анна, мы скучаем! Дарим 100 баллов: `+r.srv.URL+`/c/xxxxxxxxxxxx</div>`) ||
		!strings.Contains(p.body, `<p class="note" id="preview-segments">UCS-2 · `) {
		t.Errorf("campaigns page preview:\n%s", p.body[strings.Index(p.body, `id="sms-preview"`):][:400])
	}
}

// lapsedCustomers issues n cards with SMS consent whose last purchase
// was 120 days ago.
func lapsedCustomers(t *testing.T, r *rig, n int) {
	t.Helper()
	ctx := context.Background()
	back := r.clock.Now()
	r.clock.advance(-120 * 24 * time.Hour)
	yes := true
	for i := range n {
		c, _, err := r.st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: r.merchant.ID, ProgramID: r.program.ID,
			Phone: fmt.Sprintf("+7912300%04d", i), Name: "Клиент", SMSConsent: &yes})
		if err != nil {
			t.Fatal(err)
		}
		key := "buy-" + c.SerialNumber
		if _, _, err := r.st.Cards().Post(ctx, loyalty.Posting{MerchantID: r.merchant.ID, Serial: c.SerialNumber,
			Kind: loyalty.Earn, PurchaseAmount: 100000, IdempotencyKey: key, RequestHash: []byte(key)},
			func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.advance(back.Sub(r.clock.Now()))
}

// TestCampaignCreateStartPauseReport drives a campaign from the console:
// refusals by field, creation, start (the audience planned), a refused
// transition, pause, resume, cancel, each in the audit log, and the
// report's plots drawn from the API's report.
func TestCampaignCreateStartPauseReport(t *testing.T) {
	r := newRig(t)
	lapsedCustomers(t, r, 40)
	c := r.as(Manager)
	c.get("/console/campaigns")
	form := url.Values{"program_id": {r.program.ID}, "name": {"Скучаем"}, "lapsed_days": {"90"}, "tier": {""},
		"installed": {"any"}, "bonus_points": {"50"}, "bonus_on": {"open"}, "template": {"{name}, дарим {points}: {link}"},
		"holdout_percent": {"25"}, "quiet_start": {"0"}, "quiet_end": {"0"}, "timezone": {"Europe/Moscow"},
		"send_rate": {"600"}, "frequency_cap_days": {"30"}, "purchase_window_days": {"30"}, "provider": {"log"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range form {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	// Refusals land by their field, and nothing is made.
	for field, bad := range map[string]string{"template": "без ссылки", "holdout_percent": "много", "timezone": "Mars/Olympus",
		"holdout_percent ": "80"} {
		p := c.postForm("/console/campaigns", with(strings.TrimSpace(field), bad))
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `name="`+strings.TrimSpace(field)+`"`) ||
			!strings.Contains(p.body, `class="field-error"`) {
			t.Errorf("%s = %q: %d", field, bad, p.status)
		}
	}
	if list, _ := r.st.Campaigns().Campaigns(context.Background(), r.merchant.ID, store.Cursor{}, 10); len(list) != 0 {
		t.Fatalf("refused forms made %d campaigns", len(list))
	}
	// "Preview" without the script shows the text and makes nothing.
	p := c.postForm("/console/campaigns", with("preview", "1"))
	if p.status != http.StatusOK || !strings.Contains(p.body, html.EscapeString("Анна, дарим 50 баллов: ")) {
		t.Errorf("preview: %d", p.status)
	}

	p = c.postForm("/console/campaigns", form)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/campaigns/") {
		t.Fatalf("create: %d %s\n%s", p.status, p.location, p.body)
	}
	id := strings.TrimPrefix(p.location, "/console/campaigns/")
	p = c.get(p.location)
	if !strings.Contains(p.body, `id="campaign-not-started"`) || !strings.Contains(p.body, `id="campaign-start"`) {
		t.Fatalf("draft page:\n%s", p.body)
	}
	if p := c.postForm("/console/campaigns/"+id+"/pause", url.Values{}); p.status != http.StatusConflict ||
		!strings.Contains(p.body, "В нынешнем состоянии рассылка так не может.") {
		t.Errorf("pausing a draft: %d", p.status)
	}
	for _, step := range []struct{ action, status string }{{"start", "running"}, {"pause", "paused"}, {"resume", "running"}} {
		c.get("/console/campaigns/" + id)
		if p := c.postForm("/console/campaigns/"+id+"/"+step.action, url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", step.action, p.status, p.body)
		}
		got, err := r.st.Campaigns().Campaign(context.Background(), r.merchant.ID, id)
		if err != nil || got.Status != step.status {
			t.Fatalf("after %s: %q, %v", step.action, got.Status, err)
		}
	}
	camp, _ := r.st.Campaigns().Campaign(context.Background(), r.merchant.ID, id)
	if camp.Audience != 40 || camp.Holdout == 0 || camp.Holdout == 40 {
		t.Fatalf("planned %d with %d held out", camp.Audience, camp.Holdout)
	}
	p = c.get("/console/campaigns/" + id)
	marks := plotMarks(t, p.body, "plot-campaign")
	if joined(marks["Получили SMS"]) != fmt.Sprintf("%d,0,0,0,0,0", camp.Audience-camp.Holdout) ||
		joined(marks["Контрольная группа"]) != fmt.Sprintf("%d,0", camp.Holdout) {
		t.Errorf("funnel marks %v (audience %d, holdout %d)", marks, camp.Audience, camp.Holdout)
	}
	if got := joined(plotMarks(t, p.body, "plot-conversion")["Купили за срок учёта"]); got != "0,0" {
		t.Errorf("conversion marks %s", got)
	}
	c.get("/console/campaigns/" + id)
	if p := c.postForm("/console/campaigns/"+id+"/cancel", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	log, _ := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 20)
	var actions []string
	for _, e := range log {
		if e.Subject == id {
			actions = append(actions, e.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "campaign.cancel campaign.resume campaign.pause campaign.start campaign.create" {
		t.Errorf("audit: %s", got)
	}
	if p := c.get("/console/campaigns"); !strings.Contains(p.body, `<a href="/console/campaigns/`+id+`">Скучаем</a>`) ||
		!strings.Contains(p.body, "отменена") {
		t.Error("the list does not show the cancelled campaign")
	}

	// Another merchant sees none of it and changes nothing.
	otherM, _ := r.newMerchant("Пекарня", "bakery")
	pw := r.newUser(otherM.ID, "owner@bakery.example", Owner)
	o := r.client()
	o.login("owner@bakery.example", pw)
	if p := o.get("/console/campaigns/" + id); p.status != http.StatusNotFound {
		t.Errorf("another merchant's campaign page: %d", p.status)
	}
	if p := o.get("/console/campaigns"); strings.Contains(p.body, id) {
		t.Error("another merchant's list shows the campaign")
	}
	o.get("/console/campaigns")
	if p := o.postForm("/console/campaigns/"+id+"/start", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("another merchant starting it: %d", p.status)
	}
	if p := o.postForm("/console/campaigns", with("program_id", r.program.ID)); p.status != http.StatusUnprocessableEntity {
		t.Errorf("another merchant creating a campaign on this program: %d", p.status)
	}
}
