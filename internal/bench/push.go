package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// PushOptions configures RunPushes.
type PushOptions struct {
	// Pushes is how many changed cards, each with one registered Apple
	// device, the worker has to push.
	Pushes int
	// Latency delays every answer of the fake APNs, standing in for the
	// round trip to Apple (0: loopback only).
	Latency time.Duration
}

// PushResult is what RunPushes measured.
type PushResult struct {
	Latencies
	// Received is how many pushes reached the fake APNs.
	Received int64
	// Left is how many outbox rows were not done at the end.
	Left int
}

// RunPushes measures the push path end to end: Pushes changed cards
// with a device each wait in the outbox; the delivery worker, started as
// serve starts it, claims them, finds their devices, pushes through the
// APNs client over HTTP/2 and TLS to a fake APNs, records the outcomes
// and completes the rows. The clock runs from the worker's start until
// the outbox is empty; the seeding is not timed.
func RunPushes(ctx context.Context, s *Server, o PushOptions) (PushResult, error) {
	f := &fakes{}
	defer f.close()
	c := client(1)
	serials, err := s.issueCards(ctx, c, 1)
	if err != nil {
		return PushResult{}, err
	}
	if err := s.seedPushes(ctx, serials[0], s.Material.PassTypeID, o.Pushes); err != nil {
		return PushResult{}, err
	}
	fakeOpts := []apnstest.Option{apnstest.WithoutRecording()}
	if o.Latency > 0 {
		fakeOpts = append(fakeOpts, apnstest.WithLatency(o.Latency))
	}
	fake := apnstest.NewServer(f, fakeOpts...)
	cert := s.Material.TLSCertificate()
	apple, err := apns.New(apns.Options{Certificate: &cert, Topic: s.Material.PassTypeID, Host: fake.URL, RootCAs: fake.CertPool()})
	if err != nil {
		return PushResult{}, err
	}
	defer apple.Close()
	w := delivery.New(delivery.Options{Store: delivery.StoreOf(s.Store), Apple: apple, PassTypeID: s.Material.PassTypeID})

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	start, cpu0 := time.Now(), cpuTime()
	go func() { defer close(done); w.Run(runCtx) }()
	// A push that keeps failing would leave its row waiting for ever.
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(o.Pushes)*time.Millisecond)
	// Counting the outbox is itself a query over every waiting row, so
	// the wait watches the fake first and asks the store only at the end.
	left, err := o.Pushes, waitFor(waitCtx, time.Millisecond, func() bool { return fake.Count() >= int64(o.Pushes) })
	if err == nil {
		left, err = waitOutboxEmpty(waitCtx, s.Store, 5*time.Millisecond)
	}
	cancel()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	stop()
	<-done
	res := PushResult{Received: fake.Count(), Left: left}
	if err != nil {
		return res, err
	}
	res.Latencies = summarise(nil, elapsed, cpu, 0)
	res.N = int(res.Received)
	if res.N > 0 {
		res.PerSec = float64(res.N) / elapsed.Seconds()
		res.CPUPerOp = cpu / time.Duration(res.N)
	}
	if res.Received != int64(o.Pushes) {
		return res, fmt.Errorf("the fake APNs received %d pushes, want %d", res.Received, o.Pushes)
	}
	return res, nil
}

// waitOutboxEmpty polls until no outbox row is waiting, and returns how
// many are left if ctx ends first.
func waitOutboxEmpty(ctx context.Context, st *store.Store, every time.Duration) (int, error) {
	for {
		n, _, err := st.Queue().OutboxStats(ctx)
		if err != nil || n == 0 {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(every):
		}
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, every time.Duration, cond func() bool) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
