package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// sample finds the series of name whose labels include want and returns its value: the count
// of a histogram, the value of a counter or gauge; ok is false when there is no such series.
func sample(t *testing.T, m *Metrics, name string, want map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				return float64(s.GetHistogram().GetSampleCount()), true
			case dto.MetricType_COUNTER:
				return s.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return s.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func mustSample(t *testing.T, m *Metrics, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := sample(t, m, name, labels)
	if !ok {
		t.Errorf("%s%v: no series", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// TestRequestFinished: requests are timed by route pattern and status class; a request no route
// matched (the mux's 404, a 413 before the mux) counts as "unmatched"; raw paths never become
// labels; unused classes export nothing; in-flight returns to zero.
func TestRequestFinished(t *testing.T) {
	m := New("v1.2.3", testCodes)
	for _, tc := range []struct {
		pattern string
		status  int
	}{
		{"GET /auth/me", 401}, {"GET /auth/me", 401}, {"POST /auth/token/refresh", 200},
		{"GET /users/{id}", 0}, {"GET /users/{id}", 200}, {"", 404}, {"", 413},
	} {
		m.RequestStarted()
		m.RequestFinished(tc.pattern, tc.status, time.Millisecond)
	}
	const name = "kakaoauth_http_request_duration_seconds"
	mustSample(t, m, name, map[string]string{"route": "GET /auth/me", "status_class": "4xx"}, 2)
	mustSample(t, m, name, map[string]string{"route": "POST /auth/token/refresh", "status_class": "2xx"}, 1)
	mustSample(t, m, name, map[string]string{"route": "GET /users/{id}", "status_class": "2xx"}, 2)
	mustSample(t, m, name, map[string]string{"route": "unmatched", "status_class": "4xx"}, 2)
	if _, ok := sample(t, m, name, map[string]string{"route": "/users/123"}); ok {
		t.Errorf("a raw path became a route label")
	}
	if _, ok := sample(t, m, name, map[string]string{"route": "GET /auth/me", "status_class": "2xx"}); ok {
		t.Errorf("an unused status class exports a series")
	}
	mustSample(t, m, "kakaoauth_http_requests_in_flight", nil, 0)
	m.RequestStarted()
	mustSample(t, m, "kakaoauth_http_requests_in_flight", nil, 1)
}

func TestRequestFinished_RouteCardinalityCapped(t *testing.T) {
	m := New("dev", testCodes)
	for i := 0; i < maxDynamic+20; i++ {
		m.RequestFinished("GET /r"+strings.Repeat("x", i), 200, time.Millisecond)
	}
	mustSample(t, m, "kakaoauth_http_request_duration_seconds", map[string]string{"route": "other"}, 20)
}

// testCodes stand for the server's error table.
var testCodes = []string{auth.ECodeAccessDenied, auth.ECodeKakaoTimeout, auth.ECodeInternal}

func TestCounters_LabelsBounded(t *testing.T) {
	m := New("dev", testCodes)
	m.Login("spa", "success")
	m.Login("spa", "success")
	m.Login("browser", auth.ECodeAccessDenied)
	m.Login("<script>", "whatever")
	m.Login("sdk", "success")
	m.Login("sdk", auth.ECodeKakaoTimeout)
	m.Login("sdk", auth.ECodeInternal)
	m.Login("sdk", "not-a-code")
	m.Refresh("rotated")
	m.Refresh("nonsense")
	m.NewUser()
	m.RateLimited("POST /auth/kakao/token")
	for i := 0; i < maxDynamic+5; i++ {
		m.RateLimited("route-" + strings.Repeat("y", i))
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kakaoauth_logins_total", map[string]string{"flow": "spa", "result": "success"}, 2},
		{"kakaoauth_logins_total", map[string]string{"flow": "sdk", "result": "success"}, 1},
		{"kakaoauth_logins_total", map[string]string{"flow": "sdk", "result": "kakao_timeout"}, 1},
		{"kakaoauth_logins_total", map[string]string{"flow": "sdk", "result": "internal_error"}, 1},
		{"kakaoauth_logins_total", map[string]string{"flow": "sdk", "result": "other"}, 1},
		{"kakaoauth_logins_total", map[string]string{"flow": "legacy", "result": "success"}, 0},
		{"kakaoauth_logins_total", map[string]string{"flow": "browser", "result": "access_denied"}, 1},
		{"kakaoauth_logins_total", map[string]string{"flow": "other", "result": "other"}, 1},
		{"kakaoauth_refreshes_total", map[string]string{"outcome": "rotated"}, 1},
		{"kakaoauth_refreshes_total", map[string]string{"outcome": "reused"}, 0},
		{"kakaoauth_refreshes_total", map[string]string{"outcome": "other"}, 1},
		{"kakaoauth_users_created_total", nil, 1},
		{"kakaoauth_rate_limited_total", map[string]string{"route": "POST /auth/kakao/token"}, 1},
		{"kakaoauth_rate_limited_total", map[string]string{"route": "other"}, 6},
		{"kakaoauth_build_info", map[string]string{"version": "dev"}, 1},
	}
	for _, tc := range tests {
		mustSample(t, m, tc.name, tc.labels, tc.want)
	}
}

func TestNilMetrics_NoOps(t *testing.T) {
	var m *Metrics
	m.Login("spa", "success")
	m.NewUser()
	m.Refresh("rotated")
	m.RateLimited("x")
	m.RequestStarted()
	m.RequestFinished("GET /", 200, time.Millisecond)
	var s auth.Store = &fakeStore{}
	if Store(s, nil) != s {
		t.Errorf("nil Store wrapped the store")
	}
	if m.KakaoTransport(nil) == nil {
		t.Errorf("nil KakaoTransport(nil) returned no transport")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil Handler answered %d, want 404", rec.Code)
	}
}

func TestHandler_Exposition(t *testing.T) {
	m := New("v9", testCodes)
	m.Login("spa", "success")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`kakaoauth_build_info{goversion="go`, `version="v9"} 1`,
		`kakaoauth_logins_total{flow="spa",result="success"} 1`,
		`kakaoauth_refreshes_total{outcome="grace_replay"} 0`,
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	// Two servers in one process do not share series.
	if v, _ := sample(t, New("v9", testCodes), "kakaoauth_logins_total", map[string]string{"flow": "spa", "result": "success"}); v != 0 {
		t.Errorf("a second Metrics sees the first one's logins: %v", v)
	}
}

func TestKakaoTransport(t *testing.T) {
	kakao := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/token":
			_, _ = io.WriteString(w, `{"access_token":"x"}`)
		case "/v2/user/me":
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"code":-401}`)
		case "/.well-known/jwks.json":
			_, _ = io.WriteString(w, `{"keys":[]}`)
		case "/v1/user/unlink":
			time.Sleep(200 * time.Millisecond)
		default:
			w.WriteHeader(503)
		}
	}))
	defer kakao.Close()
	m := New("dev", testCodes)
	c := &http.Client{Transport: m.KakaoTransport(nil)}
	call := func(path string, timeout time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", kakao.URL+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	call("/oauth/token", time.Second)
	call("/v2/user/me", time.Second)
	call("/.well-known/jwks.json", time.Second)
	call("/.well-known/jwks.json", time.Second)
	call("/v1/user/unlink", 20*time.Millisecond)
	call("/secret/path/of/1234", time.Second)

	// A transport error (nothing listens).
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	req, _ := http.NewRequest("GET", deadURL+"/oauth/token", nil)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("call to a closed server succeeded")
	}

	const name = "kakaoauth_kakao_request_duration_seconds"
	for _, tc := range []struct {
		endpoint, outcome string
		want              float64
	}{
		{"/oauth/token", "ok", 1},
		{"/oauth/token", "error", 1},
		{"/v2/user/me", "http_4xx", 1},
		{"/.well-known/jwks.json", "ok", 2},
		{"/v1/user/unlink", "timeout", 1},
		{"other", "http_5xx", 1},
	} {
		mustSample(t, m, name, map[string]string{"endpoint": tc.endpoint, "outcome": tc.outcome}, tc.want)
	}
	if _, ok := sample(t, m, name, map[string]string{"endpoint": "/secret/path/of/1234"}); ok {
		t.Errorf("an unlisted path became a label")
	}
	mustSample(t, m, "kakaoauth_kakao_jwks_fetches_total", nil, 2)
}

func TestKakaoTransport_TimesTheBody(t *testing.T) {
	kakao := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "{")
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		_, _ = io.WriteString(w, "}")
	}))
	defer kakao.Close()
	m := New("dev", testCodes)
	c := &http.Client{Transport: m.KakaoTransport(http.DefaultTransport)}
	resp, err := c.Get(kakao.URL + "/v2/user/me")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fams, _ := m.Registry().Gather()
	for _, f := range fams {
		if f.GetName() == "kakaoauth_kakao_request_duration_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 1 || h.GetSampleSum() < 0.14 {
				t.Fatalf("count %d sum %.3fs, want 1 call of at least 150ms (the body)", h.GetSampleCount(), h.GetSampleSum())
			}
			return
		}
	}
	t.Fatal("no Kakao histogram")
}

// fakeStore answers every method with zero values; Rotate and LoginUser as configured.
type fakeStore struct {
	rotate  auth.RotateOutcome
	created bool
	err     error
}

func (f *fakeStore) LoginUser(context.Context, auth.Profile, auth.Session, auth.RefreshToken, time.Time) (auth.User, bool, error) {
	return auth.User{}, f.created, f.err
}
func (f *fakeStore) User(context.Context, string) (auth.User, error) { return auth.User{}, f.err }
func (f *fakeStore) UserBySession(context.Context, string, string, time.Time) (auth.User, error) {
	return auth.User{}, f.err
}
func (f *fakeStore) Rotate(context.Context, auth.RotateRequest) (auth.RotateResult, error) {
	return auth.RotateResult{Outcome: f.rotate}, f.err
}
func (f *fakeStore) SessionByRefresh(context.Context, []byte) (auth.Session, error) {
	return auth.Session{}, f.err
}
func (f *fakeStore) Sessions(context.Context, string, time.Time) ([]auth.Session, error) {
	return nil, f.err
}
func (f *fakeStore) RevokeSession(context.Context, string, string, time.Time) error { return f.err }
func (f *fakeStore) RevokeUserSessions(context.Context, string, time.Time) (int, error) {
	return 0, f.err
}
func (f *fakeStore) ConsumeOnce(context.Context, []byte, time.Time, time.Time) (bool, error) {
	return true, f.err
}
func (f *fakeStore) SigningKeys(context.Context) ([]auth.SigningKey, error) { return nil, f.err }
func (f *fakeStore) AddSigningKey(context.Context, auth.SigningKey) error   { return f.err }
func (f *fakeStore) RetireSigningKey(context.Context, string, time.Time) error {
	return f.err
}
func (f *fakeStore) DeleteSigningKey(context.Context, string) error { return f.err }
func (f *fakeStore) Audit(context.Context, auth.AuditEvent) error   { return f.err }
func (f *fakeStore) DeleteUser(context.Context, string) error       { return f.err }
func (f *fakeStore) DeleteUserByIdentity(context.Context, string, string) (string, error) {
	return "", f.err
}
func (f *fakeStore) ListUsers(context.Context, auth.UserFilter, time.Time) ([]auth.UserRecord, error) {
	return nil, f.err
}
func (f *fakeStore) UserRecord(context.Context, string, time.Time) (auth.UserRecord, error) {
	return auth.UserRecord{}, f.err
}
func (f *fakeStore) SetUserDisabled(context.Context, string, time.Time) error { return f.err }
func (f *fakeStore) Ping(context.Context) error                               { return f.err }
func (f *fakeStore) Close() error                                             { return f.err }

// callAll calls every method of auth.Store on s with zero arguments (a background context).
func callAll(t *testing.T, s auth.Store) []string {
	t.Helper()
	it := reflect.TypeFor[auth.Store]()
	v := reflect.ValueOf(s)
	var names []string
	for i := 0; i < it.NumMethod(); i++ {
		meth := it.Method(i)
		fn := v.MethodByName(meth.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			in := fn.Type().In(j)
			if in == reflect.TypeFor[context.Context]() {
				args[j] = reflect.ValueOf(context.Background())
			} else {
				args[j] = reflect.Zero(in)
			}
		}
		fn.Call(args)
		names = append(names, meth.Name)
	}
	return names
}

func TestStore_TimesEveryMethod(t *testing.T) {
	m := New("dev", testCodes)
	s := Store(&fakeStore{rotate: auth.Reused, created: true}, m)
	names := callAll(t, s)
	if len(names) != numOps {
		t.Errorf("auth.Store has %d methods, the decorator knows %d: update store.go", len(names), numOps)
	}
	for _, n := range names {
		mustSample(t, m, "kakaoauth_db_duration_seconds", map[string]string{"method": n, "outcome": "ok"}, 1)
	}
	mustSample(t, m, "kakaoauth_users_created_total", nil, 1)
	mustSample(t, m, "kakaoauth_refreshes_total", map[string]string{"outcome": "reused"}, 1)
}

func TestStore_Outcomes(t *testing.T) {
	m := New("dev", testCodes)
	Store(&fakeStore{err: auth.ErrNotFound}, m).User(context.Background(), "u")
	Store(&fakeStore{err: errors.New("disk on fire")}, m).Rotate(context.Background(), auth.RotateRequest{})
	Store(&fakeStore{err: errors.New("disk on fire")}, m).LoginUser(context.Background(), auth.Profile{}, auth.Session{}, auth.RefreshToken{}, time.Time{})
	Store(&fakeStore{rotate: auth.GraceReplay}, m).Rotate(context.Background(), auth.RotateRequest{})
	mustSample(t, m, "kakaoauth_db_duration_seconds", map[string]string{"method": "User", "outcome": "not_found"}, 1)
	mustSample(t, m, "kakaoauth_db_duration_seconds", map[string]string{"method": "Rotate", "outcome": "error"}, 1)
	mustSample(t, m, "kakaoauth_db_duration_seconds", map[string]string{"method": "Rotate", "outcome": "ok"}, 1)
	mustSample(t, m, "kakaoauth_refreshes_total", map[string]string{"outcome": "error"}, 1)
	mustSample(t, m, "kakaoauth_refreshes_total", map[string]string{"outcome": "grace_replay"}, 1)
	mustSample(t, m, "kakaoauth_users_created_total", nil, 0)
}

func BenchmarkRequestFinished(b *testing.B) {
	m := New("dev", testCodes)
	b.ReportAllocs()
	for b.Loop() {
		m.RequestStarted()
		m.RequestFinished("GET /auth/me", 200, time.Millisecond)
	}
}

func BenchmarkStoreDecorator(b *testing.B) {
	m := New("dev", testCodes)
	s := Store(&fakeStore{}, m)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.UserBySession(ctx, "u", "s", time.Time{})
	}
}

func BenchmarkCounters(b *testing.B) {
	m := New("dev", testCodes)
	b.ReportAllocs()
	for b.Loop() {
		m.Login("spa", "success")
		m.Refresh("rotated")
		m.RateLimited("POST /auth/kakao/token")
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
