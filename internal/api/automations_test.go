package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
)

func automationBody(prog string, change func(map[string]any)) map[string]any {
	b := map[string]any{"program_id": prog, "name": "Birthday week",
		"trigger":  map[string]any{"type": "birthday", "days_before": 7},
		"variants": []any{map[string]any{"text": "{name}, с днём рождения! Дарим {points}: {link}", "bonus_points": 100}}}
	if change != nil {
		change(b)
	}
	return b
}

// TestAutomationRefusals: unknown triggers, bad templates and impossible
// schedules are 422 naming the field.
func TestAutomationRefusals(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
	trig := func(v map[string]any) func(map[string]any) { return set("trigger", v) }
	text := func(s string) func(map[string]any) { return set("variants", []any{map[string]any{"text": s}}) }
	tests := []struct {
		name   string
		change func(map[string]any)
		field  string
	}{
		{"unknown trigger", trig(map[string]any{"type": "full_moon"}), "trigger.type"},
		{"no trigger", func(b map[string]any) { delete(b, "trigger") }, "trigger"},
		{"inactive without days", trig(map[string]any{"type": "inactive"}), "trigger.days"},
		{"birthday with days", trig(map[string]any{"type": "birthday", "days": 3}), "trigger.days"},
		{"birthday too early", trig(map[string]any{"type": "birthday", "days_before": 90}), "trigger.days_before"},
		{"due_percent on inactive", trig(map[string]any{"type": "inactive", "days": 30, "due_percent": 10}), "trigger.due_percent"},
		{"points never expire", trig(map[string]any{"type": "points_expiring", "days_before": 7}), "trigger.type"},
		{"no tiers", trig(map[string]any{"type": "tier_changed"}), "trigger.type"},
		{"a misspelt placeholder", text("Привет, {nmae}! {link}"), "variants[0].text"},
		{"too long for the lock screen", text(strings.Repeat("Длинный текст. ", 17) + "{link}"), "variants[0].text"},
		{"no variants", set("variants", []any{}), "variants"},
		{"five variants", set("variants", []any{map[string]any{"text": "a"}, map[string]any{"text": "b"},
			map[string]any{"text": "c"}, map[string]any{"text": "d"}, map[string]any{"text": "e"}}), "variants"},
		{"a winner of one", set("winner_min_sample", 100), "winner_min_sample"},
		{"auto-pause without a holdout", func(b map[string]any) { b["holdout_percent"], b["auto_pause_min_sample"] = 0, 100 }, "auto_pause_min_sample"},
		{"the server's zone", set("timezone", "Local"), "timezone"},
		{"an unknown zone", set("timezone", "Mars/Olympus"), "timezone"},
		{"an unconfigured provider", set("provider", "smsc"), "provider"},
		{"a holdout too big", set("holdout_percent", 60), "holdout_percent"},
		{"a window of 0 days", set("purchase_window_days", 0), "purchase_window_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.do("POST", "/api/v1/automations", key, automationBody(prog, tt.change))
			if res.Code != 422 {
				t.Fatalf("status %d, want 422\n%s", res.Code, res.Body.String())
			}
			if _, field := res.errorOf(t); field != tt.field {
				t.Fatalf("field %q, want %q: %s", field, tt.field, res.Body.String())
			}
		})
	}
	if n := ts.count("automations"); n != 0 {
		t.Fatalf("%d automations written by refused requests", n)
	}
	if res := ts.do("POST", "/api/v1/automations", key, automationBody("prg_nope", nil)); res.Code != 404 {
		t.Fatalf("an unknown program: %d", res.Code)
	}
	// The same program with expiry and tiers makes those triggers possible.
	ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"points_lifetime_days": 90,
		"tiers": []any{map[string]any{"code": "base", "name": "Base", "threshold": 0},
			map[string]any{"code": "gold", "name": "Gold", "threshold": 1000}}})
	for _, trig := range []map[string]any{{"type": "points_expiring", "days_before": 7}, {"type": "tier_changed", "tier": "gold"}} {
		ts.mustDo(201, "POST", "/api/v1/automations", key, automationBody(prog, func(b map[string]any) { b["trigger"] = trig }))
	}
	res := ts.do("POST", "/api/v1/automations", key, automationBody(prog, trig(map[string]any{"type": "points_expiring", "days_before": 90})))
	if _, field := res.errorOf(t); res.Code != 422 || field != "trigger.days_before" {
		t.Fatalf("expiring 90 days before in a 90-day program: %d %s", res.Code, field)
	}
}

