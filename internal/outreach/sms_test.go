package outreach_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
)

// answering is a provider that answers every text with err.
type answering struct{ err error }

func (answering) Name() string { return "stub" }
func (a answering) Send(context.Context, sms.Message) (sms.SendResult, error) {
	if a.err != nil {
		return sms.SendResult{}, a.err
	}
	return sms.SendResult{ProviderID: "p-1", Segments: 2}, nil
}

func TestTexterJudgesEveryAnswerOneWay(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	kind := func(k sms.ErrorKind) error { return &sms.Error{Kind: k, Code: "x"} }
	tests := []struct {
		name     string
		err      error
		attempts int
		result   outreach.TextResult
		status   string
		retryAt  time.Time
	}{
		{"accepted", nil, 1, outreach.TextSent, "sent", time.Time{}},
		{"invalid number", kind(sms.InvalidNumber), 1, outreach.TextBadNumber, "invalid_number", time.Time{}},
		{"landline", kind(sms.NotMobile), 1, outreach.TextBadNumber, "invalid_number", time.Time{}},
		{"opted out", kind(sms.OptedOut), 1, outreach.TextOptedOut, "opted_out", time.Time{}},
		{"transient, first try", kind(sms.Transient), 1, outreach.TextRetry, "retry", now.Add(time.Minute)},
		{"transient, second try", errors.New("connection reset"), 2, outreach.TextRetry, "retry", now.Add(2 * time.Minute)},
		{"transient, out of tries", kind(sms.Transient), 3, outreach.TextFailed, "failed", time.Time{}},
		{"content refused", kind(sms.Permanent), 1, outreach.TextFailed, "failed", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			tx := &outreach.Texter{Providers: map[string]sms.Provider{"stub": answering{tt.err}}, MaxAttempts: 3,
				Now: func() time.Time { return now }, Observe: func(_, status string) { seen = status }}
			out := tx.Send(context.Background(), "stub", sms.Message{ID: "a1", To: "+79123456789", Text: "hi"}, tt.attempts)
			if out.Result != tt.result || seen != tt.status || !out.RetryAt.Equal(tt.retryAt) {
				t.Fatalf("outcome %+v, status %q; want result %d status %q retry at %v", out, seen, tt.result, tt.status, tt.retryAt)
			}
			if out.Result == outreach.TextSent && (out.ProviderID != "p-1" || out.Segments != 2) {
				t.Fatalf("sent outcome %+v", out)
			}
			if out.Result != outreach.TextSent && out.Reason == "" {
				t.Fatal("a text that did not go has no reason")
			}
		})
	}
	tx := &outreach.Texter{}
	if out := tx.Send(context.Background(), "nowhere", sms.Message{}, 1); out.Result != outreach.TextFailed {
		t.Fatalf("an unconfigured provider: %+v", out)
	}
}

func TestPrices(t *testing.T) {
	p := outreach.Prices{"smsru": 450, "twilio": 790}
	if got := p.Cost("smsru", 2); got != 900 {
		t.Errorf("2 segments at SMS.ru = %d", got)
	}
	if got := p.Cost("log", 3); got != 0 {
		t.Errorf("the log provider costs %d", got)
	}
}

func TestCompare(t *testing.T) {
	// 300 of 2000 messaged bought for 600 000, 200 of 2000 held out for
	// 380 000: +5 points, significant; 110 more per head is 220 000 over
	// the 2000 messaged, 122 per text sent.
	c := outreach.Compare(outreach.Group{Assigned: 2000, Sent: 1800, Purchasers: 300, Revenue: 600000},
		outreach.Group{Assigned: 2000, Purchasers: 200, Revenue: 380000})
	if !c.Valid || c.LiftPP != 5 || !c.Significant || c.LowPP <= 0 || c.HighPP <= c.LiftPP || c.P >= 0.05 {
		t.Fatalf("comparison %+v", c)
	}
	if c.IncrementalRevenue != 220000 || c.PerMessage != 122 {
		t.Fatalf("incremental revenue %v, per message %v", c.IncrementalRevenue, c.PerMessage)
	}
	if c := outreach.Compare(outreach.Group{Assigned: 10, Purchasers: 1}, outreach.Group{}); c.Valid {
		t.Fatalf("an empty holdout gave %+v", c)
	}
}
