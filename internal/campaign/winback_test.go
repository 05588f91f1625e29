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

// TestWinBackThroughTwilio runs a campaign end to end: plan, text through
// the fake Twilio (a crash in the middle included), delivery callbacks,
// link opens with the bonus, purchases, and the report.
func TestWinBackThroughTwilio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня", "earn_rate_bp": 500})["id"].(string)
	phones := e.customers(prog, 40, 5) // 35 lapsed, one of them without consent

	camp := e.must(201, "POST", "/api/v1/campaigns", map[string]any{
		"program_id": prog, "name": "Скучаем", "lapsed_days": 90, "bonus_points": 50, "bonus_on": "open",
		"template": "{name}, мы скучаем! Дарим {bonus} баллов: {link}", "holdout_percent": 20,
		"send_rate": 600, "frequency_cap_days": 30, "purchase_window_days": 14,
	})
	id := camp["id"].(string)
	preview := camp["preview"].(map[string]any)
	if preview["encoding"] != "UCS-2" || preview["segments"].(float64) < 1 {
		t.Fatalf("preview = %v", preview)
	}
	started := e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
	audience, holdout := int(started["audience"].(float64)), int(started["holdout"].(float64))
	if audience != 34 || holdout == 0 || holdout >= audience {
		t.Fatalf("audience %d, holdout %d; want 34 consented lapsed customers with some held out", audience, holdout)
	}
	// A second start plans nobody again.
	if again := e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil); again["audience"] != started["audience"] {
		t.Fatalf("second start changed the audience: %v", again["audience"])
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients`); n != audience {
		t.Fatalf("%d recipient rows after two starts, want %d", n, audience)
	}

	// A crash after claiming three recipients, with one text handed to
	// the provider: recovery fails that one instead of texting it twice,
	// and puts back the two never handed over, which are texted later.
	claimed, err := e.store.Campaigns().ClaimRecipients(ctx, id, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if _, err := e.store.Campaigns().NewRecipientLink(ctx, claimed[0]); err != nil {
		t.Fatal(err)
	}
	if back, failed, err := e.store.Campaigns().AbandonInterrupted(ctx); err != nil || back != 2 || failed != 1 {
		t.Fatalf("recovered %d back, %d failed (%v); want 2 and 1", back, failed, err)
	}
	sender := e.sender()
	for range 5 {
		e.clock.Advance(time.Second)
		if _, err := sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A second sender (another instance, or a restart) finds nothing left.
	if n, err := e.sender().RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a second sender sent %d (%v)", n, err)
	}

	msgs := e.twilio.Messages()
	texted := map[string]int{}
	for _, m := range msgs {
		texted[m.To]++
		if !strings.Contains(m.Text, "мы скучаем! Дарим 50 баллов: "+e.url+"/c/") {
			t.Fatalf("text = %q", m.Text)
		}
		if m.From != "+15005550006" || m.StatusCallback != e.url+"/hooks/sms/twilio" {
			t.Fatalf("from %q callback %q", m.From, m.StatusCallback)
		}
	}
	if want := audience - holdout - 1; len(msgs) != want {
		t.Fatalf("%d texts, want %d (audience %d - holdout %d - 1 interrupted)", len(msgs), want, audience, holdout)
	}
	for to, n := range texted {
		if n != 1 {
			t.Fatalf("%s texted %d times", to, n)
		}
	}
	if texted[phones[0]] != 0 || texted[phones[39]] != 0 {
		t.Fatal("a customer without consent or with a recent purchase was texted")
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients r JOIN customers u ON u.id = r.customer_id
		WHERE r.holdout AND r.sent_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d holdout customers were texted", n)
	}
	if c := e.must(200, "GET", "/api/v1/campaigns/"+id, nil); c["status"] != "finished" {
		t.Fatalf("campaign status = %v", c["status"])
	}

	// Delivery callbacks: signed ones count, a forged one is refused.
	for i, m := range msgs {
		status := "delivered"
		if i == 0 {
			status = "undelivered"
		}
		if code, err := e.twilio.SendStatus(ctx, m.ProviderID, status, map[bool]string{true: "30003"}[i == 0]); err != nil || code >= 300 {
			t.Fatalf("callback %d: %d %v", i, code, err)
		}
	}
	forged := url.Values{"MessageSid": {msgs[1].ProviderID}, "MessageStatus": {"failed"}}
	req, _ := http.NewRequest("POST", e.url+"/hooks/sms/twilio", strings.NewReader(forged.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign("not-the-token", e.url+"/hooks/sms/twilio", forged))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged callback = %v %v", res.StatusCode, err)
	}
	res.Body.Close()

	// Two recipients open their links: the bonus is credited once each,
	// and the link serves the pass.
	openers := []string{msgs[1].Text, msgs[2].Text}
	for _, text := range openers {
		link := text[strings.Index(text, e.url+"/c/"):]
		for range 2 {
			req, _ := http.NewRequest("GET", link, nil)
			req.Header.Set("User-Agent", iPhone)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("open %s: %v %v", link, res, err)
			}
			res.Body.Close()
		}
		// A link preview does not count as an open.
		req, _ := http.NewRequest("GET", link, nil)
		req.Header.Set("User-Agent", "TelegramBot (like TwitterBot)")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		res, err := http.Get(link + "/pass.pkpass")
		if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.apple.pkpass" {
			t.Fatalf("pass from the link: %v %v", res, err)
		}
		res.Body.Close()
	}
	if n := e.count(`SELECT COUNT(*) FROM transactions WHERE reason LIKE 'win-back bonus%' AND points = 50`); n != 2 {
		t.Fatalf("%d bonus lines, want 2", n)
	}

	// One opener buys within the window; so does one holdout customer.
	e.clock.Advance(24 * time.Hour)
	buyer := msgs[1].To
	var holdoutPhone string
	for _, p := range phones[1:35] {
		if texted[p] == 0 && e.count(`SELECT COUNT(*) FROM campaign_recipients r JOIN customers u ON u.id = r.customer_id
			WHERE u.phone = ? AND r.holdout`, p) == 1 {
			holdoutPhone = p
			break
		}
	}
	for _, p := range []string{buyer, holdoutPhone} {
		serial := e.must(200, "POST", "/api/v1/programs/"+prog+"/cards", map[string]any{"phone": p})["serial_number"].(string)
		e.must(201, "POST", "/api/v1/cards/"+serial+"/transactions", map[string]any{"kind": "earn", "purchase_amount": 30000},
			"Idempotency-Key", "after-"+p)
	}

	rep := e.must(200, "GET", "/api/v1/campaigns/"+id+"/report", nil)
	tx, ho := rep["texted"].(map[string]any), rep["holdout"].(map[string]any)
	want := map[string]float64{"recipients": float64(audience - holdout), "sent": float64(len(msgs)),
		"delivered": float64(len(msgs) - 1), "failed": 2, "clicked": 2, "bonus_credited": 2, "purchasers": 1}
	for k, v := range want {
		if tx[k] != v {
			t.Errorf("texted.%s = %v, want %v", k, tx[k], v)
		}
	}
	if ho["recipients"] != float64(holdout) || ho["sent"] != 0.0 || ho["purchasers"] != 1.0 {
		t.Errorf("holdout = %v", ho)
	}
	if _, ok := rep["lift"].(map[string]any)["absolute_points"]; !ok {
		t.Errorf("no lift in %v", rep)
	}
	// The interval and test every report carries (outreach.Compare).
	if l := rep["lift"].(map[string]any); l["ci95_low_points"] == nil || l["ci95_high_points"] == nil || l["p_value"] == nil {
		t.Errorf("lift without its interval and test: %v", l)
	}
}
