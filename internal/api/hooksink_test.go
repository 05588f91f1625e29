package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/webhooks"
)

// hookEvent is a webhook delivery as an endpoint reads it.
type hookEvent struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// hookSink is a merchant's webhook endpoint subscribed to events, and
// the sender that delivers to it.
type hookSink struct {
	t      *testing.T
	sender *webhooks.Sender
	mu     sync.Mutex
	got    []hookEvent
}

// newHookSink subscribes an endpoint of the "shop" merchant to events.
func newHookSink(t *testing.T, ts *testServer, events ...string) *hookSink {
	t.Helper()
	h := &hookSink{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e hookEvent
		if err := json.NewDecoder(req.Body).Decode(&e); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.got = append(h.got, e)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	m, _, err := ts.store.Merchants().EnsureMerchant(ctx, "shop", "RU")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.Webhooks().CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{MerchantID: m.ID, URL: srv.URL,
		Events: events}); err != nil {
		t.Fatal(err)
	}
	h.sender = webhooks.New(webhooks.Options{Store: ts.store.Webhooks(), Outbound: netguardtest.Loopback(),
		Development: true}) // the endpoint is plain http on loopback
	return h
}

// deliver sends every due delivery and returns what the endpoint
// received since the last call.
func (h *hookSink) deliver() []hookEvent {
	h.t.Helper()
	for {
		n, err := h.sender.RunOnce(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		h.sender.Wait()
		if n == 0 {
			break
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}
