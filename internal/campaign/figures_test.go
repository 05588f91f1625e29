package campaign_test

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestSendingRateFigure measures texts per second through the fake Twilio
// with the send rate out of the way; it runs only with LOYALPASS_FIGURES=1.
func TestSendingRateFigure(t *testing.T) {
	if os.Getenv("LOYALPASS_FIGURES") == "" {
		t.Skip("set LOYALPASS_FIGURES=1 to measure")
	}
	e := newEnv(t)
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня"})["id"].(string)
	e.customers(prog, 1000, 0)
	id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": "Rate",
		"template": "{name}, вернитесь: {link}", "holdout_percent": 0, "send_rate": 100000})["id"].(string)
	e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
	sender := e.sender()
	start := time.Now()
	sent := 0
	for sent < 999 {
		e.clock.Advance(time.Second)
		n, err := sender.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sent += n
	}
	elapsed := time.Since(start)
	t.Logf("sent %d texts through the fake Twilio in %v: %.0f/s (one sender, texts sent one after another)", sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds())
}
