// Package metrics is kakaoauth's Prometheus instrumentation: one registry per server (never the
// global default), counters for logins, new users, refreshes and rate-limit rejections, and
// latency histograms of HTTP requests (by route pattern), Kakao calls (an http.RoundTripper
// wrapper) and database calls (an auth.Store decorator).
//
// Every method is safe on a nil *Metrics and then does nothing, so the server can be built
// without metrics and call them unconditionally.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values that stand for anything outside a label's fixed set.
const (
	other     = "other"
	unmatched = "unmatched"
)

// maxDynamic caps the distinct values of labels that are not a fixed set (HTTP routes,
// rate-limited routes): past it, new values are counted as "other".
const maxDynamic = 128

// Login flows and results, refresh outcomes: the fixed label sets.
var (
	loginFlows      = []string{"browser", "spa", "sdk", "legacy"}
	refreshOutcomes = []string{"rotated", "grace_replay", "grace_exceeded", "reused", "expired", "revoked", "not_found", "malformed", "error"}
)

// Histogram buckets, in seconds.
var (
	httpBuckets  = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	dbBuckets    = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}
	kakaoBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
)

// Metrics holds one server's collectors and its registry.
type Metrics struct {
	reg *prometheus.Registry

	logins      *prometheus.CounterVec // flow, result
	newUsers    prometheus.Counter
	refreshes   map[string]prometheus.Counter // by outcome, pre-resolved
	refreshVec  *prometheus.CounterVec
	rateLimited *prometheus.CounterVec // route
	jwks        prometheus.Counter
	kakao       *prometheus.HistogramVec // endpoint, outcome
	kakaoObs    map[string]*[numOutcomes]lazyObserver
	db          *prometheus.HistogramVec // method, outcome
	httpDur     *prometheus.HistogramVec // route, status_class
	inFlight    prometheus.Gauge

	routes   sync.Map // route pattern -> *routeObservers
	nRoutes  atomic.Int32
	limited  sync.Map // route -> prometheus.Counter
	nLimited atomic.Int32
	loginMu  sync.Mutex
	loginObs map[[2]string]prometheus.Counter
	// loginResults is the fixed set of error codes of the logins counter.
	loginResults []string
	handler      http.Handler
	buildInfo    *prometheus.GaugeVec
	scale        scaleMetrics // scale.go
}

