package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/store"
)

// TestCreateFormsCreateOnce: every create form carries a one-time token
// made when it is shown, consumed in the transaction of the create. The
// same form sent twice, one after the other (back and resend) or at once
// (a double click), makes one program, campaign, webhook or card, with
// one audit entry; a program or campaign sent again opens the one the
// first sending made. A form without a token (not of our making) makes
// nothing.
func TestCreateFormsCreateOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := r.as(Owner)
	twice := func(path string, form url.Values, together bool) []page {
		t.Helper()
		out := make([]page, 2)
		if !together {
			out[0], out[1] = o.post(path, form), o.post(path, form)
			return out
		}
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() { out[i] = o.post(path, form) })
		}
		wg.Wait()
		return out
	}
	shown := func(path string) url.Values {
		t.Helper()
		body := o.get(path).body
		f := url.Values{"csrf": {csrfOf(body)}, "form": {fieldOf(body, "", "form")}}
		if len(f.Get("form")) < 16 {
			t.Fatalf("%s shows no form token", path)
		}
		return f
	}
	programs := func(name string) []string {
		t.Helper()
		ps, err := r.st.Programs().Programs(ctx, r.merchant.ID, store.Cursor{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range ps {
			if p.Name == name {
				ids = append(ids, p.ID)
			}
		}
		return ids
	}

	for _, together := range []bool{false, true} {
		name := map[bool]string{false: "Назад и снова", true: "Двойной щелчок"}[together]
		f := shown("/console/programs")
		f.Set("name", name)
		f.Set("kind", "points")
		answers := twice("/console/programs", f, together)
		ids := programs(name)
		if len(ids) != 1 {
			t.Fatalf("%q sent twice made %d programs", name, len(ids))
		}
		for _, p := range answers {
			if p.status != http.StatusSeeOther || p.location != "/console/programs/"+ids[0] {
				t.Errorf("%q: %d → %q, want the one program", name, p.status, p.location)
			}
		}
	}
	if n := r.auditCount("program.create"); n != 2 {
		t.Errorf("%d program.create entries, want 2", n)
	}

	f := shown("/console/campaigns")
	for k, v := range map[string]string{"program_id": r.program.ID, "name": "Скучаем", "lapsed_days": "90", "installed": "any",
		"bonus_points": "50", "bonus_on": "open", "template": "{name}, дарим {points}: {link}", "holdout_percent": "25",
		"quiet_start": "0", "quiet_end": "0", "timezone": "Europe/Moscow", "send_rate": "600", "frequency_cap_days": "30",
		"purchase_window_days": "30", "provider": "log"} {
		f.Set(k, v)
	}
	answers := twice("/console/campaigns", f, true)
	camps, err := r.st.Campaigns().Campaigns(ctx, r.merchant.ID, store.Cursor{}, 10)
	if err != nil || len(camps) != 1 {
		t.Fatalf("a campaign form sent twice made %d campaigns (%v)", len(camps), err)
	}
	for _, p := range answers {
		if p.status != http.StatusSeeOther || p.location != "/console/campaigns/"+camps[0].ID {
			t.Errorf("campaign: %d → %q", p.status, p.location)
		}
	}

	f = shown("/console/webhooks")
	f.Set("url", "https://crm.example.com/hook")
	f["events"] = []string{"card.issued"}
	answers = twice("/console/webhooks", f, false)
	if answers[0].status != http.StatusCreated || answers[1].status != http.StatusConflict ||
		!strings.Contains(answers[1].body, "уже отправлена") {
		t.Errorf("webhook sent twice: %d, %d", answers[0].status, answers[1].status)
	}
	if eps, _ := r.st.Webhooks().WebhookEndpoints(ctx, r.merchant.ID); len(eps) != 1 {
		t.Errorf("a webhook form sent twice made %d endpoints", len(eps))
	}

	f = shown("/console/customers")
	for k, v := range map[string]string{"program": r.program.ID, "phone": "8 912 555-44-33", "name": "Мария"} {
		f.Set(k, v)
	}
	twice("/console/customers", f, true)
	if found, _ := r.st.Customers().Search(ctx, r.merchant.ID, storeQueryPhone("+79125554433"), 10); len(found) != 1 {
		t.Errorf("an issue form sent twice made %d cards", len(found))
	}

	f = shown("/console/automations")
	for k, vs := range automationPost(r.program.ID, nil) {
		f[k] = vs
	}
	answers = twice("/console/automations", f, true)
	autos, err := r.st.Automations().Automations(ctx, r.merchant.ID, store.Cursor{}, 10)
	if err != nil || len(autos) != 1 {
		t.Fatalf("an automation form sent twice made %d automations (%v)", len(autos), err)
	}
	for _, p := range answers {
		if p.status != http.StatusSeeOther || p.location != "/console/automations/"+autos[0].ID {
			t.Errorf("automation: %d → %q", p.status, p.location)
		}
	}

	// Without its token a form makes nothing.
	f = shown("/console/programs")
	f.Del("form")
	f.Set("name", "Без жетона")
	if p := o.post("/console/programs", f); p.status != http.StatusUnprocessableEntity || len(programs("Без жетона")) != 0 {
		t.Errorf("a form without its token: %d", p.status)
	}
	for action, want := range map[string]int{"campaign.create": 1, "webhook.create": 1, "card.issue": 1, "automation.create": 1} {
		if n := r.auditCount(action); n != want {
			t.Errorf("%d %s entries, want %d", n, action, want)
		}
	}
}
