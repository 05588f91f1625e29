package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCardPassConditionalGet(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	path := "/api/v1/cards/" + serial + "/pass.pkpass"

	get := func(header, value string) response {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if header != "" {
			req.Header.Set(header, value)
		}
		rec := httptest.NewRecorder()
		ts.http.ServeHTTP(rec, req)
		checkResponse(t, req, rec)
		return response{rec}
	}
	first := get("", "")
	etag, modified := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if first.Code != 200 || etag == "" || modified == "" || first.Body.Len() == 0 {
		t.Fatalf("first download = %d, ETag %q, Last-Modified %q, %d bytes", first.Code, etag, modified, first.Body.Len())
	}
	lastMod, err := http.ParseTime(modified)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, header, value string
		want                int
	}{
		{"same etag", "If-None-Match", etag, http.StatusNotModified},
		{"etag among others", "If-None-Match", `"x", ` + etag, http.StatusNotModified},
		{"other etag", "If-None-Match", `"0123"`, http.StatusOK},
		{"not modified since", "If-Modified-Since", modified, http.StatusNotModified},
		{"modified since", "If-Modified-Since", lastMod.Add(-time.Second).Format(http.TimeFormat), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(tt.header, tt.value)
			if res.Code != tt.want {
				t.Fatalf("%s: %s = %d, want %d", tt.header, tt.value, res.Code, tt.want)
			}
			if tt.want == http.StatusNotModified && (res.Body.Len() != 0 || res.Header().Get("ETag") != etag) {
				t.Errorf("304 with %d bytes of body and ETag %q", res.Body.Len(), res.Header().Get("ETag"))
			}
			if tt.want == http.StatusOK && res.Body.String() != first.Body.String() {
				t.Error("200 without the pass")
			}
		})
	}

	// The card changes: the copy the client holds is stale by either
	// validator, even within the same second.
	balanceOf(t, ts.post(key, serial, "earn-1", `{"kind":"earn","purchase_amount":100000}`))
	for _, h := range [][2]string{{"If-None-Match", etag}, {"If-Modified-Since", modified}} {
		res := get(h[0], h[1])
		if res.Code != http.StatusOK || res.Header().Get("ETag") == etag || res.Body.Len() == 0 {
			t.Errorf("after an earn, %s = %d with ETag %q, want 200 with a new pass", h[0], res.Code, res.Header().Get("ETag"))
		}
		if res.Header().Get("Last-Modified") == modified {
			t.Errorf("after an earn, Last-Modified is still %s", modified)
		}
	}
}
