package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/metrics"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// bareServer is a Server without a domain service: enough for the routes that need none.
func bareServer(t *testing.T) (*Server, *metrics.Metrics, *bytes.Buffer) {
	t.Helper()
	pages, err := web.New(web.Options{Service: "kakaoauth"})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New("test", ErrorCodes())
	var logs bytes.Buffer
	u, _ := url.Parse("http://127.0.0.1:8080")
	s := New(Config{
		PublicURL: u, Pages: pages, Metrics: m, JWKS: func() []byte { return []byte(`{"keys":[]}`) },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), MaxBodyBytes: 16,
	})
	return s, m, &logs
}

// TestRoutes_PatternInLogAndMetrics: the request log line and the HTTP metric name the route
// pattern the mux matched; a request no route matched, or refused before the mux (413), is
// "unmatched" in the metrics and has no route in the log.
func TestRoutes_PatternInLogAndMetrics(t *testing.T) {
	s, m, logs := bareServer(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
		route              string
	}{
		{"GET", "/healthz", "", 200, "GET /healthz"},
		{"GET", "/.well-known/jwks.json", "", 200, "GET /.well-known/jwks.json"},
		{"PUT", "/healthz", "", 405, "/healthz"},
		{"GET", "/nowhere", "", 404, "/"},
		{"POST", "/auth/token/refresh", strings.Repeat("x", 64), 413, ""},
	} {
		logs.Reset()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		s.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.status)
		}
		var line struct {
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("%s %s: log line %q: %v", tc.method, tc.path, logs.String(), err)
		}
		if line.Route != tc.route || line.Status != tc.status {
			t.Errorf("%s %s: logged route %q status %d, want %q %d", tc.method, tc.path, line.Route, line.Status, tc.route, tc.status)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`kakaoauth_http_request_duration_seconds_count{route="GET /healthz",status_class="2xx"} 1`,
		`kakaoauth_http_request_duration_seconds_count{route="/healthz",status_class="4xx"} 1`,
		`kakaoauth_http_request_duration_seconds_count{route="unmatched",status_class="4xx"} 1`,
		`kakaoauth_http_request_duration_seconds_count{route="/",status_class="4xx"} 1`,
		`kakaoauth_http_requests_in_flight 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestRoutes_PanicIsLogged500: a handler's panic answers a JSON 500 that is logged and counted.
func TestRoutes_PanicIsLogged500(t *testing.T) {
	s, m, logs := bareServer(t)
	h := s.logRequests(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"internal_error"`) {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), `"status":500`) || !strings.Contains(logs.String(), `"msg":"panic"`) {
		t.Errorf("log lacks the panic and its 500 line: %s", logs.String())
	}
	mrec := httptest.NewRecorder()
	m.Handler().ServeHTTP(mrec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(mrec.Body.String(), `kakaoauth_http_request_duration_seconds_count{route="unmatched",status_class="5xx"} 1`) {
		t.Errorf("the 500 was not counted")
	}
}

// TestPublicDocuments_057: the public documents answer any origin with "*" and never together
// with Access-Control-Allow-Credentials, also for an origin the API allows with credentials.
func TestPublicDocuments_057(t *testing.T) {
	s, _, _ := bareServer(t)
	s = New(Config{PublicURL: s.cfg.PublicURL, Pages: s.cfg.Pages, JWKS: s.cfg.JWKS, AllowedOrigins: []string{"http://localhost:3000"}})
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/openapi.json"} {
		for _, origin := range []string{"", "http://localhost:3000", "https://evil.example"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			s.ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code != 200 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("GET %s from %q: %d, Allow-Origin %q, Allow-Credentials %q; want 200, *, none", path, origin,
					rec.Code, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
			}
		}
	}
	// The API itself still answers an allowed origin with credentials.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	s.ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("API answer to an allowed origin: %v", rec.Header())
	}
}
