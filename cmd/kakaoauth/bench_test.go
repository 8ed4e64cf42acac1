package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/loadtest"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestBench_Workloads runs each workload for about a second against `kakaoauth dev`.
func TestBench_Workloads(t *testing.T) {
	if testing.Short() {
		t.Skip("load run")
	}
	d := startDev(t, noRateLimits)
	for _, work := range []string{loadtest.WorkLogin, loadtest.WorkMe, loadtest.WorkRefresh} {
		t.Run(work, func(t *testing.T) {
			res, err := loadtest.Run(context.Background(), loadtest.Options{
				BaseURL: d.BaseURL, EmulatorURL: d.EmulatorURL, Workload: work, Concurrency: 4,
				Duration: time.Second, RedirectURI: servertest.SPARedirect, Users: 50, PID: os.Getpid(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d ok, %.0f/s, p50 %v, p99 %v", work, res.OK, res.Rate, res.P50, res.P99)
			if res.OK == 0 || res.ErrorCount() != 0 {
				t.Fatalf("%s: ok %d, errors %v (first %q); want successes and no errors", work, res.OK, res.Errors, res.FirstError)
			}
		})
	}
}

func TestBench_Command(t *testing.T) {
	d := startDev(t, noRateLimits)
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"KAKAOAUTH_PUBLIC_URL": d.BaseURL, "KAKAOAUTH_KAKAO_AUTH_URL": d.EmulatorURL}[k]
	}
	err := runBench(context.Background(), []string{"-work", "all", "-c", "2", "-d", "1200ms", "-users", "10"}, getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\nstderr: %s", err, stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"login", "me", "refresh"} {
		re := regexp.MustCompile(`work=` + w + ` c=2 d=1.2s ok=[1-9][0-9]* errors=0 rate=[0-9]+/s p50=\S+ p90=\S+ p99=\S+ max=\S+`)
		if !re.MatchString(out) {
			t.Errorf("no result line for %s in:\n%s", w, out)
		}
	}
	if !strings.Contains(stderr.String(), "bench login") {
		t.Errorf("no progress line on stderr: %q", stderr.String())
	}
}

func TestBench_RefusesRemoteAndBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-base", "https://auth.example.com", "-work", "me"}, "not a loopback"},
		{[]string{"-work", "everything"}, "-work"},
		{[]string{"-c"}, "flag needs an argument"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		err := runBench(context.Background(), tc.args, func(string) string { return "" }, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: err %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// benchDriver starts `kakaoauth dev` in this process and returns a driver for it; allocations
// reported by the benchmarks below are the whole process's: client, server and emulator.
func benchDriver(b *testing.B) (*devServer, *loadtest.Driver) {
	b.Helper()
	d := startDev(b, noRateLimits)
	drv, err := loadtest.NewDriver(d.BaseURL, d.EmulatorURL, servertest.SPARedirect, loadtest.NewClient(4), false)
	if err != nil {
		b.Fatal(err)
	}
	return d, drv
}

// seededUsers are the emulator's built-in users (kakaotest.DefaultUsers).
var seededUsers = []int64{4217730412856391024, 4217730412856391025, 4217730412856391026, 4217730412856391027}

// BenchmarkLoginInProcess is the whole SPA login over HTTP: a code minted at the emulator, then
// POST /auth/kakao/token (code exchange with the emulator, ID-token check, user upsert,
// session, tokens). Users are returning after the first four iterations.
func BenchmarkLoginInProcess(b *testing.B) {
	_, drv := benchDriver(b)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := drv.Login(ctx, seededUsers[i%len(seededUsers)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMe is GET /auth/me with a Bearer token over HTTP.
func BenchmarkMe(b *testing.B) {
	_, drv := benchDriver(b)
	ctx := context.Background()
	s, err := drv.Login(ctx, seededUsers[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := drv.Me(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh is POST /auth/token/refresh over HTTP, rotating one chain.
func BenchmarkRefresh(b *testing.B) {
	_, drv := benchDriver(b)
	ctx := context.Background()
	s, err := drv.Login(ctx, seededUsers[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := drv.Refresh(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// noRateLimits turns the per-IP limits off: a load run is one client making many requests.
var noRateLimits = map[string]string{"KAKAOAUTH_RATE_LIMITS": "off"}

// TestBench_RateLimitedHint: a run refused with 429 says how to start the server for load.
func TestBench_RateLimitedHint(t *testing.T) {
	var out bytes.Buffer
	printResult(&out, loadtest.Result{Workload: loadtest.WorkLogin, OK: 30, Errors: map[string]int64{"429": 970}, FirstError: "429"})
	if !strings.Contains(out.String(), "KAKAOAUTH_RATE_LIMITS=off") {
		t.Errorf("bench output without the rate-limit hint:\n%s", out.String())
	}
	out.Reset()
	printResult(&out, loadtest.Result{Workload: loadtest.WorkLogin, OK: 30, Errors: map[string]int64{"503": 2}, FirstError: "503"})
	if strings.Contains(out.String(), "KAKAOAUTH_RATE_LIMITS") {
		t.Errorf("hint without a 429:\n%s", out.String())
	}
}
