package apns_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// BenchmarkPush pushes to 10,000 tokens per iteration against the fake over
// real HTTP/2 + TLS with certificate auth, and reports pushes per second.
// Client and server share the machine's cores, so the zero-latency figure
// is a lower bound for the client's CPU cost. The latency cases stand in
// for the round trip to Apple: there throughput is about
// Concurrency / latency until the CPU runs out.
//
//	go test -run '^$' -bench Push -benchtime 3x ./push/apns/
func BenchmarkPush(b *testing.B) {
	const n = 10_000
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		for _, concurrency := range []int{100, 250, 500, 1000} {
			name := fmt.Sprintf("tokens=%d/latency=%v/concurrency=%d", n, latency, concurrency)
			b.Run(name, func(b *testing.B) {
				benchmarkPush(b, n, concurrency, latency)
			})
		}
	}
}

func benchmarkPush(b *testing.B, n, concurrency int, latency time.Duration) {
	c, srv, _ := newCertServer(b, apns.Options{Concurrency: concurrency},
		apnstest.WithoutRecording(), apnstest.WithLatency(latency))
	tokens := hexTokens(n)
	c.Push(b.Context(), tokens[:1]) // dial and handshake outside the timing
	start := srv.Count()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range c.Push(b.Context(), tokens) {
			if r.Outcome != push.Delivered {
				b.Fatalf("push: %+v", r)
			}
		}
	}
	pushes := srv.Count() - start
	b.ReportMetric(float64(pushes)/b.Elapsed().Seconds(), "pushes/s")
}
