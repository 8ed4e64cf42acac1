package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outbox states and attempt outcomes: the fixed label sets of the outbox metrics.
var (
	outboxStates   = []string{"pending", "delivered", "failed"}
	outboxKinds    = []string{"event", "kakao_unlink", "kakao_webhook"}
	outboxOutcomes = []string{"delivered", "retry", "failed"}
)

// OutboxMetrics are the outbox's metrics (internal/events): kakaoauth_outbox_items{state}, read
// from the store at each scrape, and kakaoauth_outbox_attempts_total{kind,outcome}. Its methods
// are safe on nil.
type OutboxMetrics struct {
	attempts map[[2]string]prometheus.Counter
	other    prometheus.Counter
}

type outboxCollector struct {
	desc   *prometheus.Desc
	counts func(ctx context.Context) (map[string]int, error)
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range outboxStates {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}

// Outbox registers the outbox metrics; counts is the store's OutboxCounts. On a nil *Metrics it
// returns nil (whose methods do nothing).
func (m *Metrics) Outbox(counts func(ctx context.Context) (map[string]int, error)) *OutboxMetrics {
	if m == nil {
		return nil
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_outbox_attempts_total",
		Help: "Outbox delivery attempts by kind (event, kakao_unlink, kakao_webhook) and outcome (delivered, retry: failed and tried again later, failed: given up).",
	}, []string{"kind", "outcome"})
	m.reg.MustRegister(vec, &outboxCollector{
		desc: prometheus.NewDesc("kakaoauth_outbox_items",
			"Outbox items by state (pending, delivered, failed); delivered items are purged after a retention period.",
			[]string{"state"}, nil),
		counts: counts,
	})
	o := &OutboxMetrics{attempts: map[[2]string]prometheus.Counter{}, other: vec.WithLabelValues(other, other)}
	for _, k := range outboxKinds {
		for _, out := range outboxOutcomes {
			o.attempts[[2]string{k, out}] = vec.WithLabelValues(k, out)
		}
	}
	return o
}

// Attempt counts one attempt of an item of kind that ended with outcome.
func (o *OutboxMetrics) Attempt(kind, outcome string) {
	if o == nil {
		return
	}
	if c, ok := o.attempts[[2]string{kind, outcome}]; ok {
		c.Inc()
		return
	}
	o.other.Inc()
}
