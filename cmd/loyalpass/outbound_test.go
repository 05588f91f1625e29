package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
)

// TestServeGuardsOutboundCalls runs serve in development mode twice. With
// no outbound_allow, a webhook URL and a PassWallet pushServiceUrl on
// loopback are refused and the listener there hears nothing. With
// LOYALPASS_OUTBOUND_ALLOW naming loopback, the API accepts both and an
// earn reaches the listener as a webhook and as a relay push: the one
// allow-list reaches the API, the webhook sender and the relay client.
func TestServeGuardsOutboundCalls(t *testing.T) {
	listener := netguardtest.Listen(t, "127.0.0.1:0")
	const typeID = "pass.dev.loyalpass.card"
	for _, tt := range []struct {
		name  string
		env   []string
		allow bool
	}{
		{"strict", nil, false},
		{"allowed", []string{"LOYALPASS_OUTBOUND_ALLOW=127.0.0.0/8, ::1"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			data := t.TempDir()
			code, out, errOut := runCLI(t, "keys", "create", "--merchant", "shop", "--data", data)
			if code != 0 {
				t.Fatal(errOut)
			}
			key := strings.TrimSpace(out)
			s := startServer(t, data, tt.env...)
			want := map[bool]int{false: 422, true: 201}[tt.allow]

			status, _, err := s.request(ctx, "POST", "/api/v1/webhooks", key, "",
				map[string]any{"url": listener.URL + "/hook", "events": []string{"balance.changed"}})
			if err != nil || status != want {
				t.Fatalf("create webhook on loopback = %d %v, want %d", status, err, want)
			}
			_, prog, _ := s.request(ctx, "POST", "/api/v1/programs", key, "", map[string]any{"name": "Кофе", "earn_rate_bp": 1000})
			_, card, _ := s.request(ctx, "POST", "/api/v1/programs/"+prog["id"].(string)+"/cards", key, "", map[string]any{"phone": "+79123456789"})
			serial := card["serial_number"].(string)
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "loyalpass.db")+"?mode=ro&_busy_timeout=5000")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var token string
			if err := db.QueryRow(`SELECT auth_token FROM cards WHERE serial_number = ?`, serial).Scan(&token); err != nil {
				t.Fatal(err)
			}
			req, _ := newRequest("POST", "http://"+s.addr+"/wallet/v1/devices/dev1/registrations_attido/"+typeID+"/"+serial,
				fmt.Sprintf(`{"pushToken":"pw-token","pushServiceUrl":"%s/PassWallet"}`, listener.URL))
			req.Header.Set("Authorization", "AttidoPass "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != want {
				t.Fatalf("PassWallet registration on loopback = %d, want %d", res.StatusCode, want)
			}
			status, _, err = s.request(ctx, "POST", "/api/v1/cards/"+serial+"/transactions", key, "earn-1",
				map[string]any{"kind": "earn", "purchase_amount": 10000})
			if err != nil || status != http.StatusCreated {
				t.Fatalf("earn = %d %v", status, err)
			}
			if !tt.allow {
				if listener.Conns() != 0 {
					t.Fatalf("the loopback listener saw %d connections", listener.Conns())
				}
				return
			}
			// One webhook (balance.changed) and one relay push.
			waitFor(t, "the webhook and the relay push on loopback", func() bool { return listener.Requests() == 2 })
		})
	}
}
