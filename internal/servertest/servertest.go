// Package servertest runs kakaoauth in process for tests — the real server (server.New through
// internal/app) on SQLite in a temporary folder, with real tokens, the real Kakao adapter and
// the Kakao emulator (kakaotest) as Kakao — and drives any running kakaoauth over HTTP as a
// browser or a script would. The tests of internal/server use Start; cmd/kakaoauth's tests drive
// `kakaoauth dev` through the same Target helpers.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// Seeded emulator users (kakaotest.DefaultUsers) and the dev app's values.
const (
	UserWithEmail = "4217730412856391024" // 김민준, verified email
	UserNoEmail   = "4217730412856391025" // 이서연, no email
	SPARedirect   = "http://localhost:3000/kakao/callback"
	DevAdminKey   = "kakaoauth-dev-admin-key"
	DevAppID      = "1234567"
	DevSecret     = "kakaoauth-test-secret-0123456789abcdef"
)

// Target is a running kakaoauth and its Kakao emulator, addressed by URL.
type Target struct {
	BaseURL     string
	EmulatorURL string
}

// Server is kakaoauth running in process (Start).
type Server struct {
	*Target
	Emulator *kakaotest.Emulator
	App      *app.App
	Config   app.Config
	Clock    *Clock
	Logs     *SyncBuffer // the server's JSON log lines
}

// Clock is the server's clock: real time moved by Advance.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Option changes the configuration Start builds the server with.
type Option func(*Options)

// Options are what Start's options change.
type Options struct {
	Config app.Config
	// Emulator is the emulated Kakao app; its redirect URIs get the server's callback added.
	Emulator kakaotest.App
	Users    []kakaotest.User
	// LogLevel of the server's log (default warn).
	LogLevel slog.Level
	// DatabasePath, when set, is the SQLite file (two servers may share one).
	DatabasePath string
	// Store, when set, is used instead of a SQLite file (it is closed with the server).
	Store app.Store
}

// WithConfig changes the server's configuration.
func WithConfig(f func(*app.Config)) Option { return func(o *Options) { f(&o.Config) } }

// Start runs kakaoauth (as `kakaoauth dev` configures it, rate limits off) and its emulator in
// process; both stop when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	emuTS := httptest.NewUnstartedServer(nil)
	srvTS := httptest.NewUnstartedServer(nil)
	emuURL := "http://" + emuTS.Listener.Addr().String()
	public, _ := url.Parse("http://" + srvTS.Listener.Addr().String())

	emuApp := kakaotest.DefaultApp()
	o := Options{
		Emulator: emuApp,
		Users:    kakaotest.DefaultUsers(),
		LogLevel: slog.LevelWarn,
		Config: app.Config{
			PublicURL: public, Secret: DevSecret,
			ClientID: emuApp.RESTKey, ClientSecret: emuApp.ClientSecret, AdminKey: emuApp.AdminKey, AppID: emuApp.AppID,
			AuthURL: emuURL, APIURL: emuURL, Audiences: []string{emuApp.NativeKey, emuApp.JavaScriptKey},
			OIDC: true, KakaoTimeout: 10 * time.Second,
			RedirectURIs:   []string{"http://localhost:3000/kakao/callback", "http://127.0.0.1:3000/kakao/callback"},
			AllowedOrigins: []string{"http://localhost:3000", "http://127.0.0.1:3000"},
			AccessTTL:      15 * time.Minute, RefreshTTL: 720 * time.Hour, RefreshGrace: 10 * time.Second,
			RefreshGraceMax: 10, FlowTTL: 10 * time.Minute,
			AccessCookie: "accessToken", RefreshCookie: "refreshToken", CSRFCookie: "csrfToken",
			SameSite: http.SameSiteLaxMode, ServiceName: "kakaoauth", CanonicalHost: true, Version: "test",
			// The Kakao breaker (case 88) stays closed unless a test tunes it: the fault tests
			// see Kakao's own answers (internal/server/breaker_test.go tests the breaker).
			KakaoBreaker: kakaoidp.BreakerConfig{Consecutive: 1 << 30, MinCalls: 1 << 30},
		},
	}
	for _, f := range opts {
		f(&o)
	}
	clock := &Clock{}
	if o.Config.Now == nil {
		o.Config.Now = clock.Now
	}
	logs := &SyncBuffer{}
	o.Config.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: o.LogLevel}))

	o.Emulator.RedirectURIs = append(o.Emulator.RedirectURIs, o.Config.RedirectURIs...)
	o.Emulator.RedirectURIs = append(o.Emulator.RedirectURIs, o.Config.PublicURL.String()+"/auth/kakao/callback")
	o.Emulator.UnlinkWebhookURL = o.Config.PublicURL.String() + "/auth/kakao/webhook/unlink"
	o.Emulator.OIDC = o.Config.OIDC
	emu := kakaotest.New(o.Emulator, o.Users, kakaotest.Options{Issuer: emuURL})
	emuTS.Config.Handler = emu
	emuTS.Start()

	store := o.Store
	if store == nil {
		path := o.DatabasePath
		if path == "" {
			path = filepath.Join(t.TempDir(), "kakaoauth.db")
		}
		var err error
		store, err = app.OpenStore(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
	}
	a, err := app.NewWithStore(context.Background(), o.Config, store)
	if err != nil {
		store.Close()
		emuTS.Close()
		t.Fatal(err)
	}
	srvTS.Config.Handler = a.Server
	srvTS.Start()
	t.Cleanup(func() {
		srvTS.Close()
		emuTS.Close()
		emu.Close()
		a.Close()
	})
	return &Server{
		Target:   &Target{BaseURL: public.String(), EmulatorURL: emuURL},
		Emulator: emu, App: a, Config: o.Config, Clock: clock, Logs: logs,
	}
}