// TestAutomationLifecycleAndReport creates an A/B automation, lets the
// engine fire it, and reads it back: pause and resume, the report with
// its holdout and variants, and delete.
func TestAutomationLifecycleAndReport(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	a := ts.mustDo(201, "POST", "/api/v1/automations", key, automationBody(prog, func(b map[string]any) {
		b["trigger"] = map[string]any{"type": "enrolled"}
		b["holdout_percent"] = 20
		b["variants"] = []any{map[string]any{"text": "Добро пожаловать: {link}"},
			map[string]any{"text": "Дарим {points}: {link}", "bonus_points": 50}}
	}))
	id := a["id"].(string)
	if a["status"] != "active" || a["winner"] != nil || len(a["variants"].([]any)) != 2 {
		t.Fatalf("created %v", a)
	}
	if p := a["variants"].([]any)[1].(map[string]any)["preview"].(map[string]any); !strings.HasPrefix(p["text"].(string), "Дарим 50 баллов: ") {
		t.Fatalf("preview %v", p)
	}
	for i := range 30 {
		ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+7912000" + pad4(i),
			"sms_consent": true})
	}
	log := slog.New(slog.DiscardHandler)
	st := automation.StoreOf(ts.store)
	ctx := context.Background()
	if _, err := automation.NewScheduler(automation.SchedulerOptions{Store: st}).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sender := automation.NewSender(automation.SenderOptions{Store: st, ShortURL: "https://k.ru", Prices: outreach.Prices{"log": 300},
		Texter: &outreach.Texter{Providers: map[string]sms.Provider{"log": sms.NewLog(log)}}})
	// Quiet hours may hold the texts back; the report counts them as waiting.
	if _, err := sender.RunOnce(ctx, ctx); err != nil {
		t.Fatal(err)
	}
	rep := ts.mustDo(200, "GET", "/api/v1/automations/"+id+"/report", key, nil)
	held, eligible := rep["held_out"].(float64), rep["eligible"].(float64)
	if eligible != 30 || held == 0 || held >= 30 {
		t.Fatalf("eligible %v, held out %v", eligible, held)
	}
	variants := rep["variants"].([]any)
	if len(variants) != 2 {
		t.Fatalf("variants %v", variants)
	}
	sum := 0.0
	for _, v := range variants {
		sum += v.(map[string]any)["assigned"].(float64)
	}
	if sum+held != 30 {
		t.Fatalf("variants hold %v and the holdout %v of 30", sum, held)
	}
	if rep["holdout"].(map[string]any)["sent"] != 0.0 {
		t.Fatalf("the holdout was sent messages: %v", rep["holdout"])
	}
	sent := rep["sent"].(float64) + rep["waiting"].(float64)
	if sent != 30-held {
		t.Fatalf("sent %v + waiting %v, want everyone outside the holdout", rep["sent"], rep["waiting"])
	}
	if rep["sent"].(float64) > 0 && rep["sent_by_channel"].(map[string]any)["sms"] != rep["sent"] {
		t.Fatalf("sent by channel %v", rep["sent_by_channel"])
	}
	if rep["sent"].(float64) > 0 && rep["cost"] != 300*rep["sent"].(float64) {
		t.Fatalf("cost %v for %v one-segment texts at 300", rep["cost"], rep["sent"])
	}
	if rep["lift"] == nil {
		t.Fatal("no lift with both groups present")
	}

	if p := ts.mustDo(200, "POST", "/api/v1/automations/"+id+"/pause", key, nil); p["status"] != "paused" {
		t.Fatalf("pause: %v", p)
	}
	ts.mustDo(200, "POST", "/api/v1/automations/"+id+"/pause", key, nil)
	if r := ts.mustDo(200, "POST", "/api/v1/automations/"+id+"/resume", key, nil); r["status"] != "active" {
		t.Fatalf("resume: %v", r)
	}
	if res := ts.do("POST", "/api/v1/automations/"+id+"/launch", key, nil); res.Code != 404 {
		t.Fatalf("an unknown action: %d", res.Code)
	}
	if list := ts.mustDo(200, "GET", "/api/v1/automations", key, nil)["automations"].([]any); len(list) != 1 {
		t.Fatalf("list %v", list)
	}
	if res := ts.do("DELETE", "/api/v1/automations/"+id, key, nil); res.Code != 204 {
		t.Fatalf("delete: %d", res.Code)
	}
	if res := ts.do("GET", "/api/v1/automations/"+id, key, nil); res.Code != 404 {
		t.Fatalf("a deleted automation: %d", res.Code)
	}
	if res := ts.do("POST", "/api/v1/automations/"+id+"/resume", key, nil); res.Code != 404 {
		t.Fatalf("resuming a deleted automation: %d", res.Code)
	}
}

