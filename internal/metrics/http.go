package metrics

import (
	"net/http"
	"time"
)

// RequestStarted counts a request in flight; RequestFinished ends it.
func (m *Metrics) RequestStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// RequestFinished times a request into kakaoauth_http_request_duration_seconds by its route
// pattern ("" for a request no route matched: counted as "unmatched") and status class. The
// server calls it where it writes the request's log line.
func (m *Metrics) RequestFinished(pattern string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	m.observeHTTP(pattern, status, d)
}

// observeHTTP records one request; status 0 means nothing was written (200).
func (m *Metrics) observeHTTP(pattern string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	m.routeObservers(pattern)[class].Observe(d.Seconds())
}

// routeObservers are the HTTP histogram children of one route by status class (index 0 for
// anything outside 1xx–5xx).
type routeObservers [6]lazyObserver

var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// routeObservers returns the pre-resolved histogram children of a route, creating them the first
// time (at most maxDynamic routes; the rest share "other").
func (m *Metrics) routeObservers(pattern string) *routeObservers {
	if pattern == "" {
		pattern = unmatched
	}
	if v, ok := m.routes.Load(pattern); ok {
		return v.(*routeObservers)
	}
	key := pattern
	if !admit(&m.nRoutes) {
		key = other
		if v, ok := m.routes.Load(key); ok {
			return v.(*routeObservers)
		}
	}
	ro := new(routeObservers)
	for i, c := range statusClasses {
		ro[i] = lazyObserver{vec: m.httpDur, a: key, b: c}
	}
	v, _ := m.routes.LoadOrStore(key, ro)
	return v.(*routeObservers)
}
