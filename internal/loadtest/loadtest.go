// Package loadtest drives a running kakaoauth, pointed at the Kakao emulator, through the three
// workloads that matter for its speed: login (a fresh emulator code traded at
// POST /auth/kakao/token), me (GET /auth/me with a Bearer token) and refresh (rotation, each
// worker keeping its own chain). It measures throughput and latency percentiles the way the
// reference load generator (shared/baseline/loadgen) does, so figures are comparable:
//
//   - login: each iteration mints its code at the emulator (POST /_emulator/code) inside the
//     timed loop, and the code's round trip is part of the iteration's latency, as loadgen mints
//     its code from its Kakao stand-in (GET /test/code) inside the loop;
//   - me, refresh: one login per worker before the clock starts, as loadgen does;
//   - throughput is successful iterations divided by the requested duration; percentiles are
//     the nearest-rank values of the successful iterations' latencies.
//
// Login spreads over Kakao users created at the emulator before the run (1,000 by default, like
// loadgen's -users), so the first pass registers users and later ones are returning logins.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Workloads.
const (
	WorkLogin   = "login"
	WorkMe      = "me"
	WorkRefresh = "refresh"
)

// Bounds of a run.
const (
	MaxDuration    = time.Hour
	MaxConcurrency = 1024
	// DefaultMaxRequests bounds the iterations of one run (and the memory its latencies take).
	DefaultMaxRequests = 2_000_000
)

// Options configure a run.
type Options struct {
	BaseURL     string // kakaoauth, e.g. http://127.0.0.1:8080
	EmulatorURL string // its Kakao emulator, e.g. http://127.0.0.1:9911
	Workload    string // WorkLogin, WorkMe or WorkRefresh
	Concurrency int    // workers; default 8
	Duration    time.Duration
	// MaxRequests stops the run after this many iterations (default DefaultMaxRequests).
	MaxRequests int64
	// RedirectURI is registered at the emulator and on KAKAOAUTH_REDIRECT_URIS.
	RedirectURI string
	// KakaoUsers are the Kakao user ids logins use, round robin. Empty: Users new users are
	// created at the emulator before the run.
	KakaoUsers []int64
	// Users is how many emulator users to create when KakaoUsers is empty (default 1000).
	Users int
	// AllowRemote permits targets other than loopback addresses.
	AllowRemote bool
	// PID is the server's process id; when set, its resident memory is sampled while the run
	// lasts (Linux /proc).
	PID int
	// Progress, when set, is called about every ProgressEvery (default 1s) while the run lasts.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Client is the HTTP client; default one with keep-alive and enough idle connections.
	Client *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Progress is a snapshot of a running workload.
type Progress struct {
	Workload string
	Elapsed  time.Duration
	OK       int64
	Errors   int64
	Rate     float64 // successful iterations per second over the last interval
	RSS      int64   // server resident memory in bytes, 0 when unknown
}

// Result is what a run measured.
type Result struct {
	Workload    string
	Concurrency int
	Duration    time.Duration // requested
	Elapsed     time.Duration // until the last worker stopped
	OK          int64
	Errors      map[string]int64 // by HTTP status ("400") or kind ("transport", "bad_body", "emulator_…")
	FirstError  string
	Rate        float64 // OK / Duration
	P50, P90    time.Duration
	P99, Max    time.Duration
	PeakRSS     int64 // highest VmRSS sampled, bytes (0 without PID)
	HWM         int64 // VmHWM at the end: the server's peak since it started, bytes
}

// ErrorCount is the total of Errors.
func (r Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Session is one signed-in worker's tokens.
type Session struct {
	Access  string
	Refresh string
}

// Driver speaks kakaoauth's API and the emulator's control API.
type Driver struct {
	base, emulator string
	redirectURI    string
	hc             *http.Client
}

// NewDriver checks the targets and returns a driver. Targets must be loopback addresses
// (127.0.0.0/8, ::1, localhost) unless allowRemote.
func NewDriver(baseURL, emulatorURL, redirectURI string, hc *http.Client, allowRemote bool) (*Driver, error) {
	for _, t := range []struct{ name, u string }{{"base", baseURL}, {"emulator", emulatorURL}} {
		u, err := url.Parse(t.u)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("loadtest: %s URL %q: want http(s)://host:port", t.name, t.u)
		}
		if !allowRemote && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("loadtest: %s URL %q is not a loopback address (allow remote targets explicitly)", t.name, t.u)
		}
	}
	if hc == nil {
		hc = NewClient(8)
	}
	return &Driver{base: strings.TrimSuffix(baseURL, "/"), emulator: strings.TrimSuffix(emulatorURL, "/"), redirectURI: redirectURI, hc: hc}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewClient returns an HTTP client for concurrency workers: keep-alive, idle connections for
// every worker on both targets, no redirects followed, a 30 s deadline per request.
func NewClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4*concurrency + 16
	t.MaxIdleConnsPerHost = 2*concurrency + 8
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport:     t,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// statusError is a failed call: kind is the HTTP status or a failure kind, for counting.
type statusError struct {
	kind string
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// errorKind is the counting key of an error.
func errorKind(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return se.kind
	}
	return "transport"
}

func (d *Driver) post(ctx context.Context, u string, body []byte, hdr http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return d.do(req)
}

func (d *Driver) do(req *http.Request) (int, []byte, error) {
	r, err := d.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body) // to the end, so the connection is reused
	return r.StatusCode, b, err
}

