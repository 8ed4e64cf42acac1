package metrics

import "github.com/prometheus/client_golang/prometheus"

// prunedTables are the label values of kakaoauth_pruned_rows_total.
var prunedTables = []string{"refresh_tokens", "sessions", "consumed_keys", "audit_events"}

// scaleMetrics are the metrics of running many replicas: the shared rate limits and pruning.
type scaleMetrics struct {
	limitFallback prometheus.Counter
	redisUp       prometheus.Gauge
	pruned        *prometheus.CounterVec
	prunedBy      map[string]prometheus.Counter
}

func (s *scaleMetrics) register(reg *prometheus.Registry) {
	s.limitFallback = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kakaoauth_rate_limit_fallback_total",
		Help: "Rate-limit budgets taken in the process because Redis (KAKAOAUTH_REDIS_URL) failed or was recently unreachable.",
	})
	s.redisUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kakaoauth_rate_limit_redis_up",
		Help: "1 while the rate limits are kept in Redis and it answers, 0 while they fall back to the process (or no Redis is configured).",
	})
	s.pruned = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_pruned_rows_total",
		Help: "Rows deleted by the background pruning, by table (expired refresh tokens and sessions, used single-use keys, audit events past retention).",
	}, []string{"table"})
	s.prunedBy = map[string]prometheus.Counter{}
	for _, t := range append(prunedTables, other) {
		s.prunedBy[t] = s.pruned.WithLabelValues(t)
	}
	reg.MustRegister(s.limitFallback, s.redisUp, s.pruned)
}

// RateLimitFallback counts one budget taken in the process because Redis failed.
func (m *Metrics) RateLimitFallback() {
	if m == nil {
		return
	}
	m.scale.limitFallback.Inc()
}

// RedisUp says whether the rate limits' Redis answers.
func (m *Metrics) RedisUp(up bool) {
	if m == nil {
		return
	}
	if up {
		m.scale.redisUp.Set(1)
	} else {
		m.scale.redisUp.Set(0)
	}
}

// Pruned counts n rows of table deleted by pruning.
func (m *Metrics) Pruned(table string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	c, ok := m.scale.prunedBy[table]
	if !ok {
		c = m.scale.prunedBy[other]
	}
	c.Add(float64(n))
}
