package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/campaign"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

// The fake Twilio account the campaign section texts through.
const (
	benchTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	benchTwilioToken = "bench-twilio-token"
)

// CampaignOptions configures RunCampaign.
type CampaignOptions struct {
	Customers int // customers (each with a card) the campaign plans over
	// Texts is how many texts to send and time, at least (the sender's
	// rounds go on until they are out), from the planned recipients.
	Texts int
}

// CampaignResult is what RunCampaign measured.
type CampaignResult struct {
	// Planning is starting the campaign: selecting the lapsed customers,
	// drawing the holdout and writing the recipients; N is the customers.
	Planning Latencies
	Audience int // recipients planned, the holdout among them
	Holdout  int
	// Sending is texts through the sender to the fake Twilio; N is the
	// texts sent.
	Sending Latencies
	// Received is how many texts reached the fake Twilio.
	Received int
}

// RunCampaign seeds Customers customers with cards (three quarters of
// them lapsed), creates a win-back campaign through the API and times
// its start (the planning), then runs the campaign sender, as serve runs
// it, until at least Texts texts reached a fake Twilio over HTTP (or the
// campaign is done).
func RunCampaign(ctx context.Context, s *Server, o CampaignOptions) (CampaignResult, error) {
	var res CampaignResult
	c := &http.Client{Timeout: 10 * time.Minute} // planning a million takes seconds, more on a busy machine
	var prog struct{ ID string }
	if err := s.postJSON(ctx, c, "/api/v1/programs", kindMixes["points"].program, &prog); err != nil {
		return res, err
	}
	if err := s.seedCustomers(ctx, prog.ID, o.Customers); err != nil {
		return res, err
	}
	var camp struct{ ID string }
	body := fmt.Sprintf(`{"program_id":%q,"name":"Bench win-back","lapsed_days":90,"template":"Мы скучаем! Бонус ждёт: {link}",
		"holdout_percent":10,"quiet_start":0,"quiet_end":0,"send_rate":100000,"provider":"twilio"}`, prog.ID)
	if err := s.postJSON(ctx, c, "/api/v1/campaigns", body, &camp); err != nil {
		return res, err
	}
	var started struct{ Audience, Holdout int }
	start, cpu0 := time.Now(), cpuTime()
	if err := s.postJSONStatus(ctx, c, "/api/v1/campaigns/"+camp.ID+"/start", "", http.StatusOK, &started); err != nil {
		return res, err
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	res.Audience, res.Holdout = started.Audience, started.Holdout
	res.Planning = Latencies{N: o.Customers, Elapsed: elapsed, PerSec: float64(o.Customers) / elapsed.Seconds(),
		CPUPerOp: cpu / time.Duration(max(o.Customers, 1)), P50: elapsed, P99: elapsed}
	if want := o.Customers - (o.Customers+3)/4; res.Audience != want {
		return res, fmt.Errorf("campaign planned %d recipients of %d customers, want the %d lapsed", res.Audience, o.Customers, want)
	}

	f := &fakes{}
	defer f.close()
	fake := smstest.NewTwilio(f, benchTwilioSID, benchTwilioToken)
	tw, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: fake.URL, AccountSID: benchTwilioSID, AuthToken: benchTwilioToken, From: "+15005550006"})
	if err != nil {
		return res, err
	}
	// The sender's clock runs a second per round, so the send rate (at
	// most 100,000 a minute) leaves every round 1,666 texts: the rate
	// measured is the sender's and the provider's, not the budget's.
	clock := &steppedClock{now: time.Now()}
	sender := campaign.New(campaign.Options{Store: campaign.StoreOf(s.Store), ShortURL: s.URL, Now: clock.Now,
		StatusCallback: s.URL + "/hooks/sms/twilio", Providers: map[string]sms.Provider{"twilio": tw}})
	want := min(o.Texts, res.Audience-res.Holdout)
	sent, idle := 0, 0
	start, cpu0 = time.Now(), cpuTime()
	for sent < want && idle < 100 {
		clock.step(time.Second)
		n, err := sender.RunOnce(ctx)
		if err != nil {
			return res, fmt.Errorf("campaign sender: %w", err)
		}
		sent += n
		if n == 0 {
			idle++
		}
	}
	elapsed, cpu = time.Since(start), cpuTime()-cpu0
	res.Received = len(fake.Messages())
	res.Sending = Latencies{N: sent, Elapsed: elapsed, PerSec: float64(sent) / elapsed.Seconds(), CPUPerOp: cpu / time.Duration(max(sent, 1))}
	if err := f.err(); err != nil {
		return res, err
	}
	if sent < want || res.Received != sent {
		return res, fmt.Errorf("the sender sent %d texts and the fake Twilio received %d, want %d", sent, res.Received, want)
	}
	return res, nil
}

// steppedClock is a clock the benchmark moves on.
type steppedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *steppedClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
