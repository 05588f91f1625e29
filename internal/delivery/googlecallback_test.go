package delivery_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/passes/google/googletest"
)

// TestGoogleCallbacksCountInstalls posts Google's save and delete
// callbacks: real ones (signed by the world's test root key) count as an
// install and an uninstall on channel "google"; forged, tampered and
// oversized ones are refused and change nothing; a redelivery is ignored.
func TestGoogleCallbacksCountInstalls(t *testing.T) {
	w := newGoogleWorld(t, nil)
	serial, authToken := w.issue("+79123456789")
	prog := w.merchant("GET", "/api/v1/cards/"+serial, "", "")["program_id"].(string)
	if rec := w.do("GET", "/google/save/"+serial+"?t="+authToken, nil, ""); rec.Code != http.StatusFound {
		t.Fatal(rec.Code)
	}
	post := func(body []byte) int {
		t.Helper()
		return w.do("POST", "/hooks/google", map[string]string{"Content-Type": "application/json"}, string(body)).Code
	}
	installs := func() (installed, uninstalled float64) {
		t.Helper()
		for _, in := range w.merchant("GET", "/api/v1/cards/"+serial, "", "")["installs"].([]any) {
			if m := in.(map[string]any); m["channel"] == "google" {
				return m["installed"].(float64), m["uninstalled"].(float64)
			}
		}
		return 0, 0
	}

	// Forgeries: another root key, an altered message, junk, too big.
	forger, _ := googletest.NewSigner()
	save := callback(w.signer, serial, prog, "save", "nonce-1", w.clock.Now())
	var tampered map[string]any
	json.Unmarshal(save, &tampered)
	tampered["signedMessage"] = strings.Replace(tampered["signedMessage"].(string), `"save"`, `"del"`, 1)
	tamperedBody, _ := json.Marshal(tampered)
	for name, body := range map[string][]byte{
		"forged":   callback(forger, serial, prog, "save", "nonce-f", w.clock.Now()),
		"tampered": tamperedBody,
		"junk":     []byte(`{"hello":"google"}`),
	} {
		if code := post(body); code != http.StatusUnauthorized {
			t.Errorf("%s callback = %d, want 401", name, code)
		}
	}
	if code := post(bytes.Repeat([]byte("x"), 64<<10)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized callback = %d, want 413", code)
	}
	if in, un := installs(); in != 0 || un != 0 {
		t.Fatalf("after refused callbacks: installed %v, uninstalled %v", in, un)
	}

	// The real save: an install; delivered again: nothing new.
	for range 2 {
		if code := post(save); code != http.StatusOK {
			t.Fatalf("save callback = %d", code)
		}
	}
	if in, un := installs(); in != 1 || un != 0 {
		t.Fatalf("after save: installed %v, uninstalled %v", in, un)
	}
	// An earn patches the object; the Google "device" is never pushed
	// through APNs or a relay.
	w.earn(serial, "earn", "10000")
	w.drain()
	var devicePushes int
	w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE topic = 'push.retry' AND payload LIKE '%device_id%'`).Scan(&devicePushes)
	if devicePushes != 0 {
		t.Errorf("%d device pushes queued for a Google install", devicePushes)
	}

	// The delete: an uninstall.
	if code := post(callback(w.signer, serial, prog, "del", "nonce-2", w.clock.Now())); code != http.StatusOK {
		t.Fatalf("delete callback = %d", code)
	}
	if in, un := installs(); in != 0 || un != 1 {
		t.Fatalf("after delete: installed %v, uninstalled %v", in, un)
	}
	// Saved again later: installed again.
	if code := post(callback(w.signer, serial, prog, "save", "nonce-3", w.clock.Now())); code != http.StatusOK {
		t.Fatal(code)
	}
	if in, un := installs(); in != 1 || un != 0 {
		t.Fatalf("after a second save: installed %v, uninstalled %v", in, un)
	}
}
