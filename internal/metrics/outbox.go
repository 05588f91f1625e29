package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	outboxDepthDesc = prometheus.NewDesc("loyalpass_outbox_depth",
		"Outbox rows neither done nor dead.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("loyalpass_outbox_oldest_age_seconds",
		"Age of the oldest outbox row neither done nor dead; 0 when none wait.", nil, nil)
	outboxUpDesc = prometheus.NewDesc("loyalpass_outbox_stats_up",
		"Whether the outbox query of this scrape succeeded.", nil, nil)
)

// scrapeTimeout bounds the outbox query so a locked database cannot hang a
// scrape.
const scrapeTimeout = 5 * time.Second

// outboxCollector queries the outbox on each scrape: the gauges are always
// as fresh as the scrape and cost nothing between scrapes.
type outboxCollector struct {
	stats OutboxStats
	now   func() time.Time
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- outboxAgeDesc
	ch <- outboxUpDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	depth, oldest, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}
