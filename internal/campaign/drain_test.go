package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/campaign"
	"github.com/loyalpass/loyalpass/internal/sms"
)

// heldProvider accepts every text, but holds the first until released.
type heldProvider struct {
	arrived, release chan struct{}
	sent             chan sms.Message
}

func (p *heldProvider) Name() string { return "twilio" }

func (p *heldProvider) Send(ctx context.Context, m sms.Message) (sms.SendResult, error) {
	select {
	case p.arrived <- struct{}{}:
		<-p.release
	default:
	}
	p.sent <- m
	return sms.SendResult{ProviderID: "SM" + m.ID, Segments: 1}, nil
}

// TestStopLetsATextInFlightFinish stops the sender with a text in flight
// and more recipients claimed behind it: the text goes out and is marked
// sent, and the others go back to pending, their attempt not counted, for
// the next start to text (not abandon as interrupted).
func TestStopLetsATextInFlightFinish(t *testing.T) {
	e := newEnv(t)
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня", "earn_rate_bp": 500})["id"].(string)
	e.customers(prog, 13, 0)
	id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": "Стоп", "lapsed_days": 90,
		"bonus_points": 50, "template": "Дарим {bonus} баллов: {link}", "send_rate": 600, "provider": "twilio"})["id"].(string)
	audience := int(e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)["audience"].(float64))

	p := &heldProvider{arrived: make(chan struct{}), release: make(chan struct{}), sent: make(chan sms.Message, audience)}
	s := campaign.New(campaign.Options{Store: campaign.StoreOf(e.store), ShortURL: e.url, Now: e.clock.Now, Grace: 10 * time.Second,
		Providers: map[string]sms.Provider{"twilio": p}})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-p.arrived // the first text is in flight, the rest of the batch claimed
	stop()
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE status = 'sending'`); n < 2 {
		t.Fatalf("%d recipients claimed; the test needs a batch behind the text in flight", n)
	}
	close(p.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once the text in flight finished")
	}

	if len(p.sent) != 1 {
		t.Fatalf("%d texts went out; want only the one in flight at the stop", len(p.sent))
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE status = 'sent' AND attempts = 1`); n != 1 {
		t.Errorf("%d recipients marked sent, want the 1 in flight", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE status = 'sending'`); n != 0 {
		t.Errorf("%d recipients left sending: a restart would abandon them untexted", n)
	}
	if back, failed, err := e.store.Campaigns().AbandonInterrupted(context.Background()); err != nil || back+failed != 0 {
		t.Errorf("a restart recovers %d and abandons %d recipients (%v), want 0", back, failed, err)
	}
	texted := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE NOT holdout`)
	if n := e.count(`SELECT COUNT(*) FROM campaign_recipients WHERE status = 'pending' AND attempts = 0`); n != texted-1 {
		t.Errorf("%d recipients pending and untried, want %d", n, texted-1)
	}
}
