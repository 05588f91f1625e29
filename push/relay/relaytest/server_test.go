package relaytest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/push/relay"
	"github.com/loyalpass/loyalpass/push/relay/relaytest"
)

// TestChecksRequests sends raw requests and checks the fake refuses what a
// relay would: wrong media type, bad key, body of the wrong shape.
func TestChecksRequests(t *testing.T) {
	srv := relaytest.NewServer(t)
	key := srv.Key(relay.Pass2U)
	tests := []struct {
		name        string
		path        string
		contentType string
		header      [2]string
		body        string
		status      int
	}{
		{"ok", "/v2/registrations/pass.x/push", "application/json", [2]string{"x-api-key", key},
			`{"registrationIds":["a"]}`, 200},
		{"charset is fine", "/v2/registrations/pass.x/push", "application/json; charset=utf-8", [2]string{"x-api-key", key},
			`{"registrationIds":["a"]}`, 200},
		{"form body", "/v2/registrations/pass.x/push", "application/x-www-form-urlencoded", [2]string{"x-api-key", key},
			`registrationIds=a`, 415},
		{"no key", "/v2/registrations/pass.x/push", "application/json", [2]string{"x-other", key},
			`{"registrationIds":["a"]}`, 401},
		{"misspelt field", "/v2/registrations/pass.x/push", "application/json", [2]string{"x-api-key", key},
			`{"registrationIDs":["a"]}`, 400},
		{"no tokens", "/v2/registrations/pass.x/push", "application/json", [2]string{"x-api-key", key},
			`{"registrationIds":[]}`, 400},
		{"trailing data", "/v2/registrations/pass.x/push", "application/json", [2]string{"x-api-key", key},
			`{"registrationIds":["a"]}{}`, 400},
		{"PassHub wants Bearer", "/v1/push", "application/json", [2]string{"Authorization", srv.Key(relay.PassHub)},
			`{"pass_type_id":"pass.x","push_tokens":["a"]}`, 401},
		{"WalletUnion shape", relaytest.WalletUnionPath, "application/json", [2]string{"Authorization", srv.Key(relay.WalletUnion)},
			`{"passTypeIdentifier":"pass.x","pushTokens":["a"],"fcm":true}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set(tt.header[0], tt.header[1])
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func TestFailureCountsDown(t *testing.T) {
	srv := relaytest.NewServer(t)
	srv.Fail(relay.PassHub, relaytest.Failure{Status: 503, RetryAfter: "7", Times: 2})
	var got []int
	for range 3 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/push",
			strings.NewReader(`{"pass_type_id":"pass.x","push_tokens":["a"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+srv.Key(relay.PassHub))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After = %q, want 7", resp.Header.Get("Retry-After"))
		}
		got = append(got, resp.StatusCode)
	}
	if got[0] != 503 || got[1] != 503 || got[2] != 200 {
		t.Errorf("statuses = %v, want [503 503 200]", got)
	}
	if toks := srv.Tokens(relay.PassHub); len(toks) != 1 {
		t.Errorf("accepted tokens = %v, want the one from the 200", toks)
	}
}