// New returns the metrics of one server, registered on a registry of their own together with
// the Go runtime and process collectors. version is reported in kakaoauth_build_info;
// loginResults are the error codes a login may end with (the server's error table), counted by
// name, anything else as "other".
func New(version string, loginResults []string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, loginResults: loginResults}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_logins_total",
		Help: "Logins by flow (browser, spa, sdk, legacy) and result (success or the error code).",
	}, []string{"flow", "result"})
	m.newUsers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kakaoauth_users_created_total",
		Help: "Users created by a first login.",
	})
	m.refreshVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_refreshes_total",
		Help: "Refresh-token exchanges by outcome (rotated, grace_replay, grace_exceeded, reused: family revoked, expired, revoked, not_found, malformed, error).",
	}, []string{"outcome"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kakaoauth_rate_limited_total",
		Help: "Requests refused by a rate limit (429), by route.",
	}, []string{"route"})
	m.jwks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kakaoauth_kakao_jwks_fetches_total",
		Help: "Fetches of Kakao's JWKS (key refreshes).",
	})
	m.kakao = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kakaoauth_kakao_request_duration_seconds",
		Help:    "Calls to Kakao by endpoint path and outcome (ok, http_4xx, http_5xx, error, timeout), until the body is read.",
		Buckets: kakaoBuckets,
	}, []string{"endpoint", "outcome"})
	m.db = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kakaoauth_db_duration_seconds",
		Help:    "Store calls by method and outcome (ok, not_found, error).",
		Buckets: dbBuckets,
	}, []string{"method", "outcome"})
	m.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kakaoauth_http_request_duration_seconds",
		Help:    "HTTP requests by route pattern and status class.",
		Buckets: httpBuckets,
	}, []string{"route", "status_class"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kakaoauth_http_requests_in_flight",
		Help: "HTTP requests being served.",
	})
	m.buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kakaoauth_build_info",
		Help: "Always 1; labels name the build.",
	}, []string{"version", "goversion"})
	if version == "" {
		version = "unknown"
	}
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	reg.MustRegister(m.logins, m.newUsers, m.refreshVec, m.rateLimited, m.jwks, m.kakao, m.db,
		m.httpDur, m.inFlight, m.buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.scale.register(reg)

	// Pre-resolve the fixed label sets: the hot path then only indexes a map or an array, and
	// dashboards see zeros instead of missing series.
	m.refreshes = make(map[string]prometheus.Counter, len(refreshOutcomes)+1)
	for _, o := range append(refreshOutcomes, other) {
		m.refreshes[o] = m.refreshVec.WithLabelValues(o)
	}
	m.loginObs = map[[2]string]prometheus.Counter{}
	for _, f := range loginFlows {
		m.loginCounter(f, "success")
	}
	m.kakaoObs = make(map[string]*[numOutcomes]lazyObserver, len(kakaoEndpoints)+1)
	for _, ep := range append(kakaoEndpoints[:len(kakaoEndpoints):len(kakaoEndpoints)], other) {
		var obs [numOutcomes]lazyObserver
		for i := range obs {
			obs[i] = lazyObserver{vec: m.kakao, a: ep, b: outcomeNames[i]}
		}
		m.kakaoObs[ep] = &obs
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	return m
}

// Registry is the registry of these metrics, for registering more collectors (for example
// collectors.NewDBStatsCollector of the database).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics when asked).
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Login counts a login attempt of flow ("browser", "spa", "sdk", "legacy") with result
// "success" or the error code it ended with. Other values are counted as "other".
func (m *Metrics) Login(flow, result string) {
	if m == nil {
		return
	}
	if !contains(loginFlows, flow) {
		flow = other
	}
	if result != "success" && !contains(m.loginResults, result) {
		result = other
	}
	m.loginCounter(flow, result).Inc()
}

func (m *Metrics) loginCounter(flow, result string) prometheus.Counter {
	k := [2]string{flow, result}
	m.loginMu.Lock()
	c, ok := m.loginObs[k]
	if !ok {
		c = m.logins.WithLabelValues(flow, result)
		m.loginObs[k] = c
	}
	m.loginMu.Unlock()
	return c
}

// NewUser counts a user created by a first login. The Store decorator calls it; a server that
// wraps its store with Store must not call it again.
func (m *Metrics) NewUser() {
	if m == nil {
		return
	}
	m.newUsers.Inc()
}

// Refresh counts a refresh-token exchange by outcome: the auth.RotateOutcome names ("rotated",
// "grace_replay", "reused", "expired", "revoked", "not_found"), "malformed" or "error". The
// Store decorator counts every Rotate; a server that wraps its store with Store calls Refresh
// itself only for exchanges that never reach the store ("malformed").
func (m *Metrics) Refresh(outcome string) {
	if m == nil {
		return
	}
	c, ok := m.refreshes[outcome]
	if !ok {
		c = m.refreshes[other]
	}
	c.Inc()
}

// RateLimited counts a request refused by a rate limit; route names the limited route (use
// the route pattern or a fixed name: at most 128 distinct values are kept, the rest count as
// "other").
func (m *Metrics) RateLimited(route string) {
	if m == nil {
		return
	}
	if c, ok := m.limited.Load(route); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	key := route
	if !admit(&m.nLimited) {
		key = other
	}
	c, _ := m.limited.LoadOrStore(key, m.rateLimited.WithLabelValues(key))
	c.(prometheus.Counter).Inc()
}

// admit reserves one of maxDynamic places for a new label value; false when they are taken.
func admit(n *atomic.Int32) bool {
	for {
		v := n.Load()
		if v >= maxDynamic {
			return false
		}
		if n.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// lazyObserver is a histogram child with two label values, resolved on first use so that label
// combinations never seen export no series, and never looked up again after that.
type lazyObserver struct {
	vec  *prometheus.HistogramVec
	a, b string
	p    atomic.Pointer[prometheus.Observer]
}

func (l *lazyObserver) Observe(v float64) {
	p := l.p.Load()
	if p == nil {
		o := l.vec.WithLabelValues(l.a, l.b)
		p = &o
		l.p.Store(p)
	}
	(*p).Observe(v)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
