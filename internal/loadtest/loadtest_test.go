package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer stands for kakaoauth and its emulator on one listener: it mints codes, logs in,
// answers /auth/me and rotates refresh tokens, and fails every failEvery-th /auth/me.
type fakeServer struct {
	mu        sync.Mutex
	codes     map[string]int64
	refresh   map[string]bool
	n         atomic.Int64
	meCalls   atomic.Int64
	failEvery int64
	users     atomic.Int64
}

func newFake(t *testing.T, failEvery int64) (*fakeServer, *httptest.Server) {
	f := &fakeServer{codes: map[string]int64{}, refresh: map[string]bool{}, failEvery: failEvery}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_emulator/users", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%d}`, 1000+f.users.Add(1))
	})
	mux.HandleFunc("POST /_emulator/code", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			UserID      int64  `json:"user_id"`
			RedirectURI string `json:"redirect_uri"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || req.UserID == 0 || req.RedirectURI == "" {
			w.WriteHeader(400)
			return
		}
		code := fmt.Sprintf("code-%d", f.n.Add(1))
		f.mu.Lock()
		f.codes[code] = req.UserID
		f.mu.Unlock()
		fmt.Fprintf(w, `{"code":%q}`, code)
	})
	tokens := func(w http.ResponseWriter) {
		rt := fmt.Sprintf("rt-%d", f.n.Add(1))
		f.mu.Lock()
		f.refresh[rt] = true
		f.mu.Unlock()
		fmt.Fprintf(w, `{"token":{"access":"a.b.c","refresh":%q}}`, rt)
	}
	mux.HandleFunc("POST /auth/kakao/token", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Code string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		_, ok := f.codes[req.Code]
		delete(f.codes, req.Code)
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(400)
			return
		}
		tokens(w)
	})
	mux.HandleFunc("POST /auth/token/refresh", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Refresh string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		ok := f.refresh[req.Refresh]
		delete(f.refresh, req.Refresh)
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(400)
			return
		}
		tokens(w)
	})
	mux.HandleFunc("GET /auth/me", func(w http.ResponseWriter, r *http.Request) {
		if n := f.meCalls.Add(1); f.failEvery > 0 && n%f.failEvery == 0 {
			w.WriteHeader(503)
			return
		}
		if r.Header.Get("Authorization") != "Bearer a.b.c" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"user":{}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestRun_Workloads(t *testing.T) {
	for _, work := range []string{WorkLogin, WorkMe, WorkRefresh} {
		t.Run(work, func(t *testing.T) {
			f, srv := newFake(t, 0)
			var progress []Progress
			res, err := Run(context.Background(), Options{
				BaseURL: srv.URL, EmulatorURL: srv.URL, Workload: work, Concurrency: 3,
				Duration: 400 * time.Millisecond, Users: 5, ProgressEvery: 100 * time.Millisecond,
				Progress: func(p Progress) { progress = append(progress, p) }, PID: os.Getpid(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK == 0 || res.ErrorCount() != 0 || res.Rate <= 0 {
				t.Fatalf("ok %d errors %v rate %.0f, want successes and no errors", res.OK, res.Errors, res.Rate)
			}
			if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
				t.Errorf("percentiles out of order: %v %v %v %v", res.P50, res.P90, res.P99, res.Max)
			}
			if len(progress) == 0 || progress[len(progress)-1].OK == 0 || progress[len(progress)-1].Workload != work {
				t.Errorf("progress reports: %+v", progress)
			}
			if res.PeakRSS <= 0 || res.HWM <= 0 { // VmHWM is updated lazily: it may lag VmRSS a little
				t.Errorf("memory: peak RSS %d, HWM %d", res.PeakRSS, res.HWM)
			}
			wantUsers := int64(5)
			if work != WorkLogin {
				wantUsers = 3 // one per worker
			}
			if got := f.users.Load(); got != wantUsers {
				t.Errorf("created %d emulator users, want %d", got, wantUsers)
			}
		})
	}
}

func TestRun_CountsErrorsByStatus(t *testing.T) {
	_, srv := newFake(t, 4)
	res, err := Run(context.Background(), Options{
		BaseURL: srv.URL, EmulatorURL: srv.URL, Workload: WorkMe, Concurrency: 2, Duration: 200 * time.Millisecond,
		KakaoUsers: []int64{7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["503"] == 0 || len(res.Errors) != 1 || !strings.Contains(res.FirstError, "503") {
		t.Fatalf("errors %v (first %q), want only 503s", res.Errors, res.FirstError)
	}
	// Every fourth call failed: about a third as many failures as successes.
	if ratio := float64(res.Errors["503"]) / float64(res.OK); ratio < 0.25 || ratio > 0.42 {
		t.Errorf("failures/successes = %.2f, want about 1/3", ratio)
	}
}

func TestRun_MaxRequests(t *testing.T) {
	_, srv := newFake(t, 0)
	res, err := Run(context.Background(), Options{
		BaseURL: srv.URL, EmulatorURL: srv.URL, Workload: WorkMe, Concurrency: 4, Duration: 10 * time.Second,
		MaxRequests: 50, KakaoUsers: []int64{7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 50 || res.Elapsed > 5*time.Second {
		t.Fatalf("ok %d after %v, want exactly 50, early", res.OK, res.Elapsed)
	}
}

func TestRun_Cancelled(t *testing.T) {
	_, srv := newFake(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Options{BaseURL: srv.URL, EmulatorURL: srv.URL, Workload: WorkMe, Duration: time.Minute, KakaoUsers: []int64{7}})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled run: err %v after %v, want an error soon", err, time.Since(start))
	}
}

func TestRun_RefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"remote base", Options{BaseURL: "http://example.com", EmulatorURL: "http://127.0.0.1:1", Workload: WorkMe}, "not a loopback"},
		{"remote emulator", Options{BaseURL: "http://127.0.0.1:1", EmulatorURL: "http://10.0.0.1:9911", Workload: WorkMe}, "not a loopback"},
		{"no scheme", Options{BaseURL: "127.0.0.1:8080", EmulatorURL: "http://127.0.0.1:1", Workload: WorkMe}, "want http"},
		{"workload", Options{BaseURL: "http://127.0.0.1:1", EmulatorURL: "http://127.0.0.1:1", Workload: "delete"}, "unknown workload"},
		{"duration", Options{BaseURL: "http://127.0.0.1:1", EmulatorURL: "http://127.0.0.1:1", Workload: WorkMe, Duration: 2 * time.Hour}, "duration"},
		{"concurrency", Options{BaseURL: "http://127.0.0.1:1", EmulatorURL: "http://127.0.0.1:1", Workload: WorkMe, Concurrency: 5000}, "concurrency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	for _, host := range []string{"localhost", "127.0.0.1", "127.1.2.3", "[::1]"} {
		if _, err := NewDriver("http://"+host+":8080", "http://127.0.0.1:9911", "", nil, false); err != nil {
			t.Errorf("loopback %s refused: %v", host, err)
		}
	}
	if _, err := NewDriver("https://auth.example.com", "http://127.0.0.1:9911", "", nil, true); err != nil {
		t.Errorf("remote with allowRemote refused: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, ms(i))
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{0.5, ms(50)}, {0.9, ms(90)}, {0.99, ms(99)}, {1, ms(100)}, {0, ms(1)}}
	for _, tc := range tests {
		if got := Percentile(l, tc.p); got != tc.want {
			t.Errorf("Percentile(1..100ms, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}

func TestParseStatus(t *testing.T) {
	rss, hwm, err := parseStatus([]byte("Name:\tkakaoauth\nVmHWM:\t   52000 kB\nVmRSS:\t   40000 kB\nThreads: 9\n"))
	if err != nil || rss != 40000<<10 || hwm != 52000<<10 {
		t.Fatalf("parseStatus = %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Fatal("parseStatus without Vm lines: no error")
	}
}
