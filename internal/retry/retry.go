// Package retry is the back-off and give-up policy of loyalpass's durable
// work: the outbox worker's sends on every delivery channel, webhook
// deliveries and campaign texts. The store's queues hold the rows and
// their attempts; a Policy says when a failed row is due again, and when
// it is given up as a dead letter.
package retry

import (
	"math/rand/v2"
	"time"
)

// Policy says when failed work is tried again. The zero Policy retries
// at once, for ever.
type Policy struct {
	// First is the wait after the first failed attempt; each further
	// failure doubles it, up to Max (unbounded when 0).
	First, Max time.Duration
	// Jitter waits a random time between half and all of the wait, so
	// work that failed together does not come back together.
	Jitter bool
	// Wait, when set, is the wait after failed attempt n instead.
	Wait func(attempt int) time.Duration
	// MaxAttempts gives up after that many attempts (0: no limit).
	MaxAttempts int
	// GiveUpAfter gives up work whose next attempt would come later than
	// this after the work was created (0: no limit).
	GiveUpAfter time.Duration
}

// Backoff is the wait after failed attempt n (counting from 1).
func (p Policy) Backoff(attempt int) time.Duration {
	if p.Wait != nil {
		return p.Wait(attempt)
	}
	d := p.First << min(max(attempt-1, 0), 20)
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	if p.Jitter && d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	return d
}

// Next says what becomes of work created at created whose attempt number
// attempt failed at now: it is due again at due, or given up (dead). A
// service's requested wait (retryAfter, see push.RetryAfter) is kept when
// it is longer than the back-off.
func (p Policy) Next(attempt int, created, now time.Time, retryAfter time.Duration) (due time.Time, dead bool) {
	if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
		return now, true
	}
	due = now.Add(max(p.Backoff(attempt), retryAfter))
	if p.GiveUpAfter > 0 && !created.IsZero() && due.Sub(created) > p.GiveUpAfter {
		return now, true
	}
	return due, false
}
