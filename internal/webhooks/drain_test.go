package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/webhooks"
)

// TestStopLetsAPostInFlightFinish stops the sender while a receiver is
// still answering: the post completes and is recorded delivered, and an
// event queued after the stop is left for the next start.
func TestStopLetsAPostInFlightFinish(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "w.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	arrived, release := make(chan struct{}), make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	m, _, _ := st.Merchants().EnsureMerchant(ctx, "shop", "RU")
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 1000, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	ep := store.WebhookEndpoint{MerchantID: m.ID, URL: receiver.URL, Events: []string{store.EventBalanceChanged}}
	if err := st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	card, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789"})
	if err != nil {
		t.Fatal(err)
	}
	earn := func(key string) {
		t.Helper()
		_, _, err := st.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: card.SerialNumber, Kind: loyalty.Earn, PurchaseAmount: 100000,
			IdempotencyKey: key, RequestHash: []byte(key)}, func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil })
		if err != nil {
			t.Fatal(err)
		}
	}

	s := webhooks.New(webhooks.Options{Store: st.Webhooks(), Timeout: 10 * time.Second, Grace: 10 * time.Second,
		Outbound: netguardtest.Loopback(), Development: true}) // the receiver is plain http on loopback
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	earn("before")
	<-arrived // the post is in flight
	stop()
	earn("after")
	select {
	case <-done:
		t.Fatal("Run returned with a post in flight")
	default:
	}
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once the post in flight finished")
	}

	ds, err := st.Webhooks().WebhookDeliveries(ctx, m.ID, ep.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2", len(ds))
	}
	// Newest first: the event queued after the stop, then the one in flight.
	if d := ds[1]; d.Status != "delivered" || d.LastStatus != http.StatusNoContent || d.Attempts != 1 {
		t.Errorf("the post in flight at the stop: %+v, want delivered on its first attempt", d)
	}
	if d := ds[0]; d.Status != "pending" || d.Attempts != 0 {
		t.Errorf("the event queued after the stop: %+v, want pending and never claimed", d)
	}
}
