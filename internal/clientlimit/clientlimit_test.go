package clientlimit

import (
	"fmt"
	"testing"
	"time"
)

func address(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255) }

// TestClientLimiterMemoryIsBounded sends from more addresses than the
// limiter remembers: it never holds more than maxLimiterKeys buckets.
func TestClientLimiterMemoryIsBounded(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := New(2, func() time.Time { return now })
	for i := range 3 * maxLimiterKeys {
		l.Allow(address(i))
		if len(l.clients) > maxLimiterKeys {
			t.Fatalf("%d buckets after %d addresses", len(l.clients), i+1)
		}
	}
}

// TestClientLimiterForgetsRefilledBucketsFirst fills the limiter: the
// buckets that refilled are forgotten, a client that is being limited
// right now is not.
func TestClientLimiterForgetsRefilledBucketsFirst(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := New(2, func() time.Time { return now })
	for i := range maxLimiterKeys - 1 {
		l.Allow(address(i))
	}
	now = now.Add(time.Minute)
	const busy = "198.51.100.1"
	l.Allow(busy)
	l.Allow(busy)
	if ok, wait := l.Allow(busy); ok || wait != 30*time.Second {
		t.Fatalf("third request within the minute = %v (wait %v), want refused for 30 s", ok, wait)
	}
	l.Allow("198.51.100.2") // the table is full: forget the refilled
	if len(l.clients) != 2 {
		t.Fatalf("%d buckets after forgetting, want the busy one and the new one", len(l.clients))
	}
	if ok, _ := l.Allow(busy); ok {
		t.Fatal("forgetting reset a client that is being limited")
	}
}
