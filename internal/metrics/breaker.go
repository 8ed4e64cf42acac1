package metrics

import "github.com/prometheus/client_golang/prometheus"

// KakaoBreaker exposes the Kakao circuit breaker's state as kakaoauth_kakao_breaker_state
// (0 closed, 1 half-open, 2 open), read from state at every scrape, and returns a function to
// call on every change of state, which counts kakaoauth_kakao_breaker_transitions_total{to}.
func (m *Metrics) KakaoBreaker(state func() float64) func(from, to string) {
	if m == nil {
		return func(string, string) {}
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kakaoauth_kakao_breaker_state",
		Help: "The Kakao circuit breaker: 0 closed, 1 half-open (one trial call), 2 open (logins answer 503 at once).",
	}, state))
	transitions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_kakao_breaker_transitions_total",
		Help: "Changes of the Kakao circuit breaker's state, by the state entered.",
	}, []string{"to"})
	m.reg.MustRegister(transitions)
	for _, s := range []string{"closed", "half-open", "open"} {
		transitions.WithLabelValues(s)
	}
	return func(_, to string) {
		switch to {
		case "closed", "half-open", "open":
			transitions.WithLabelValues(to).Inc()
		}
	}
}
