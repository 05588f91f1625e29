package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/googlewallet"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push/gwallet"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

// GoogleOptions configures RunGoogle.
type GoogleOptions struct {
	Cards int // cards with a Google Wallet object, each changed once
}

// GoogleResult is what RunGoogle measured.
type GoogleResult struct {
	Latencies
	// Patches is how many object PATCHes reached the fake Wallet API
	// while the worker ran.
	Patches int
}

// benchIssuerID is the fake Wallet issuer the google section works as.
const benchIssuerID = "3388000000022141777"

// serviceKey is the fake service account's key, made once per process:
// a 2048-bit RSA key takes a noticeable part of a second.
var serviceKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// RunGoogle measures the Google Wallet path end to end: Cards cards are
// saved to Google Wallet (their class and objects inserted in a fake
// Wallet API), then each gets a transaction over HTTP with the worker
// stopped, so Cards changes wait in the outbox. The clock runs from the
// delivery worker's start, as serve starts it with Google Wallet on,
// until the fake has received one PATCH per card and the outbox is empty.
func RunGoogle(ctx context.Context, s *Server, o GoogleOptions) (GoogleResult, error) {
	var res GoogleResult
	f := &fakes{}
	defer f.close()
	fake := gwallettest.NewServer(f)
	wallet, err := gwallet.New(ctx, nil, option.WithEndpoint(fake.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		return res, err
	}
	key, err := serviceKey()
	if err != nil {
		return res, err
	}
	account := &google.ServiceAccount{Email: "loyalpass-bench@bench-project.iam.gserviceaccount.com", PrivateKeyID: "bench-1",
		Key: key, IssuerID: benchIssuerID}
	svc, err := googlewallet.New(googlewallet.Options{Store: googlewallet.StoreOf(s.Store), Client: wallet, Key: account,
		PublicURL: "https://cards.example.com"})
	if err != nil {
		return res, err
	}
	hc := client(8)
	serials, err := s.issueCards(ctx, hc, o.Cards)
	if err != nil {
		return res, err
	}
	for _, serial := range serials {
		card, err := s.Store.Cards().CardBySerial(ctx, serial)
		if err != nil {
			return res, err
		}
		if _, err := svc.SaveURL(ctx, card); err != nil {
			return res, fmt.Errorf("save card %s to the fake Google Wallet: %w", serial, err)
		}
	}
	// Changes made before the worker starts wait in the outbox.
	if _, err := runParallel(ctx, len(serials), 8, func(i int) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/api/v1/cards/"+serials[i]+"/transactions",
			strings.NewReader(`{"kind":"earn","purchase_amount":10000}`))
		req.Header.Set("Authorization", "Bearer "+s.Key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("google-%d", i))
		return do(hc, req, http.StatusCreated)
	}); err != nil {
		return res, err
	}
	patches := func() int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Method == http.MethodPatch {
				n++
			}
		}
		return n
	}
	before := patches()
	w := delivery.New(delivery.Options{Store: delivery.StoreOf(s.Store), Google: svc, PassTypeID: s.Material.PassTypeID})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	start, cpu0 := time.Now(), cpuTime()
	go func() { defer close(done); w.Run(runCtx) }()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(o.Cards)*10*time.Millisecond)
	err = waitFor(waitCtx, 10*time.Millisecond, func() bool { return patches()-before >= o.Cards })
	if err == nil {
		_, err = waitOutboxEmpty(waitCtx, s.Store, 5*time.Millisecond)
	}
	cancel()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	stop()
	<-done
	res.Patches = patches() - before
	res.Latencies = Latencies{N: res.Patches, Elapsed: elapsed}
	if res.Patches > 0 {
		res.PerSec = float64(res.Patches) / elapsed.Seconds()
		res.CPUPerOp = cpu / time.Duration(res.Patches)
	}
	if err != nil {
		return res, fmt.Errorf("waiting for %d object PATCHes (%d arrived): %w", o.Cards, res.Patches, err)
	}
	if res.Patches != o.Cards {
		return res, fmt.Errorf("the fake Wallet API received %d object PATCHes, want %d", res.Patches, o.Cards)
	}
	return res, nil
}