// NewBrowser is a cookie-jar HTTP client that follows redirects, like a browser.
func NewBrowser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// NoRedirects is c without following redirects.
func NoRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// ReadBody reads and closes a response body.
func ReadBody(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// Consent answers the emulator's consent page (the last response) as user, agreeing to scopes.
func Consent(t testing.TB, c *http.Client, page *http.Response, user string, action string, scopes ...string) *http.Response {
	t.Helper()
	body := ReadBody(t, page)
	m := requestField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no consent form at %s (status %d): %.400s", page.Request.URL, page.StatusCode, body)
	}
	form := url.Values{"request": {m[1]}, "user": {user}, "action": {action}}
	for _, s := range scopes {
		form.Add("scope", s)
	}
	target := page.Request.URL.Scheme + "://" + page.Request.URL.Host + "/oauth/authorize"
	r, err := c.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// PostJSON posts body as JSON (no body when nil) with extra headers.
func PostJSON(t testing.TB, c *http.Client, u string, body any, hdr map[string]string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return send(t, c, "POST", u, ct, hdr, rd)
}

// GetJSON gets u, with a Bearer token when one is given, and decodes the JSON answer.
func GetJSON(t testing.TB, c *http.Client, u, bearer string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	body := ReadBody(t, r)
	if err := json.Unmarshal([]byte(body), &m); err != nil && r.StatusCode != 204 {
		t.Fatalf("GET %s: status %d, not JSON: %.300s", u, r.StatusCode, body)
	}
	return r, m
}

// Decode reads a JSON object answer.
func Decode(t testing.TB, r *http.Response) map[string]any {
	t.Helper()
	body := ReadBody(t, r)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("status %d, not JSON: %.300s", r.StatusCode, body)
	}
	return m
}

// Do sends a request with headers and a raw body ("" for none).
func Do(t testing.TB, c *http.Client, method, u string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return send(t, c, method, u, "", hdr, rd)
}

