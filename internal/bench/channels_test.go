package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestRunPushes pushes a few changed cards through the delivery worker
// and checks the fake APNs received exactly one push per card and the
// outbox is empty.
func TestRunPushes(t *testing.T) {
	n := 50
	if v, _ := strconv.Atoi(os.Getenv("LOYALPASS_BENCH_PUSHES")); v > 0 {
		n = v // a figure by hand: LOYALPASS_BENCH_PUSHES=20000 go test -run RunPushes -v
	}
	ctx := context.Background()
	srv, err := StartServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := RunPushes(ctx, srv, PushOptions{Pushes: n})
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != int64(n) || res.Left != 0 || res.N != n {
		t.Errorf("received %d pushes, %d rows left, N %d; want %d, 0, %d", res.Received, res.Left, res.N, n, n)
	}
	t.Logf("%d pushes in %v: %.0f/s, %v CPU per push", res.N, res.Elapsed, res.PerSec, res.CPUPerOp)
}

// TestRunCampaign plans a campaign over a few hundred seeded customers
// and sends part of it: three quarters are lapsed, a tenth of those held
// out, and the fake Twilio received every text the sender sent.
func TestRunCampaign(t *testing.T) {
	customers, texts := 400, 1000
	if v, _ := strconv.Atoi(os.Getenv("LOYALPASS_BENCH_CUSTOMERS")); v > 0 {
		customers, texts = v, 10000 // LOYALPASS_BENCH_CUSTOMERS=1000000 go test -run RunCampaign -v
	}
	ctx := context.Background()
	srv, err := StartServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := RunCampaign(ctx, srv, CampaignOptions{Customers: customers, Texts: texts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Audience != customers*3/4 || res.Holdout < customers/100 || res.Holdout > customers*3/4/5 {
		t.Errorf("audience %d with %d held out, want the %d lapsed customers, about a tenth held out", res.Audience, res.Holdout, customers*3/4)
	}
	if want := min(texts, res.Audience-res.Holdout); res.Received != want || res.Sending.N != want {
		t.Errorf("sent %d, the fake received %d; want %d", res.Sending.N, res.Received, want)
	}
	t.Logf("planning %d customers: %v (audience %d); sending %d texts: %.0f/s", customers, res.Planning.Elapsed, res.Audience, res.Sending.N, res.Sending.PerSec)
}

// TestRunGoogle changes a few cards saved to Google Wallet and checks the
// fake Wallet API received exactly one object PATCH per card.
func TestRunGoogle(t *testing.T) {
	ctx := context.Background()
	srv, err := StartServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := RunGoogle(ctx, srv, GoogleOptions{Cards: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Patches != 20 || res.N != 20 {
		t.Errorf("%d PATCHes, N %d; want 20", res.Patches, res.N)
	}
}
