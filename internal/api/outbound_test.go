package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/certs/certstest"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
)

// TestWebhookURLRules: outside development mode a webhook URL must be
// https; a URL with credentials, or aimed at loopback, private or
// metadata addresses by literal or by the name localhost, is refused
// naming the field url. The operator's allow-list and development mode
// open what a local test needs.
func TestWebhookURLRules(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	refused := []string{
		"http://hooks.example.com/x",                     // http outside development mode
		"https://user:pw@hooks.example.com/x",            // credentials
		"https://token@hooks.example.com/x",              // a user name alone
		"https://127.0.0.1/x",                            // loopback
		"https://localhost:8443/x",                       // loopback by name
		"https://[::1]/x",                                // IPv6 loopback
		"https://[::ffff:127.0.0.1]/x",                   // IPv4-mapped loopback
		"https://169.254.169.254/latest/",                // cloud metadata
		"https://[fd00:ec2::254]/latest/",                // AWS metadata over IPv6
		"https://10.0.0.8/x",                             // private
		"https://100.64.0.1/x",                           // CGNAT
		"https://0.0.0.0/x",                              // unspecified
		"https://[fe80::1]/x",                            // link-local
		"https://224.0.0.1/x",                            // multicast
		"https://hooks.example.com:443\\@x/a",            // backslash trick in the authority
		"ftp://hooks.example.com/x",                      // not http(s)
		"https:///no-host",                               // no host
		"https://a.example/" + strings.Repeat("x", 2000), // too long
	}
	for _, u := range refused {
		res := ts.do("POST", "/api/v1/webhooks", key, map[string]any{"url": u, "events": []string{"card.issued"}})
		if res.Code != 422 {
			t.Errorf("POST webhook %q = %d, want 422\n%s", u, res.Code, res.Body.String())
			continue
		}
		if _, field := res.errorOf(t); field != "url" {
			t.Errorf("POST webhook %q: error names field %q, want url", u, field)
		}
	}
	if n := ts.count("webhook_endpoints"); n != 0 {
		t.Fatalf("%d endpoints stored from refused URLs", n)
	}
	ts.mustDo(201, "POST", "/api/v1/webhooks", key, map[string]any{"url": "https://hooks.example.com/x", "events": []string{"card.issued"}})

	dev := newTestServer(t, func(o *api.Options) { o.Development = true })
	key = dev.merchant("shop")
	dev.mustDo(201, "POST", "/api/v1/webhooks", key, map[string]any{"url": "http://hooks.example.com/x", "events": []string{"card.issued"}})
	dev.mustDo(422, "POST", "/api/v1/webhooks", key, map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"card.issued"}})

	open := newTestServer(t, func(o *api.Options) { o.Development, o.Outbound = true, netguardtest.Loopback() })
	key = open.merchant("shop")
	for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]:9/x"} {
		open.mustDo(201, "POST", "/api/v1/webhooks", key, map[string]any{"url": u, "events": []string{"card.issued"}})
	}
	open.mustDo(422, "POST", "/api/v1/webhooks", key, map[string]any{"url": "http://169.254.169.254/", "events": []string{"card.issued"}})
}

// TestPassWalletRegistrationURLRules: a PassWallet device's
// pushServiceUrl with credentials or aimed at loopback is refused with 422
// and nothing is registered; the allow-list lets a loopback relay in.
func TestPassWalletRegistrationURLRules(t *testing.T) {
	path := "registrations_attido"
	register := func(ts *testServer, serial, token, device, serviceURL string) int {
		req := httptest.NewRequest("POST", "/wallet/v1/devices/"+device+"/"+path+"/"+certstest.PassTypeID+"/"+serial,
			strings.NewReader(`{"pushToken":"tok-`+device+`","pushServiceUrl":"`+serviceURL+`"}`))
		req.Header.Set("Authorization", "AttidoPass "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		ts.http.ServeHTTP(rec, req)
		return rec.Code
	}
	cardOf := func(ts *testServer) (string, string) {
		key := ts.merchant("shop")
		serial := ts.card(key, ts.program(key), "+79123456789")
		card, err := ts.store.Cards().CardBySerial(context.Background(), serial)
		if err != nil {
			t.Fatal(err)
		}
		return serial, card.AuthToken
	}

	ts := newTestServer(t)
	serial, token := cardOf(ts)
	for i, u := range []string{
		"https://user:pw@relay.example.net/PassWallet",
		"http://127.0.0.1:8080/PassWallet",
		"http://localhost:8080/PassWallet",
		"http://[::1]:8080/PassWallet",
		"http://169.254.169.254/PassWallet",
		"http://192.168.0.10/PassWallet",
	} {
		if code := register(ts, serial, token, "dev"+string(rune('a'+i)), u); code != 422 {
			t.Errorf("register with pushServiceUrl %q = %d, want 422", u, code)
		}
	}
	// AttidoPass on Apple's plain path is PassWallet as well.
	path = "registrations"
	if code := register(ts, serial, token, "plain", "http://127.0.0.1:8080/PassWallet"); code != 422 {
		t.Errorf("register on the plain path with a loopback pushServiceUrl = %d, want 422", code)
	}
	path = "registrations_attido"
	if n := ts.count("registrations"); n != 0 {
		t.Fatalf("%d registrations stored from refused URLs", n)
	}
	if code := register(ts, serial, token, "good", "http://proxy.example.co.uk/PassWallet"); code != 201 {
		t.Fatalf("register with a public relay = %d, want 201", code)
	}

	open := newTestServer(t, func(o *api.Options) { o.Outbound = netguardtest.Loopback() })
	serial, token = cardOf(open)
	if code := register(open, serial, token, "local", "http://127.0.0.1:8080/PassWallet"); code != 201 {
		t.Fatalf("register with an allowed loopback relay = %d, want 201", code)
	}
}
