package retry

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	webhooks := Policy{First: 30 * time.Second, Max: time.Hour, GiveUpAfter: 24 * time.Hour}
	outbox := Policy{Wait: func(int) time.Duration { return time.Minute }, MaxAttempts: 3}
	tests := []struct {
		name       string
		p          Policy
		attempt    int
		now        time.Time
		retryAfter time.Duration
		wantWait   time.Duration
		wantDead   bool
	}{
		{"first failure", webhooks, 1, created, 0, 30 * time.Second, false},
		{"doubling", webhooks, 4, created, 0, 4 * time.Minute, false},
		{"capped", webhooks, 12, created, 0, time.Hour, false},
		{"no overflow far out", webhooks, 500, created, 0, time.Hour, false},
		{"past the give-up", webhooks, 20, created.Add(23*time.Hour + 30*time.Minute), 0, 0, true},
		{"retry-after longer", webhooks, 1, created, 10 * time.Minute, 10 * time.Minute, false},
		{"retry-after shorter", webhooks, 4, created, time.Second, 4 * time.Minute, false},
		{"before the last attempt", outbox, 2, created, 0, time.Minute, false},
		{"last attempt", outbox, 3, created, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, dead := tt.p.Next(tt.attempt, created, tt.now, tt.retryAfter)
			if dead != tt.wantDead || due.Sub(tt.now) != tt.wantWait {
				t.Fatalf("Next = wait %v dead %v; want wait %v dead %v", due.Sub(tt.now), dead, tt.wantWait, tt.wantDead)
			}
		})
	}
}

func TestJitterStaysWithinHalfAndAll(t *testing.T) {
	p := Policy{First: 5 * time.Second, Max: time.Hour, Jitter: true}
	for attempt := 1; attempt <= 15; attempt++ {
		full := Policy{First: p.First, Max: p.Max}.Backoff(attempt)
		for range 50 {
			if d := p.Backoff(attempt); d < full/2 || d > full {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}
