package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/loyalpass/loyalpass/internal/metrics"
)

func TestOutboxGauges(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		stats metrics.OutboxStats
		want  string
	}{
		{"waiting rows", func(context.Context) (int, time.Time, error) { return 3, now.Add(-90 * time.Second), nil }, `
loyalpass_outbox_depth 3
loyalpass_outbox_oldest_age_seconds 90
loyalpass_outbox_stats_up 1
`},
		{"empty", func(context.Context) (int, time.Time, error) { return 0, time.Time{}, nil }, `
loyalpass_outbox_depth 0
loyalpass_outbox_oldest_age_seconds 0
loyalpass_outbox_stats_up 1
`},
		{"query fails", func(context.Context) (int, time.Time, error) { return 0, time.Time{}, errors.New("database is locked") }, `
loyalpass_outbox_stats_up 0
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New(metrics.Options{Outbox: tt.stats, Now: func() time.Time { return now }})
			var want strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(tt.want), "\n") {
				name := strings.Fields(line)[0]
				want.WriteString("# HELP " + name + " " + help[name] + "\n# TYPE " + name + " gauge\n" + line + "\n")
			}
			err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want.String()),
				"loyalpass_outbox_depth", "loyalpass_outbox_oldest_age_seconds", "loyalpass_outbox_stats_up")
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

var help = map[string]string{
	"loyalpass_outbox_depth":              "Outbox rows neither done nor dead.",
	"loyalpass_outbox_oldest_age_seconds": "Age of the oldest outbox row neither done nor dead; 0 when none wait.",
	"loyalpass_outbox_stats_up":           "Whether the outbox query of this scrape succeeded.",
}

func TestCounters(t *testing.T) {
	m := metrics.New(metrics.Options{Runtime: true})
	m.Push("apple", "delivered")
	m.Push("apple", "delivered")
	m.Push("apple", "gone")
	m.SMS("twilio", "sent")
	m.Request("/api/v1/cards/:serial", "GET", 404, time.Millisecond)
	m.Transaction("earn")
	m.PassRendered(20 * time.Millisecond)
	err := testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP loyalpass_pushes_total Device pushes by channel and outcome.
# TYPE loyalpass_pushes_total counter
loyalpass_pushes_total{channel="apple",outcome="delivered"} 2
loyalpass_pushes_total{channel="apple",outcome="gone"} 1
# HELP loyalpass_sms_total Campaign texts by provider and status.
# TYPE loyalpass_sms_total counter
loyalpass_sms_total{provider="twilio",status="sent"} 1
# HELP loyalpass_http_requests_total HTTP requests by route, method and status.
# TYPE loyalpass_http_requests_total counter
loyalpass_http_requests_total{method="GET",route="/api/v1/cards/:serial",status="404"} 1
# HELP loyalpass_ledger_transactions_total Ledger transactions posted, by kind (replays not counted).
# TYPE loyalpass_ledger_transactions_total counter
loyalpass_ledger_transactions_total{kind="earn"} 1
# HELP loyalpass_passes_rendered_total Apple Wallet packages rendered and signed.
# TYPE loyalpass_passes_rendered_total counter
loyalpass_passes_rendered_total 1
`), "loyalpass_pushes_total", "loyalpass_sms_total", "loyalpass_http_requests_total",
		"loyalpass_ledger_transactions_total", "loyalpass_passes_rendered_total")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(m.Registry, "go_goroutines"); err != nil || n != 1 {
		t.Fatalf("runtime collectors: %d, %v", n, err)
	}
}
