package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
)

func TestFCMTokenWhileFCMIsOff(t *testing.T) {
	ts := newTestServer(t, func(o *api.Options) { o.FCM = false })
	key := ts.merchant("shop")
	serial := ts.card(key, ts.program(key), "+79123456789")

	res := ts.do("POST", "/api/v1/cards/"+serial+"/fcm-tokens", key, map[string]any{"token": "app:APA91bA"})
	if res.Code != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", res.Code, res.Body)
	}
	code, _ := res.errorOf(t)
	msg := res.json(t)["error"].(map[string]any)["message"].(string)
	if code != "fcm_not_configured" || !strings.Contains(msg, "FCM is not configured") {
		t.Errorf("error %s %q, want fcm_not_configured saying FCM is not configured", code, msg)
	}
	if n := ts.count("fcm_tokens"); n != 0 {
		t.Errorf("fcm_tokens rows = %d, want none stored", n)
	}
}