// send sends a request with an optional Content-Type and headers (hdr wins), failing the test
// on a transport error.
func send(t testing.TB, c *http.Client, method, u, contentType string, hdr map[string]string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// EmulatorCalls is how many calls the emulator logged for endpoint.
func (d *Target) EmulatorCalls(t testing.TB, endpoint string) int {
	t.Helper()
	r, err := http.Get(d.EmulatorURL + "/_emulator/calls?endpoint=" + url.QueryEscape(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(ReadBody(t, r)), &out); err != nil {
		t.Fatal(err)
	}
	return out.Count
}

// ResetCalls empties the emulator's call log.
func (d *Target) ResetCalls(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", d.EmulatorURL+"/_emulator/calls", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
}

// Cookie is the value of c's cookie name for path on the server ("" if none).
func (d *Target) Cookie(c *http.Client, path, name string) string {
	u, _ := url.Parse(d.BaseURL + path)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// BrowserLogin walks page → login → consent → callback and returns the final response.
func (d *Target) BrowserLogin(t testing.TB, c *http.Client, user string, scopes ...string) *http.Response {
	t.Helper()
	r, err := c.Get(d.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := ReadBody(t, r); !strings.Contains(page, `href="/auth/kakao/login`) {
		t.Fatalf("login page has no login link: %.300s", page)
	}
	r, err = c.Get(d.BaseURL + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Request.URL.String(), d.EmulatorURL+"/oauth/authorize") {
		t.Fatalf("login went to %s, want the emulator's consent page", r.Request.URL)
	}
	return Consent(t, c, r, user, "agree", scopes...)
}

// StartLogin begins a browser login and returns the Kakao authorize URL it redirected to.
func (d *Target) StartLogin(t testing.TB, c *http.Client, query string) *url.URL {
	t.Helper()
	r, err := NoRedirects(c).Get(d.BaseURL + "/auth/kakao/login" + query)
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(t, r)
	if r.StatusCode != 302 {
		t.Fatalf("login start: %d", r.StatusCode)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// SPACode gets a code as a frontend would: the browser at the emulator, redirected to the SPA.
func (d *Target) SPACode(t testing.TB, user string, scopes ...string) string {
	t.Helper()
	c := NewBrowser(t)
	q := url.Values{"client_id": {"kakaoauth-dev-rest-api-key"}, "redirect_uri": {SPARedirect}, "response_type": {"code"}, "state": {"xyz"}}
	r, err := c.Get(d.EmulatorURL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	r = Consent(t, NoRedirects(c), r, user, "agree", scopes...)
	ReadBody(t, r)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || r.StatusCode != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("consent answered %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// MintCode gets a code for user and the SPA redirect URI from the emulator's control API.
func (d *Target) MintCode(t testing.TB, user int64) string {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/code", map[string]any{"user_id": user, "redirect_uri": SPARedirect}, nil)
	return Decode(t, r)["code"].(string)
}

// SetFault switches on an emulator fault for endpoint (the control API's JSON form).
func (d *Target) SetFault(t testing.TB, endpoint string, fault map[string]any) {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/faults", map[string]any{"endpoint": endpoint, "fault": fault}, nil)
	ReadBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("set fault: %d", r.StatusCode)
	}
}

// ClearFaults switches every emulator fault off.
func (d *Target) ClearFaults(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", d.EmulatorURL+"/_emulator/faults", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(t, r)
}

// SDKToken mints Kakao SDK tokens for a user at the emulator; extra adds control fields
// ("app_id", "client_id").
func (d *Target) SDKToken(t testing.TB, user int64, extra map[string]any) (access, idToken string) {
	t.Helper()
	body := map[string]any{"user_id": user}
	for k, v := range extra {
		body[k] = v
	}
	r := PostJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/token", body, nil)
	m := Decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("mint SDK token: %d %v", r.StatusCode, m)
	}
	id, _ := m["id_token"].(string)
	return m["access_token"].(string), id
}

// AddUser adds a Kakao user to the emulator.
func (d *Target) AddUser(t testing.TB, id int64, nickname string) {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/users", map[string]any{"id": id, "nickname": nickname}, nil)
	ReadBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("add emulator user: %d", r.StatusCode)
	}
}

// SDKLogin posts to /auth/kakao/sdk and returns the response and its JSON body.
func (d *Target) SDKLogin(t testing.TB, c *http.Client, body map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	r := PostJSON(t, c, d.BaseURL+"/auth/kakao/sdk", body, nil)
	return r, Decode(t, r)
}

// SDKSignIn logs a user in through the SDK flow and returns the login body's token.
func (d *Target) SDKSignIn(t testing.TB, user int64) (access, refresh, userID string) {
	t.Helper()
	at, idt := d.SDKToken(t, user, nil)
	r, b := d.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if r.StatusCode != 200 {
		t.Fatalf("SDK login of %d: %d %v", user, r.StatusCode, b)
	}
	tok := b["token"].(map[string]any)
	return tok["access"].(string), tok["refresh"].(string), b["user"].(map[string]any)["id"].(string)
}

// SPARegisters reports whether a first SPA login of user says "register success": the user did
// not exist before.
func (d *Target) SPARegisters(t testing.TB, user int64) bool {
	t.Helper()
	b := Decode(t, PostJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.MintCode(t, user), "redirect_uri": SPARedirect}, nil))
	return b["created"] == true
}

// MeStatus is the status of GET /auth/me with a Bearer token.
func (d *Target) MeStatus(t testing.TB, access string) int {
	t.Helper()
	r, _ := GetJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", access)
	return r.StatusCode
}

// RefreshStatus refreshes with a JSON body and returns the status and the error code.
func (d *Target) RefreshStatus(t testing.TB, refresh string) (int, any) {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := Decode(t, r)
	return r.StatusCode, b["error"]
}

// DrainOutbox delivers everything due in the outbox now (events, Kakao unlinks, the unlink
// webhook's deletions), as the worker would; it returns how many items it attempted.
func (s *Server) DrainOutbox(t testing.TB) int {
	t.Helper()
	if s.App.Events == nil {
		return 0
	}
	n, err := s.App.Events.Drain(context.Background(), 0)
	if err != nil {
		t.Fatalf("drain the outbox: %v", err)
	}
	return n
}

// Webhook calls the unlink webhook; params go in the query (GET) or a form body (POST).
func (d *Target) Webhook(t testing.TB, method, authz string, params url.Values) *http.Response {
	t.Helper()
	u := d.BaseURL + "/auth/kakao/webhook/unlink"
	var req *http.Request
	if method == "GET" {
		req, _ = http.NewRequest("GET", u+"?"+params.Encode(), nil)
	} else {
		req, _ = http.NewRequest("POST", u, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	r, err := NoRedirects(http.DefaultClient).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(t, r)
	return r
}

// HookParams are the unlink webhook's parameters for a user of the dev app.
func HookParams(user int64, referrer string) url.Values {
	return url.Values{"app_id": {DevAppID}, "user_id": {strconv.FormatInt(user, 10)}, "referrer_type": {referrer}}
}

// Golden files and login helpers.

// update is the -update flag of every test binary that imports servertest: CheckGolden then
// rewrites the golden files instead of comparing with them.
var update = flag.Bool("update", false, "rewrite golden files")

// CheckGolden compares the shape of a JSON body with testdata/name, values that change from run
// to run masked (Mask); with -update it writes the file first.
func CheckGolden(t testing.TB, name string, body map[string]any) {
	t.Helper()
	got, _ := json.MarshalIndent(Mask(body, ""), "", "  ")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// Mask replaces the values of v (found under key) that change from run to run — ids, tokens,
// times, image URLs — with their key in angle brackets, keeping the shape.
func Mask(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Mask(e, k)
		}
		return out
	case string:
		switch key {
		case "id", "access", "refresh", "created_at", "last_login_at", "profile_image_url":
			return "<" + key + ">"
		}
	}
	return v
}

// SPASignIn logs user in as a frontend would, with a code minted at the emulator, and returns
// the login body's tokens.
func (d *Target) SPASignIn(t testing.TB, user int64) (access, refresh string) {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.MintCode(t, user), "redirect_uri": SPARedirect}, nil)
	b := Decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("SPA login of %d: %d %v", user, r.StatusCode, b)
	}
	tok := b["token"].(map[string]any)
	return tok["access"].(string), tok["refresh"].(string)
}

// Refresh refreshes with a JSON body and returns the status and the decoded answer.
func (d *Target) Refresh(t testing.TB, refresh string) (int, map[string]any) {
	t.Helper()
	r := PostJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	return r.StatusCode, Decode(t, r)
}

// StartEmulator runs the Kakao emulator alone on 127.0.0.1 — the default app
// (kakaotest.DefaultApp, returned with its keys) accepting redirectURIs, and the default users —
// for a kakaoauth that a test builds another way, such as a program that embeds it. It stops
// when the test ends.
func StartEmulator(t testing.TB, redirectURIs ...string) (emulatorURL string, app kakaotest.App) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	emulatorURL = "http://" + ts.Listener.Addr().String()
	app = kakaotest.DefaultApp()
	app.RedirectURIs = append(app.RedirectURIs, redirectURIs...)
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: emulatorURL})
	ts.Config.Handler = emu
	ts.Start()
	t.Cleanup(func() { ts.Close(); emu.Close() })
	return emulatorURL, app
}
