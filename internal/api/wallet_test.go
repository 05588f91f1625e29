package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/store"
)

// walletDo sends a web service request from the client address ip.
func (ts *testServer) walletDo(method, path, ip string, header map[string]string, body string) *httptest.ResponseRecorder {
	ts.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = ip + ":40000"
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	return rec
}

// register registers device for serial as Apple Wallet does.
func (ts *testServer) register(device, serial, authToken string) *httptest.ResponseRecorder {
	ts.t.Helper()
	return ts.walletDo("POST", "/wallet/v1/devices/"+device+"/registrations/pass.test.loyalpass/"+serial, "192.0.2.1",
		map[string]string{"Authorization": "ApplePass " + authToken}, `{"pushToken":"`+strings.Repeat("ab", 32)+`"}`)
}

func (ts *testServer) installs(key, serial string) (installed, uninstalled float64) {
	ts.t.Helper()
	card := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil)
	for _, in := range card["installs"].([]any) {
		in := in.(map[string]any)
		installed += in["installed"].(float64)
		uninstalled += in["uninstalled"].(float64)
	}
	return installed, uninstalled
}

// TestDevicesPerCardAreCapped registers a card on fake device ids past
// the cap: the one too many is refused with a 403 that names the limit,
// re-registrations of a device never count twice, an unregistered device
// frees its place, and the install counts stay at the distinct devices.
func TestDevicesPerCardAreCapped(t *testing.T) {
	ts := newTestServer(t, func(o *api.Options) { o.Wallet.MaxDevicesPerCard = 3 })
	key := ts.merchant("Cap")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	other := ts.card(key, prog, "+79123456780")
	ctx := context.Background()
	card, _ := ts.store.Cards().CardBySerial(ctx, serial)
	otherCard, _ := ts.store.Cards().CardBySerial(ctx, other)

	for i := range 3 {
		if rec := ts.register(fmt.Sprintf("dev%d", i), serial, card.AuthToken); rec.Code != http.StatusCreated {
			t.Fatalf("register dev%d = %d %s", i, rec.Code, rec.Body)
		}
	}
	for i := 3; i < 50; i++ {
		rec := ts.register(fmt.Sprintf("dev%d", i), serial, card.AuthToken)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("register dev%d past the cap = %d, want 403", i, rec.Code)
		}
		if i == 3 {
			code, _ := response{rec}.errorOf(t)
			if code != "too_many_devices" || !strings.Contains(rec.Body.String(), "3 devices") {
				t.Fatalf("refusal = %s", rec.Body)
			}
		}
	}
	// A device already following the card registers again: 200, as Apple's
	// protocol says, and it is not a new install.
	for range 3 {
		if rec := ts.register("dev0", serial, card.AuthToken); rec.Code != http.StatusOK {
			t.Fatalf("re-register dev0 = %d", rec.Code)
		}
	}
	if in, un := ts.installs(key, serial); in != 3 || un != 0 {
		t.Fatalf("installs = %v, uninstalled %v; want the 3 devices", in, un)
	}
	// The same device on another card is that card's install.
	if rec := ts.register("dev0", other, otherCard.AuthToken); rec.Code != http.StatusCreated {
		t.Fatalf("register dev0 for another card = %d", rec.Code)
	}
	if in, _ := ts.installs(key, other); in != 1 {
		t.Fatalf("other card installs = %v", in)
	}

	// An unregistered device frees its place; coming back is refused
	// while the card is full.
	unreg := ts.walletDo("DELETE", "/wallet/v1/devices/dev1/registrations/pass.test.loyalpass/"+serial, "192.0.2.1",
		map[string]string{"Authorization": "ApplePass " + card.AuthToken}, "")
	if unreg.Code != 200 {
		t.Fatalf("unregister = %d", unreg.Code)
	}
	if rec := ts.register("dev-new", serial, card.AuthToken); rec.Code != http.StatusCreated {
		t.Fatalf("register into the freed place = %d", rec.Code)
	}
	if rec := ts.register("dev1", serial, card.AuthToken); rec.Code != http.StatusForbidden {
		t.Fatalf("dev1 back on a full card = %d, want 403", rec.Code)
	}
	if in, un := ts.installs(key, serial); in != 3 || un != 1 {
		t.Fatalf("installs = %v, uninstalled %v; want 3 and 1", in, un)
	}
	var rows, devices int
	ts.db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE serial_number = ?`, serial).Scan(&rows)
	ts.db.QueryRow(`SELECT COUNT(*) FROM devices`).Scan(&devices)
	if rows != 4 || devices != 4 {
		t.Fatalf("%d registrations of the card and %d devices stored, want 4 and 4: refused ids must leave no rows", rows, devices)
	}
}

// testClock is a settable clock for the rate limiter.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestLogEndpointCannotFillTheDisk floods POST /wallet/v1/log: 20,000
// messages from many addresses leave at most the row cap (plus the slack
// between prunes) in the store, a body over 64 KB is 413, one address
// past its rate gets 429, and the server log gets a few short lines.
func TestLogEndpointCannotFillTheDisk(t *testing.T) {
	clk := &testClock{}
	clk.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	var logs logBuffer
	ts := newTestServer(t, func(o *api.Options) {
		o.MaxBody = 1 << 20 // the log endpoint has its own 64 KB cap
		o.Wallet.LogPerMinute = 30
		o.Wallet.Now = clk.Now
		o.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	logBody := func(messages ...string) string {
		b, _ := json.Marshal(map[string][]string{"logs": messages})
		return string(b)
	}
	post := func(ip, body string) *httptest.ResponseRecorder {
		return ts.walletDo("POST", "/wallet/v1/log", ip, nil, body)
	}

	t.Run("flood", func(t *testing.T) {
		batch := make([]string, 100)
		for i := range 200 { // 20,000 messages, from 200 addresses
			for j := range batch {
				batch[j] = fmt.Sprintf("flood %d/%d: Signature validation: FAILED", i, j)
			}
			if rec := post(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), logBody(batch...)); rec.Code != 200 {
				t.Fatalf("log %d = %d %s", i, rec.Code, rec.Body)
			}
		}
		limit := store.DefaultDeviceLogMaxRows + store.DefaultDeviceLogMaxRows/10 + 100
		if n := ts.count("device_logs"); n > limit || n < store.DefaultDeviceLogMaxRows {
			t.Fatalf("%d device log rows after 20,000 messages, want between %d and %d", n, store.DefaultDeviceLogMaxRows, limit)
		}
		var newest string
		ts.db.QueryRow(`SELECT message FROM device_logs ORDER BY id DESC LIMIT 1`).Scan(&newest)
		if newest != "flood 199/99: Signature validation: FAILED" {
			t.Fatalf("newest row = %q; pruning must keep the newest", newest)
		}
	})

	t.Run("body cap", func(t *testing.T) {
		big := strings.Repeat("x", 64<<10)
		if rec := post("192.0.2.10", logBody(big)); rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("log of %d bytes = %d, want 413", len(logBody(big)), rec.Code)
		}
		fits := strings.Repeat("x", 64<<10-100)
		if rec := post("192.0.2.10", logBody(fits)); rec.Code != http.StatusOK {
			t.Fatalf("log of %d bytes = %d, want 200", len(logBody(fits)), rec.Code)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		const ip = "198.51.100.7"
		for i := range 30 {
			if rec := post(ip, logBody("burst")); rec.Code != 200 {
				t.Fatalf("request %d of the burst = %d", i, rec.Code)
			}
		}
		rows := ts.count("device_logs")
		for range 20 {
			rec := post(ip, logBody("one too many"))
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
				t.Fatalf("past the rate = %d (Retry-After %q), want 429 after 2 s", rec.Code, rec.Header().Get("Retry-After"))
			}
		}
		if n := ts.count("device_logs"); n != rows {
			t.Fatalf("refused requests stored %d rows", n-rows)
		}
		// X-Forwarded-For from an untrusted peer does not make a new client.
		rec := ts.walletDo("POST", "/wallet/v1/log", ip, map[string]string{"X-Forwarded-For": "203.0.113.9"}, logBody("spoofed"))
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("spoofed X-Forwarded-For = %d, want 429", rec.Code)
		}
		// Another address has its own bucket, one IPv6 /64 shares one.
		if rec := post("198.51.100.8", logBody("neighbour")); rec.Code != 200 {
			t.Fatalf("another address = %d", rec.Code)
		}
		for i := range 31 {
			want := 200
			if i == 30 {
				want = http.StatusTooManyRequests
			}
			if rec := post(fmt.Sprintf("2001:db8::%x", i+1), logBody("v6")); rec.Code != want {
				t.Fatalf("IPv6 request %d from one /64 = %d, want %d", i, rec.Code, want)
			}
		}
		// Two seconds later the bucket holds one request again.
		clk.Advance(2 * time.Second)
		if rec := post(ip, logBody("later")); rec.Code != 200 {
			t.Fatalf("after 2 s = %d", rec.Code)
		}
		if rec := post(ip, logBody("later again")); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("second after 2 s = %d", rec.Code)
		}
	})

	t.Run("server log", func(t *testing.T) {
		before := strings.Count(logs.String(), "msg=\"device log\"")
		long := strings.Repeat("y", 10000)
		if rec := post("192.0.2.20", logBody(long, long, long, long, long, long)); rec.Code != 200 {
			t.Fatal(rec.Code)
		}
		var lines []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "msg=\"device log\"") {
				lines = append(lines, l)
			}
		}
		lines = lines[before:]
		if len(lines) != 4 || !strings.Contains(lines[3], "more=3") {
			t.Fatalf("server log got %d lines for 6 messages, want 3 and a count:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if len(l) > 400 {
				t.Fatalf("a %d-byte log line: %.100s…", len(l), l)
			}
		}
	})
}

// TestLogRateLimitBehindATrustedProxy keys the log rate limit on the
// client that a trusted proxy names in X-Forwarded-For.
func TestLogRateLimitBehindATrustedProxy(t *testing.T) {
	ts := newTestServer(t, func(o *api.Options) {
		o.Wallet.LogPerMinute = 1
		o.TrustedProxies = []string{"192.0.2.0/24"}
	})
	post := func(forwardedFor string) int {
		return ts.walletDo("POST", "/wallet/v1/log", "192.0.2.1", map[string]string{"X-Forwarded-For": forwardedFor},
			`{"logs":["behind a proxy"]}`).Code
	}
	if a, b := post("203.0.113.1"), post("203.0.113.2"); a != 200 || b != 200 {
		t.Fatalf("two clients behind the proxy = %d, %d; want each its own bucket", a, b)
	}
	if code := post("203.0.113.1"); code != http.StatusTooManyRequests {
		t.Fatalf("the first client again = %d, want 429", code)
	}
}
