package main

import (
	"crypto/x509"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/store"
)

// newMetrics returns the server's collectors, with the outbox gauges read
// from st on each scrape.
func newMetrics(st *store.Store) *metrics.Metrics {
	return metrics.New(metrics.Options{Outbox: st.Queue().OutboxStats, Runtime: true})
}

// readiness is what /readyz checks: the database st itself (pinged and
// its schema compared with the migrations) and the signing certificate of m.
func readiness(st *store.Store, m *certs.Material) api.Readiness {
	return api.Readiness{Store: st, Certificate: func() *x509.Certificate { return m.Leaf }}
}
