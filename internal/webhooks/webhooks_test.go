package webhooks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/webhooks"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestDeliveries registers three receivers for balance changes: one that
// verifies the signature, one that fails twice then succeeds, and one
// that hangs. An earn reaches the first at once, the second on its third
// attempt, and the hanging one delays neither; every delivery's status is
// recorded.
func TestDeliveries(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "w.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var mu sync.Mutex
	var verified []string
	var flakyCalls atomic.Int32
	release := make(chan struct{})
	secrets := map[string]string{}
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !webhooks.Verify(secrets["good"], r.Header.Get(webhooks.SignatureHeader), body, clk.Now(), 5*time.Minute) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if webhooks.Verify("wrong-secret", r.Header.Get(webhooks.SignatureHeader), body, clk.Now(), 5*time.Minute) {
			t.Error("a wrong secret verifies")
		}
		verified = append(verified, r.Header.Get("Loyalpass-Event"))
	}))
	defer good.Close()
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if flakyCalls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer flaky.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)

	m, _, _ := st.Merchants().EnsureMerchant(ctx, "shop", "RU")
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 1000, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for name, url := range map[string]string{"good": good.URL, "flaky": flaky.URL, "hang": hang.URL} {
		ep := store.WebhookEndpoint{MerchantID: m.ID, URL: url, Events: []string{store.EventBalanceChanged, store.EventCardIssued}}
		if err := st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
			t.Fatal(err)
		}
		secrets[name], ids[name] = ep.Secret, ep.ID
	}
	card, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = st.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: card.SerialNumber, Kind: loyalty.Earn, PurchaseAmount: 100000,
		IdempotencyKey: "k", RequestHash: []byte("k")}, func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil })
	if err != nil {
		t.Fatal(err)
	}

	s := webhooks.New(webhooks.Options{Store: st.Webhooks(), Timeout: 300 * time.Millisecond, Now: clk.Now,
		Outbound: netguardtest.Loopback(), Development: true}) // the receivers are plain http on loopback
	round := func() {
		for {
			n, err := s.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.Wait()
			if n == 0 {
				return
			}
		}
	}
	start := time.Now()
	round()
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("a round took %v: the hanging receiver held things up", elapsed)
	}
	mu.Lock()
	if len(verified) != 2 {
		t.Fatalf("the verifying receiver got %v, want card.issued and balance.changed", verified)
	}
	mu.Unlock()
	for range 3 {
		clk.Advance(10 * time.Minute) // past the back-off
		round()
	}
	status := func(name string) map[string]int {
		ds, err := st.Webhooks().WebhookDeliveries(ctx, m.ID, ids[name], 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, d := range ds {
			out[d.Status]++
		}
		return out
	}
	if got := status("good"); got["delivered"] != 2 {
		t.Errorf("good: %v", got)
	}
	if got := status("flaky"); got["delivered"] != 2 || flakyCalls.Load() != 4 {
		t.Errorf("flaky: %v after %d calls, want both delivered after 2 failures", got, flakyCalls.Load())
	}
	if got := status("hang"); got["pending"] != 2 {
		t.Errorf("hang: %v, want still pending (retrying)", got)
	}
	// A day later the hanging endpoint's deliveries are given up.
	clk.Advance(25 * time.Hour)
	round()
	if got := status("hang"); got["failed"] != 2 {
		t.Errorf("hang after a day: %v", got)
	}
}

// TestReceiversRetryAfterIsHonoured has a receiver answer 503 with
// Retry-After of two hours: the delivery waits that long, not the
// 30-second back-off, and then goes through.
func TestReceiversRetryAfterIsHonoured(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "w.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls atomic.Int32
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "7200")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer busy.Close()
	m, _, _ := st.Merchants().EnsureMerchant(ctx, "shop", "RU")
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 1000, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	ep := store.WebhookEndpoint{MerchantID: m.ID, URL: busy.URL, Events: []string{store.EventCardIssued}}
	if err := st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789"}); err != nil {
		t.Fatal(err)
	}
	s := webhooks.New(webhooks.Options{Store: st.Webhooks(), Now: clk.Now,
		Outbound: netguardtest.Loopback(), Development: true}) // a plain http receiver on loopback
	round := func() {
		for {
			n, err := s.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.Wait()
			if n == 0 {
				return
			}
		}
	}
	status := func() string {
		ds, err := st.Webhooks().WebhookDeliveries(ctx, m.ID, ep.ID, 0, 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries = %+v, %v", ds, err)
		}
		return ds[0].Status
	}
	round()
	clk.Advance(time.Hour) // far past the back-off, short of the receiver's wait
	round()
	if n, st := calls.Load(), status(); n != 1 || st != "pending" {
		t.Fatalf("after an hour: %d calls, %s; want 1 call, still pending", n, st)
	}
	clk.Advance(time.Hour + time.Minute)
	round()
	if n, st := calls.Load(), status(); n != 2 || st != "delivered" {
		t.Fatalf("after the receiver's wait: %d calls, %s; want delivered on the second", n, st)
	}
}
