package api_test

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// withMetrics turns metrics on, with passes rendered through the observer
// as cmd/loyalpass wires them.
func withMetrics(t *testing.T) func(*api.Options) {
	return func(o *api.Options) {
		st := o.Stores.Schema.(*store.Store)
		_, material := devChain(t)
		m := metrics.New(metrics.Options{Outbox: st.Queue().OutboxStats})
		o.Metrics = m
		o.Passes = cardpass.NewWithObserver(cardpass.StoreOf(st), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil, m.PassRendered)
	}
}

// scrape reads /metrics through the handler and parses the text format.
func (ts *testServer) scrape() map[string]*dto.MetricFamily {
	ts.t.Helper()
	res := ts.do("GET", "/metrics", "", nil)
	if res.Code != 200 {
		ts.t.Fatalf("GET /metrics = %d %s", res.Code, res.Body.String())
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		ts.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the series of name whose labels include
// want (counter, gauge, or a histogram's count); 0 when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestMetricsCountTraffic(t *testing.T) {
	ts := newTestServer(t, withMetrics(t))
	key := ts.merchant("Metrics")
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	balanceOf(t, ts.post(key, serial, "m1", `{"kind":"earn","purchase_amount":125000}`))
	if res := ts.post(key, serial, "m1", `{"kind":"earn","purchase_amount":125000}`); res.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("second post is not a replay: %d %v", res.Code, res.Header())
	}
	if res := ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil); res.Code != 200 {
		t.Fatalf("pass = %d %s", res.Code, res.Body.String())
	}
	ts.do("GET", "/no/such/path", "", nil)

	fams := ts.scrape()
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"loyalpass_http_requests_total", map[string]string{"route": "/api/v1/programs/:id/cards", "method": "POST", "status": "201"}, 1},
		{"loyalpass_http_requests_total", map[string]string{"route": "/api/v1/cards/:serial/transactions", "method": "POST", "status": "201"}, 2},
		{"loyalpass_http_requests_total", map[string]string{"route": "/api/v1/cards/:serial/pass.pkpass", "method": "GET", "status": "200"}, 1},
		{"loyalpass_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"loyalpass_http_request_duration_seconds", map[string]string{"route": "/api/v1/cards/:serial/pass.pkpass", "method": "GET"}, 1},
		// The replay is not a second transaction.
		{"loyalpass_ledger_transactions_total", map[string]string{"kind": "earn"}, 1},
		{"loyalpass_passes_rendered_total", nil, 1},
		{"loyalpass_pass_render_seconds", nil, 1},
		{"loyalpass_outbox_stats_up", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sample(fams, tt.name, tt.labels); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		})
	}
	// Issuing and earning each wrote an outbox row no worker took.
	if depth := sample(fams, "loyalpass_outbox_depth", nil); depth < 1 {
		t.Errorf("outbox depth = %v, want at least 1", depth)
	}
	if age := sample(fams, "loyalpass_outbox_oldest_age_seconds", nil); age < 0 {
		t.Errorf("outbox age = %v", age)
	}
	// A second download serves the stored package: nothing is signed again.
	ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil)
	if got := sample(ts.scrape(), "loyalpass_passes_rendered_total", nil); got != 1 {
		t.Errorf("passes rendered after a cached download = %v, want 1", got)
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	ts := newTestServer(t)
	if res := ts.do("GET", "/metrics", "", nil); res.Code != 404 {
		t.Fatalf("GET /metrics without metrics = %d, want 404", res.Code)
	}
}
