package api_test

import (
	"net/http"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/googlewallet"
	"github.com/loyalpass/loyalpass/passes/google"
)

var (
	_ api.GoogleWallet     = (*googlewallet.Service)(nil)
	_ api.CallbackVerifier = google.CallbackVerifier{}
)

// TestGoogleOff: without Google Wallet configured the save link and the
// callback do not exist and cards carry no save link. (The routes with
// Google on are tested end to end in internal/delivery.)
func TestGoogleOff(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("a")
	card := ts.mustDo(201, "POST", "/api/v1/programs/"+ts.program(key)+"/cards", key, map[string]any{"phone": "+79123456789"})
	if _, ok := card["google_save_url"]; ok {
		t.Errorf("card JSON has google_save_url with Google off: %v", card["google_save_url"])
	}
	for _, r := range []struct{ method, path string }{
		{"GET", api.GoogleSavePath + card["serial_number"].(string) + "?t=x"},
		{"POST", googlewallet.CallbackPath},
	} {
		rec := ts.do(r.method, r.path, "", "{}")
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s = %d, want 404", r.method, r.path, rec.Code)
		}
	}
}
