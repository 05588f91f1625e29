package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/api"
)

// logBuffer collects the server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsKeepSecretsOut sends API keys, wallet tokens, push tokens and
// phone numbers every way a client can (serials are not secret and are
// logged on purpose), then reads every log line at debug level, JSON and
// text alike, for any of the secrets.
func TestLogsKeepSecretsOut(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var logs logBuffer
			ts := newTestServer(t, func(o *api.Options) {
				hopts := &slog.HandlerOptions{Level: slog.LevelDebug}
				if format == "json" {
					o.Log = slog.New(slog.NewJSONHandler(&logs, hopts))
				} else {
					o.Log = slog.New(slog.NewTextHandler(&logs, hopts))
				}
			})
			key := ts.merchant("Logs")
			secret := key[strings.LastIndex(key, "_")+1:]
			const (
				phone     = "+79123456789"
				pushToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
				device    = "device0123456789abcdef"
			)
			prog := ts.program(key)
			serial := ts.card(key, prog, phone)
			card, err := ts.store.Cards().CardBySerial(context.Background(), serial)
			if err != nil {
				t.Fatal(err)
			}
			ts.do("GET", "/api/v1/cards?phone="+strings.ReplaceAll(phone, "+", "%2B"), key, nil)
			ts.do("POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "8 (912) 345-67-89"})
			ts.do("POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+7912345678900000"})
			ts.do("GET", "/api/v1/programs", key+"x", nil)
			ts.do("GET", "/api/v1/programs", "lp_"+secret, nil)

			wallet := func(method, path, auth, body string) {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Authorization", auth)
				req.Header.Set("Content-Type", "application/json")
				ts.http.ServeHTTP(httptest.NewRecorder(), req)
			}
			reg := "/wallet/v1/devices/" + device + "/registrations/pass.test.loyalpass/" + serial
			wallet("POST", reg, "ApplePass "+card.AuthToken, `{"pushToken":"`+pushToken+`"}`)
			wallet("POST", reg, "ApplePass "+card.AuthToken+"wrong", `{"pushToken":"`+pushToken+`"}`)
			wallet("GET", "/wallet/v1/passes/pass.test.loyalpass/"+serial, "ApplePass "+card.AuthToken, "")
			wallet("GET", "/wallet/v1/devices/"+device+"/registrations/pass.test.loyalpass?passesUpdatedSince=0", "ApplePass "+card.AuthToken, "")
			wallet("DELETE", reg, "ApplePass "+card.AuthToken, "")

			out := logs.String()
			for _, want := range []string{"/api/v1/programs/:id/cards", "/wallet/v1/passes/:passType/:serial", "status"} {
				if !strings.Contains(out, want) {
					t.Fatalf("the access log lacks %q: the test would prove nothing\n%s", want, out)
				}
			}
			for name, secret := range map[string]string{
				"API key": key, "API key secret": secret, "wallet token": card.AuthToken, "push token": pushToken,
				"device": device, "phone": "9123456789", "formatted phone": "345-67-89",
				"long phone": "912345678900000",
			} {
				if strings.Contains(out, secret) {
					t.Errorf("the log shows the %s %q:\n%s", name, secret, out)
				}
			}
			if strings.Contains(out, "ApplePass") || strings.Contains(out, "Bearer") {
				t.Errorf("the log shows an Authorization header:\n%s", out)
			}
		})
	}
}