func pad4(i int) string { return fmt.Sprintf("%04d", i) }

// TestRhythmAndBudget: the customer's rhythm on the card, the program's
// SMS budget.
func TestRhythmAndBudget(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	card := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789"})
	serial := card["serial_number"].(string)
	r := ts.mustDo(200, "GET", "/api/v1/cards/"+serial+"/rhythm", key, nil)
	if r["basis"] != "program" || r["gap_days"] != 30.0 || r["last_purchase_at"] != nil || r["due_at"] != nil {
		t.Fatalf("a new customer's rhythm %v", r)
	}
	if res := ts.post(key, serial, "buy-1", `{"kind":"earn","purchase_amount":10000}`); res.Code != 201 {
		t.Fatalf("earn: %d %s", res.Code, res.Body.String())
	}
	if r := ts.mustDo(200, "GET", "/api/v1/cards/"+serial+"/rhythm", key, nil); r["purchases"] != 1.0 || r["due_at"] == nil {
		t.Fatalf("after a purchase %v", r)
	}

	if res := ts.do("GET", "/api/v1/programs/"+prog+"/sms-budget", key, nil); res.Code != 404 {
		t.Fatalf("no budget yet: %d", res.Code)
	}
	for _, bad := range []map[string]any{{}, {"monthly": -1}} {
		res := ts.do("PUT", "/api/v1/programs/"+prog+"/sms-budget", key, bad)
		if _, field := res.errorOf(t); res.Code != 422 || field != "monthly" {
			t.Fatalf("budget %v: %d %s", bad, res.Code, field)
		}
	}
	b := ts.mustDo(200, "PUT", "/api/v1/programs/"+prog+"/sms-budget", key, map[string]any{"monthly": 150000})
	if b["monthly"] != 150000.0 || b["spent"] != 0.0 || b["left"] != 150000.0 {
		t.Fatalf("budget %v", b)
	}
	if b := ts.mustDo(200, "GET", "/api/v1/programs/"+prog+"/sms-budget", key, nil); b["monthly"] != 150000.0 {
		t.Fatalf("budget read back %v", b)
	}
	if res := ts.do("PUT", "/api/v1/programs/prg_nope/sms-budget", key, map[string]any{"monthly": 1}); res.Code != 404 {
		t.Fatalf("an unknown program's budget: %d", res.Code)
	}
}
