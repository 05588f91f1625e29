package api

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/store"
)

// memWebhooks is webhookStore in memory.
type memWebhooks struct {
	mu         sync.Mutex
	endpoints  []store.WebhookEndpoint
	deliveries []store.WebhookDelivery // ascending IDs
}

var _ webhookStore = (*memWebhooks)(nil)

func (m *memWebhooks) CreateWebhookEndpoint(_ context.Context, ep *store.WebhookEndpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep.ID, ep.Secret = fmt.Sprintf("whk_%d", len(m.endpoints)+1), "whsec_test"
	ep.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.endpoints = append(m.endpoints, *ep)
	return nil
}

func (m *memWebhooks) WebhookEndpoints(_ context.Context, merchantID string) ([]store.WebhookEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.WebhookEndpoint
	for _, ep := range m.endpoints {
		if ep.MerchantID == merchantID {
			out = append(out, ep)
		}
	}
	return out, nil
}

func (m *memWebhooks) DeleteWebhookEndpoint(_ context.Context, merchantID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.endpoints, func(ep store.WebhookEndpoint) bool { return ep.ID == id && ep.MerchantID == merchantID })
	if i < 0 {
		return store.ErrNotFound
	}
	m.endpoints = slices.Delete(m.endpoints, i, i+1)
	return nil
}

// WebhookDeliveries lists newest first, before beforeID (0: from the newest).
func (m *memWebhooks) WebhookDeliveries(_ context.Context, merchantID, endpointID string, beforeID int64, limit int) ([]store.WebhookDelivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.WebhookDelivery
	for _, d := range slices.Backward(m.deliveries) {
		if d.EndpointID == endpointID && (beforeID <= 0 || d.ID < beforeID) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func TestWebhookHandlersOnAnInMemoryStore(t *testing.T) {
	hooks := &memWebhooks{}
	rig := newHandlerRig(t, func(b base, v1 gin.IRouter) {
		(&webhookHandlers{base: b, store: hooks, outbound: netguard.New(netguard.Options{})}).routes(v1)
	})
	alice, bob := rig.merchant("mrc_alice"), rig.merchant("mrc_bob")

	created := rig.mustDo(201, "POST", "/api/v1/webhooks", alice,
		`{"url":"https://hooks.example.com/loyalpass","events":["balance.changed"]}`)
	id, _ := created["id"].(string)
	if created["secret"] != "whsec_test" || len(hooks.endpoints) != 1 || hooks.endpoints[0].MerchantID != "mrc_alice" {
		t.Fatalf("create answered %v; store holds %+v", created, hooks.endpoints)
	}
	list := rig.mustDo(200, "GET", "/api/v1/webhooks", alice, "")["webhooks"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id || list[0].(map[string]any)["secret"] != nil {
		t.Fatalf("list = %v, want the endpoint without its secret", list)
	}

	for i := 1; i <= 3; i++ {
		hooks.deliveries = append(hooks.deliveries, store.WebhookDelivery{ID: int64(i), EndpointID: id,
			Event: "balance.changed", Status: "delivered", Attempts: 1, LastStatus: 200})
	}
	page := rig.mustDo(200, "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=2", alice, "")
	if ds := page["deliveries"].([]any); len(ds) != 2 || ds[0].(map[string]any)["id"] != 3.0 || page["next_cursor"] != "2" {
		t.Fatalf("first page = %v, want deliveries 3 and 2 and a cursor at 2", page)
	}
	page = rig.mustDo(200, "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=2&cursor=2", alice, "")
	if ds := page["deliveries"].([]any); len(ds) != 1 || ds[0].(map[string]any)["id"] != 1.0 || page["next_cursor"] != "" {
		t.Fatalf("second page = %v, want delivery 1 and no cursor", page)
	}

	t.Run("another merchant sees none of it", func(t *testing.T) {
		if list := rig.mustDo(200, "GET", "/api/v1/webhooks", bob, "")["webhooks"].([]any); len(list) != 0 {
			t.Errorf("bob lists %v", list)
		}
		for _, method := range []string{"DELETE", "GET"} {
			path := "/api/v1/webhooks/" + id
			if method == "GET" {
				path += "/deliveries"
			}
			status, out := rig.do(method, path, bob, "")
			if code, _ := errorOf(out); status != 404 || code != "not_found" {
				t.Errorf("bob: %s %s = %d %v, want 404 not_found", method, path, status, out)
			}
		}
		if len(hooks.endpoints) != 1 {
			t.Errorf("bob's delete removed alice's endpoint")
		}
	})

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, body  string
			code, field string
		}{
			{"plain http", `{"url":"http://hooks.example.com/x","events":["card.issued"]}`, "invalid_field", "url"},
			{"loopback", `{"url":"https://127.0.0.1/x","events":["card.issued"]}`, "invalid_field", "url"},
			{"credentials", `{"url":"https://u:p@hooks.example.com/x","events":["card.issued"]}`, "invalid_field", "url"},
			{"no events", `{"url":"https://hooks.example.com/x","events":[]}`, "invalid_field", "events"},
			{"unknown event", `{"url":"https://hooks.example.com/x","events":["card.eaten"]}`, "invalid_field", "events"},
			{"event twice", `{"url":"https://hooks.example.com/x","events":["card.issued","card.issued"]}`, "invalid_field", "events"},
			{"unknown field", `{"url":"https://hooks.example.com/x","events":["card.issued"],"secret":"mine"}`, "unknown_field", "secret"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, out := rig.do("POST", "/api/v1/webhooks", alice, tt.body)
				if code, field := errorOf(out); status/100 != 4 || code != tt.code || field != tt.field {
					t.Fatalf("= %d %s/%s, want %s/%s: %v", status, code, field, tt.code, tt.field, out)
				}
				if len(hooks.endpoints) != 1 {
					t.Fatalf("a refused create stored an endpoint: %+v", hooks.endpoints)
				}
			})
		}
		if status, out := rig.do("GET", "/api/v1/webhooks/"+id+"/deliveries?cursor=0", alice, ""); status != 400 {
			t.Errorf("cursor 0 = %d %v, want 400", status, out)
		}
	})

	rig.mustDo(204, "DELETE", "/api/v1/webhooks/"+id, alice, "")
	if status, _ := rig.do("DELETE", "/api/v1/webhooks/"+id, alice, ""); status != 404 || len(hooks.endpoints) != 0 {
		t.Fatalf("second delete = %d with %d endpoints left, want 404 and none", status, len(hooks.endpoints))
	}
}
