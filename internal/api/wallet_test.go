package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
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
	card, _ := ts.store.CardBySerial(ctx, serial)
	otherCard, _ := ts.store.CardBySerial(ctx, other)

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