// CreateUser adds a Kakao user at the emulator and returns its id.
func (d *Driver) CreateUser(ctx context.Context, nickname string) (int64, error) {
	body, _ := json.Marshal(map[string]any{"nickname": nickname})
	st, b, err := d.post(ctx, d.emulator+"/_emulator/users", body, nil)
	if err != nil {
		return 0, err
	}
	var u struct {
		ID int64 `json:"id"`
	}
	if st != http.StatusOK || json.Unmarshal(b, &u) != nil || u.ID == 0 {
		return 0, fmt.Errorf("emulator: create user: %d %.200s", st, b)
	}
	return u.ID, nil
}

// Code mints an authorization code for a Kakao user at the emulator.
func (d *Driver) Code(ctx context.Context, kakaoUser int64) (string, error) {
	body := []byte(`{"user_id":` + strconv.FormatInt(kakaoUser, 10) + `,"redirect_uri":` + strconv.Quote(d.redirectURI) + `}`)
	st, b, err := d.post(ctx, d.emulator+"/_emulator/code", body, nil)
	if err != nil {
		return "", &statusError{kind: "emulator_transport", msg: "emulator: " + err.Error()}
	}
	var out struct {
		Code string `json:"code"`
	}
	if st != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Code == "" {
		return "", &statusError{kind: "emulator_" + strconv.Itoa(st), msg: fmt.Sprintf("emulator: code: %d %.200s", st, b)}
	}
	return out.Code, nil
}

type tokenBody struct {
	Token struct {
		Access  string `json:"access"`
		Refresh string `json:"refresh"`
	} `json:"token"`
}

func (d *Driver) tokens(what string, st int, b []byte, err error) (Session, error) {
	if err != nil {
		return Session{}, err
	}
	if st != http.StatusOK {
		return Session{}, &statusError{kind: strconv.Itoa(st), msg: fmt.Sprintf("%s: %d %.200s", what, st, b)}
	}
	var out tokenBody
	if err := json.Unmarshal(b, &out); err != nil || out.Token.Access == "" || out.Token.Refresh == "" {
		return Session{}, &statusError{kind: "bad_body", msg: fmt.Sprintf("%s: no tokens in %.200s", what, b)}
	}
	return Session{Access: out.Token.Access, Refresh: out.Token.Refresh}, nil
}

// Login mints a code for kakaoUser and trades it at POST /auth/kakao/token.
func (d *Driver) Login(ctx context.Context, kakaoUser int64) (Session, error) {
	code, err := d.Code(ctx, kakaoUser)
	if err != nil {
		return Session{}, err
	}
	body := []byte(`{"code":` + strconv.Quote(code) + `,"redirect_uri":` + strconv.Quote(d.redirectURI) + `}`)
	st, b, err := d.post(ctx, d.base+"/auth/kakao/token", body, nil)
	return d.tokens("login", st, b, err)
}

// Me calls GET /auth/me with the session's access token.
func (d *Driver) Me(ctx context.Context, s Session) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/auth/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.Access)
	st, b, err := d.do(req)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return &statusError{kind: strconv.Itoa(st), msg: fmt.Sprintf("me: %d %.200s", st, b)}
	}
	return nil
}

// Refresh rotates the session's refresh token and keeps the new pair.
func (d *Driver) Refresh(ctx context.Context, s *Session) error {
	body := []byte(`{"refresh":` + strconv.Quote(s.Refresh) + `}`)
	st, b, err := d.post(ctx, d.base+"/auth/token/refresh", body, nil)
	next, err := d.tokens("refresh", st, b, err)
	if err != nil {
		return err
	}
	*s = next
	return nil
}

