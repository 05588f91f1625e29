package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// checkOps asserts that a running server is ready and exposes its metrics,
// the outbox gauges and runtime collectors included.
func checkOps(t *testing.T, addr string) {
	t.Helper()
	for path, want := range map[string][]string{
		"/readyz": {`"status":"ready"`, `"database":"ok"`, `"certificate":"ok"`},
		"/metrics": {`loyalpass_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
			"loyalpass_outbox_depth ", "loyalpass_outbox_stats_up 1", "go_goroutines "},
	} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s = %d %v\n%s", path, res.StatusCode, err, body)
		}
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s lacks %q:\n%.2000s", path, w, body)
			}
		}
	}
}
