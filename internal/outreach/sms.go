package outreach

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/retry"
	"github.com/loyalpass/loyalpass/internal/sms"
)

// TextResult is what became of a text handed to a provider.
type TextResult int

// The results of a text.
const (
	// TextSent: the provider accepted it.
	TextSent TextResult = iota
	// TextBadNumber: the number does not exist or takes no texts; mark it.
	TextBadNumber
	// TextOptedOut: the number unsubscribed at the provider; opt it out.
	TextOptedOut
	// TextRetry: a passing failure; try again at RetryAt.
	TextRetry
	// TextFailed: it will never go.
	TextFailed
)

// TextOutcome is a provider's answer to one text, judged.
type TextOutcome struct {
	Result     TextResult
	ProviderID string
	Segments   int
	// Reason says why it did not go (for the message's row).
	Reason  string
	RetryAt time.Time
}

// Texter hands texts to the configured providers and judges the answers
// by one rule for every sender: invalid and landline numbers are marked,
// opt-outs honoured, passing failures retried a minute more each time up
// to MaxAttempts, anything else failed.
type Texter struct {
	// Providers by name; a campaign or automation names its provider.
	Providers map[string]sms.Provider
	// StatusCallback is where Twilio posts delivery statuses.
	StatusCallback string
	// MaxAttempts bounds retries of passing failures (default 3).
	MaxAttempts int
	// Observe, when set, is told the provider and status ("sent",
	// "invalid_number", "opted_out", "retry" or "failed") of every text.
	Observe func(provider, status string)
	Now     func() time.Time
	Log     *slog.Logger
}

// Provider returns the named provider, or an error naming what is configured.
func (t *Texter) Provider(name string) (sms.Provider, error) {
	p, ok := t.Providers[name]
	if !ok {
		return nil, fmt.Errorf("SMS provider %q is not configured", name)
	}
	return p, nil
}

// Send texts m through the named provider; attempts counts this attempt.
func (t *Texter) Send(ctx context.Context, provider string, m sms.Message, attempts int) TextOutcome {
	p, err := t.Provider(provider)
	if err != nil {
		return TextOutcome{Result: TextFailed, Reason: err.Error()}
	}
	m.StatusCallback = t.StatusCallback
	res, err := p.Send(ctx, m)
	policy := t.policy()
	now := t.now()
	due, dead := policy.Next(attempts, time.Time{}, now, 0)
	if t.Observe != nil {
		t.Observe(p.Name(), sendStatus(err, !dead))
	}
	if err == nil {
		return TextOutcome{Result: TextSent, ProviderID: res.ProviderID, Segments: max(res.Segments, 1)}
	}
	log := t.log().With("message", m.ID, "phone", phone.Mask(m.To), "provider", p.Name())
	switch kind := sms.KindOf(err); kind {
	case sms.InvalidNumber, sms.NotMobile:
		log.Info("number refused by the provider", "err", err)
		return TextOutcome{Result: TextBadNumber, Reason: string(kind) + ": " + err.Error()}
	case sms.OptedOut:
		log.Info("number opted out at the provider")
		return TextOutcome{Result: TextOptedOut, Reason: "opted out at the provider"}
	case sms.Transient:
		if !dead {
			log.Warn("transient SMS failure: will retry", "err", err)
			return TextOutcome{Result: TextRetry, Reason: err.Error(), RetryAt: due}
		}
	}
	log.Error("SMS failed", "err", err)
	return TextOutcome{Result: TextFailed, Reason: err.Error()}
}

// policy is the rule for texts that failed for a passing reason: a
// minute more for each attempt, MaxAttempts in all.
func (t *Texter) policy() retry.Policy {
	n := t.MaxAttempts
	if n <= 0 {
		n = 3
	}
	return retry.Policy{Wait: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }, MaxAttempts: n}
}

func (t *Texter) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

func (t *Texter) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}

// Prices are what one SMS segment costs with each provider, in minor
// units of the merchant's currency (kopecks, cents).
type Prices map[string]int64

// Cost is what segments cost with provider; 0 when no price is set.
func (p Prices) Cost(provider string, segments int) int64 {
	return p[provider] * int64(segments)
}
