package apnstest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

const token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestRefusesLikeAPNs sends raw requests and checks the fake answers as
// APNs documents: status and {"reason": …}.
func TestRefusesLikeAPNs(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	withJWT := apnstest.NewServer(t, apnstest.WithProviderToken(&key.PublicKey, "KID", "TEAM"))
	plain := apnstest.NewServer(t)
	good := map[string]string{"apns-topic": "pass.x", "apns-push-type": "background", "apns-priority": "5"}
	tests := []struct {
		name    string
		srv     *apnstest.Server
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		reason  string
	}{
		{"GET", plain, http.MethodGet, "/3/device/" + token, good, "{}", 405, "MethodNotAllowed"},
		{"wrong path", plain, http.MethodPost, "/2/device/" + token, good, "{}", 404, "BadPath"},
		{"no token", plain, http.MethodPost, "/3/device/", good, "{}", 400, "MissingDeviceToken"},
		{"token not hex", plain, http.MethodPost, "/3/device/xyz", good, "{}", 400, "BadDeviceToken"},
		{"no topic", plain, http.MethodPost, "/3/device/" + token, with(good, "apns-topic", ""), "{}", 400, "MissingTopic"},
		{"bad push type", plain, http.MethodPost, "/3/device/" + token, with(good, "apns-push-type", "wallet"), "{}", 400, "InvalidPushType"},
		{"bad priority", plain, http.MethodPost, "/3/device/" + token, with(good, "apns-priority", "7"), "{}", 400, "BadPriority"},
		{"empty payload", plain, http.MethodPost, "/3/device/" + token, good, "", 400, "PayloadEmpty"},
		{"no provider token", withJWT, http.MethodPost, "/3/device/" + token, good, "{}", 403, "MissingProviderToken"},
		{"forged provider token", withJWT, http.MethodPost, "/3/device/" + token,
			with(good, "authorization", "bearer e30.e30.AAAA"), "{}", 403, "InvalidProviderToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tt.srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := tt.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Reason string }
			raw, _ := io.ReadAll(resp.Body)
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode != tt.status || body.Reason != tt.reason || resp.ProtoMajor != 2 {
				t.Errorf("got %s %d %s, want HTTP/2 %d reason %s", resp.Proto, resp.StatusCode, raw, tt.status, tt.reason)
			}
		})
	}
}

func TestScriptedGoneCarriesTimestamp(t *testing.T) {
	srv := apnstest.NewServer(t)
	at := time.UnixMilli(1_767_225_600_123)
	srv.Respond(token, apnstest.Response{Status: 410, Reason: "Unregistered", Timestamp: at})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/3/device/"+token, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("apns-topic", "pass.x")
	req.Header.Set("apns-push-type", "background")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 410 || strings.TrimSpace(string(raw)) != `{"reason":"Unregistered","timestamp":1767225600123}` {
		t.Errorf("got %d %s", resp.StatusCode, raw)
	}
	if srv.Count() != 1 || len(srv.Requests()) != 1 {
		t.Errorf("count %d, recorded %d; want 1 and 1", srv.Count(), len(srv.Requests()))
	}
}

// with returns a copy of m with k set to v.
func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}
