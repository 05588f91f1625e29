// Package metrics holds loyalpass's Prometheus collectors on a registry
// the server owns, so tests and several servers in one process never share
// the global default registry.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of loyalpass collectors and the registry they are on.
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ledger   *prometheus.CounterVec
	rendered prometheus.Counter
	signing  prometheus.Histogram
	pushes   *prometheus.CounterVec
	sms      *prometheus.CounterVec
}

// OutboxStats reports the outbox rows still waiting (neither done nor
// dead) and the creation time of the oldest; oldest is zero when none wait.
type OutboxStats func(ctx context.Context) (depth int, oldest time.Time, err error)

// Options configures New.
type Options struct {
	// Outbox, when set, is queried on every scrape for the outbox gauges.
	Outbox OutboxStats
	// Now is the clock for the oldest row's age; nil means time.Now.
	Now func() time.Time
	// Runtime adds the Go runtime and process collectors.
	Runtime bool
}

// New returns the collectors registered on a new registry.
func New(opts Options) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyalpass_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "loyalpass_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		ledger: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyalpass_ledger_transactions_total", Help: "Ledger transactions posted, by kind (replays not counted).",
		}, []string{"kind"}),
		rendered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "loyalpass_passes_rendered_total", Help: "Apple Wallet packages rendered and signed.",
		}),
		signing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "loyalpass_pass_render_seconds", Help: "Time to render and sign one package.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyalpass_pushes_total", Help: "Device pushes by channel and outcome.",
		}, []string{"channel", "outcome"}),
		sms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyalpass_sms_total", Help: "Campaign texts by provider and status.",
		}, []string{"provider", "status"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.ledger, m.rendered, m.signing, m.pushes, m.sms)
	if opts.Outbox != nil {
		now := opts.Now
		if now == nil {
			now = time.Now
		}
		m.Registry.MustRegister(&outboxCollector{stats: opts.Outbox, now: now})
	}
	if opts.Runtime {
		m.Registry.MustRegister(collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Request records one HTTP request.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, statusText(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// Transaction records one newly posted ledger transaction.
func (m *Metrics) Transaction(kind string) { m.ledger.WithLabelValues(kind).Inc() }

// PassRendered records one package rendered and signed in d.
func (m *Metrics) PassRendered(d time.Duration) {
	m.rendered.Inc()
	m.signing.Observe(d.Seconds())
}

// Push records one device push's outcome.
func (m *Metrics) Push(channel, outcome string) { m.pushes.WithLabelValues(channel, outcome).Inc() }

// SMS records one campaign text's status at its provider.
func (m *Metrics) SMS(provider, status string) { m.sms.WithLabelValues(provider, status).Inc() }

func statusText(code int) string {
	// Three digits; a bounded label set without strconv's allocation per call.
	if code < 100 || code > 999 {
		return "000"
	}
	return string([]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)})
}
