package metrics

import (
	"net/http"
	"time"
)

// PatternSetter is a ResponseWriter wrapper that wants to know the route pattern the mux
// matched. RouteHook tells every PatternSetter it finds on the writer chain (through Unwrap).
type PatternSetter interface {
	SetPattern(pattern string)
}

// RouteHook wraps the ServeMux (the innermost handler): after the mux has served a request, it
// passes the matched pattern (r.Pattern, which the mux sets on the request it receives and which
// middleware outside it never sees) to every PatternSetter on the ResponseWriter chain, among
// them the writer of Middleware. Wrappers between Middleware and the mux must implement
// Unwrap() http.ResponseWriter (as http.ResponseController expects) for the pattern to reach
// Middleware. RouteHook allocates nothing.
func RouteHook(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if r.Pattern == "" {
			return
		}
		for w != nil {
			if ps, ok := w.(PatternSetter); ok {
				ps.SetPattern(r.Pattern)
			}
			u, ok := w.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				return
			}
			w = u.Unwrap()
		}
	})
}

// recorder is Middleware's ResponseWriter: it keeps the status and the pattern.
type recorder struct {
	http.ResponseWriter
	status  int
	pattern string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, deadlines).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetPattern implements PatternSetter.
func (w *recorder) SetPattern(p string) { w.pattern = p }

// Middleware times every request into kakaoauth_http_request_duration_seconds by route pattern
// and status class, and counts requests in flight. Put it outermost, and RouteHook around the
// mux: requests refused before the mux (413, CORS preflights) then count as route "unmatched".
// Placed directly around the mux instead, it reads r.Pattern itself and needs no RouteHook.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			// Also on a panic that the server lets through (http.ErrAbortHandler).
			m.inFlight.Dec()
			pattern := rec.pattern
			if pattern == "" {
				pattern = r.Pattern
			}
			m.observeHTTP(pattern, rec.status, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
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