// Run drives one workload and returns what it measured. It returns an error only when the run
// could not start (bad options, unreachable targets, setup logins failing); failures during the
// run are counted in Result.Errors.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.Users <= 0 {
		o.Users = 1000
	}
	if o.RedirectURI == "" {
		o.RedirectURI = "http://localhost:3000/kakao/callback"
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Workload != WorkLogin && o.Workload != WorkMe && o.Workload != WorkRefresh:
		return Result{}, fmt.Errorf("loadtest: unknown workload %q (login, me, refresh)", o.Workload)
	case o.Duration > MaxDuration:
		return Result{}, fmt.Errorf("loadtest: duration %v is over %v", o.Duration, MaxDuration)
	case o.Concurrency > MaxConcurrency:
		return Result{}, fmt.Errorf("loadtest: concurrency %d is over %d", o.Concurrency, MaxConcurrency)
	case o.MaxRequests > 10*DefaultMaxRequests:
		return Result{}, fmt.Errorf("loadtest: max requests %d is over %d", o.MaxRequests, 10*DefaultMaxRequests)
	}
	hc := o.Client
	if hc == nil {
		hc = NewClient(o.Concurrency)
	}
	d, err := NewDriver(o.BaseURL, o.EmulatorURL, o.RedirectURI, hc, o.AllowRemote)
	if err != nil {
		return Result{}, err
	}

	// Setup, outside the clock.
	users := o.KakaoUsers
	if len(users) == 0 {
		n := o.Users
		if o.Workload != WorkLogin {
			n = o.Concurrency
		}
		users, err = createUsers(ctx, d, n, o.Concurrency)
		if err != nil {
			return Result{}, err
		}
	}
	sessions := make([]Session, o.Concurrency)
	if o.Workload != WorkLogin {
		for i := range sessions {
			s, err := d.Login(ctx, users[i%len(users)])
			if err != nil {
				return Result{}, fmt.Errorf("loadtest: setup login: %w", err)
			}
			sessions[i] = s
		}
	}

	res := Result{Workload: o.Workload, Concurrency: o.Concurrency, Duration: o.Duration, Errors: map[string]int64{}}
	var (
		okCount, errCount, started, nextUser atomic.Int64
		errMu                                sync.Mutex
		lat                                  = make([][]time.Duration, o.Concurrency)
		wg                                   sync.WaitGroup
	)
	fail := func(err error) {
		errCount.Add(1)
		errMu.Lock()
		res.Errors[errorKind(err)]++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
		errMu.Unlock()
	}
	start := o.Now()
	stop := start.Add(o.Duration)
	runCtx, cancel := context.WithDeadline(ctx, stop.Add(30*time.Second))
	defer cancel()
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1024)
			defer func() { lat[w] = mine }()
			for runCtx.Err() == nil && o.Now().Before(stop) && started.Add(1) <= o.MaxRequests {
				t0 := o.Now()
				var err error
				switch o.Workload {
				case WorkLogin:
					_, err = d.Login(runCtx, users[int(nextUser.Add(1)-1)%len(users)])
				case WorkMe:
					err = d.Me(runCtx, sessions[w])
				case WorkRefresh:
					err = d.Refresh(runCtx, &sessions[w])
				}
				elapsed := o.Now().Sub(t0)
				if err != nil {
					fail(err)
					if o.Workload == WorkRefresh && runCtx.Err() == nil {
						// The chain may be broken: start a new one (not timed).
						if s, lerr := d.Login(runCtx, users[w%len(users)]); lerr == nil {
							sessions[w] = s
						}
					}
					continue
				}
				okCount.Add(1)
				mine = append(mine, elapsed)
			}
		}(w)
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(o.ProgressEvery)
	defer tick.Stop()
	var lastOK int64
	last := start
	sampleRSS := func() int64 {
		if o.PID <= 0 {
			return 0
		}
		rss, _, err := ReadMemory(o.PID)
		if err == nil && rss > res.PeakRSS {
			res.PeakRSS = rss
		}
		return rss
	}
	sampleRSS()
	ctxDone := ctx.Done()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-ctxDone:
			cancel()
			ctxDone = nil
		case now := <-tick.C:
			rss := sampleRSS()
			ok := okCount.Load()
			if o.Progress != nil {
				o.Progress(Progress{
					Workload: o.Workload, Elapsed: now.Sub(start).Round(time.Millisecond), OK: ok, Errors: errCount.Load(),
					Rate: float64(ok-lastOK) / now.Sub(last).Seconds(), RSS: rss,
				})
			}
			lastOK, last = ok, now
		}
	}
	res.Elapsed = o.Now().Sub(start)
	sampleRSS()
	if o.PID > 0 {
		if _, hwm, err := ReadMemory(o.PID); err == nil {
			res.HWM = hwm
		}
	}

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.OK = int64(len(all))
	res.Rate = float64(res.OK) / o.Duration.Seconds()
	res.P50, res.P90, res.P99 = Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// createUsers adds n users at the emulator, with up to c requests at a time.
func createUsers(ctx context.Context, d *Driver, n, c int) ([]int64, error) {
	ids := make([]int64, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := d.CreateUser(ctx, "부하 "+strconv.Itoa(i+1))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("loadtest: setup: %w", err)
	}
	return ids, nil
}

// Percentile is the nearest-rank percentile p (0..1) of sorted latencies, as loadgen computes it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// ReadMemory returns a process's resident memory (VmRSS) and its peak (VmHWM), in bytes, from
// /proc/PID/status.
func ReadMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (rss, hwm int64, err error) {
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("loadtest: unexpected %s line %q", name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("loadtest: %s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("loadtest: no VmRSS and VmHWM in /proc status (kernel thread or not Linux?)")
	}
	return rss, hwm, nil
}
