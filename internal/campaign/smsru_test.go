package campaign_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

// TestSMSRuCampaignQuietHoursCapAndOptOut sends through the fake SMS.ru,
// and checks quiet hours, the frequency cap across campaigns, the opt-out
// link and a STOP reply.
func TestSMSRuCampaignQuietHoursCapAndOptOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня"})["id"].(string)
	e.customers(prog, 6, 0) // 5 consented, all lapsed

	newCampaign := func(name string) string {
		id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": name, "provider": "smsru",
			"template": "Вернитесь за подарком: {link}", "holdout_percent": 0, "send_rate": 600, "frequency_cap_days": 30,
			"bonus_on": "install", "bonus_points": 20})["id"].(string)
		e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
		return id
	}
	first := newCampaign("Первая")

	// 23:00 in Moscow: quiet hours, nothing goes out.
	e.clock.Set(time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC))
	sender := e.sender()
	if n, err := sender.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("quiet hours: sent %d (%v)", n, err)
	}
	e.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)) // noon
	for range 3 {
		e.clock.Advance(time.Second)
		if _, err := sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.smsru.Messages()
	if len(msgs) != 5 {
		t.Fatalf("%d texts via SMS.ru, want 5", len(msgs))
	}
	for _, m := range msgs {
		if strings.HasPrefix(m.To, "+") || !strings.HasPrefix(m.To, "7912") || !strings.HasPrefix(m.Text, "Вернитесь за подарком: ") {
			t.Fatalf("SMS.ru got to=%q text=%q", m.To, m.Text)
		}
	}
	// A delivery callback with the path secret counts; a wrong secret does not.
	if code, body, err := e.smsru.SendCallback(ctx, e.url+"/hooks/sms/smsru/s3cret", smstest.SMSRuStatus{SMSID: msgs[0].ProviderID, Code: "103"}); err != nil || code != 200 || body != "100" {
		t.Fatalf("SMS.ru callback = %d %q %v", code, body, err)
	}
	if code, _, _ := e.smsru.SendCallback(ctx, e.url+"/hooks/sms/smsru/guess", smstest.SMSRuStatus{SMSID: msgs[1].ProviderID, Code: "103"}); code != 401 {
		t.Fatalf("callback with a wrong secret = %d", code)
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE delivered_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d delivered", n)
	}
	_ = first

	// One customer opts out from the landing page (GET shows a form, POST
	// opts out), another replies STOP.
	link := msgs[0].Text[strings.Index(msgs[0].Text, e.url):]
	res, _ := http.Get(link + "/optout")
	res.Body.Close()
	if n := e.count(`SELECT COUNT(*) FROM customers WHERE opted_out_at IS NOT NULL`); n != 0 {
		t.Fatal("GET opted out")
	}
	res, err := http.PostForm(link+"/optout", url.Values{"confirm": {"yes"}})
	if err != nil || res.StatusCode >= 400 {
		t.Fatalf("opt-out POST = %v %v", res, err)
	}
	res.Body.Close()
	stop := url.Values{"From": {"+" + msgs[1].To}, "Body": {"СТОП"}, "MessageSid": {"SM1"}}
	req, _ := http.NewRequest("POST", e.url+"/hooks/sms/twilio", strings.NewReader(stop.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign("twilio-token", e.url+"/hooks/sms/twilio", stop))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode >= 300 {
		t.Fatalf("STOP = %v %v", res, err)
	}
	if n := e.count(`SELECT COUNT(*) FROM customers WHERE opted_out_at IS NOT NULL`); n != 2 {
		t.Fatalf("%d opted out, want 2", n)
	}

	// A second campaign a week later: the two who opted out are not in
	// its audience, and the frequency cap holds the other three back.
	e.clock.Advance(7 * 24 * time.Hour)
	second := newCampaign("Вторая")
	if c := e.must(200, "GET", "/api/v1/campaigns/"+second, nil); c["audience"] != 3.0 {
		t.Fatalf("second audience = %v, want 3", c["audience"])
	}
	for range 2 {
		e.clock.Advance(time.Second)
		sender.RunOnce(ctx)
	}
	if n := len(e.smsru.Messages()); n != 5 {
		t.Fatalf("%d texts after the second campaign, want still 5", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ? AND status = 'skipped' AND reason LIKE 'frequency cap%'`, second); n != 3 {
		t.Fatalf("%d capped", n)
	}
}
