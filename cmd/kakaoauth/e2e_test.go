package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Seeded emulator users (kakaotest.DefaultUsers).
const (
	userWithEmail = "4217730412856391024" // 김민준, verified email
	userNoEmail   = "4217730412856391025" // 이서연, no email
	spaRedirect   = "http://localhost:3000/kakao/callback"
)

// devServer is a running `kakaoauth dev` with its built-in emulator.
type devServer struct {
	BaseURL     string
	EmulatorURL string
	Stdout      *syncBuffer
	Stderr      *syncBuffer
	cancel      context.CancelFunc
	done        chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDev runs `kakaoauth dev` through run() on free ports with a temporary database; env
// overrides the defaults. It stops when the test ends.
func startDev(t testing.TB, env map[string]string) *devServer {
	t.Helper()
	vars := map[string]string{
		"KAKAOAUTH_ADDR":          "127.0.0.1:0",
		"KAKAOAUTH_EMULATOR_ADDR": "127.0.0.1:0",
		"KAKAOAUTH_DATABASE_URL":  "sqlite:" + filepath.Join(t.TempDir(), "kakaoauth.db"),
		"KAKAOAUTH_LOG_LEVEL":     "warn",
		"KAKAOAUTH_RATE_LIMITS":   "off",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	d := &devServer{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"kakaoauth", "dev"}, func(k string) string { return vars[k] }, pw, d.Stderr)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		d.done <- err
	}()
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.Stdout.Write([]byte(line + "\n"))
			if v, ok := strings.CutPrefix(line, "emulator: "); ok && d.EmulatorURL == "" {
				d.EmulatorURL = v
			}
			if v, ok := strings.CutPrefix(line, "listening: "); ok {
				d.BaseURL = v
				close(found)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-found:
	case err := <-d.done:
		t.Fatalf("kakaoauth dev exited: %v\nstderr: %s", err, d.Stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("kakaoauth dev did not start\nstdout: %s\nstderr: %s", d.Stdout.String(), d.Stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-d.done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("kakaoauth dev did not stop")
		}
	})
	return d
}

// browser is a cookie-jar HTTP client that follows redirects, like a browser.
func newBrowser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

func readBody(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// consent answers the emulator's consent page (the last response) as user, agreeing to scopes.
func consent(t testing.TB, c *http.Client, page *http.Response, user string, action string, scopes ...string) *http.Response {
	t.Helper()
	body := readBody(t, page)
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

func (d *devServer) emulatorCalls(t testing.TB, endpoint string) int {
	t.Helper()
	r, err := http.Get(d.EmulatorURL + "/_emulator/calls?endpoint=" + url.QueryEscape(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(readBody(t, r)), &out); err != nil {
		t.Fatal(err)
	}
	return out.Count
}

func (d *devServer) resetCalls(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", d.EmulatorURL+"/_emulator/calls", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
}

func (d *devServer) cookie(c *http.Client, path, name string) string {
	u, _ := url.Parse(d.BaseURL + path)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// browserLogin walks page → login → consent → callback and returns the final response.
func (d *devServer) browserLogin(t testing.TB, c *http.Client, user string, scopes ...string) *http.Response {
	t.Helper()
	r, err := c.Get(d.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := readBody(t, r); !strings.Contains(page, `href="/auth/kakao/login`) {
		t.Fatalf("login page has no login link: %.300s", page)
	}
	r, err = c.Get(d.BaseURL + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Request.URL.String(), d.EmulatorURL+"/oauth/authorize") {
		t.Fatalf("login went to %s, want the emulator's consent page", r.Request.URL)
	}
	return consent(t, c, r, user, "agree", scopes...)
}

func postJSON(t testing.TB, c *http.Client, u string, body any, hdr map[string]string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest("POST", u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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

func getJSON(t testing.TB, c *http.Client, u, bearer string) (*http.Response, map[string]any) {
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
	body := readBody(t, r)
	if err := json.Unmarshal([]byte(body), &m); err != nil && r.StatusCode != 204 {
		t.Fatalf("GET %s: status %d, not JSON: %.300s", u, r.StatusCode, body)
	}
	return r, m
}

func decode(t testing.TB, r *http.Response) map[string]any {
	t.Helper()
	body := readBody(t, r)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("status %d, not JSON: %.300s", r.StatusCode, body)
	}
	return m
}

func TestE2E_BrowserFlow(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	r := d.browserLogin(t, c, userWithEmail, "profile_nickname", "profile_image", "account_email")
	page := readBody(t, r)
	if r.StatusCode != 200 || r.Request.URL.Path != "/" || r.Request.URL.Query().Get("result") != "signed-in" {
		t.Fatalf("after consent: %d at %s, want 200 at /?result=signed-in", r.StatusCode, r.Request.URL)
	}
	if !strings.Contains(page, "김민준") || !strings.Contains(page, `action="/auth/logout"`) {
		t.Fatalf("signed-in page lacks the nickname or the logout form: %.500s", page)
	}

	// /auth/me with the access cookie.
	_, me := getJSON(t, c, d.BaseURL+"/auth/me", "")
	user, _ := me["user"].(map[string]any)
	if user["kakao_id"] != userWithEmail || user["email"] != "minjun.kim@example.com" || user["email_verified"] != true {
		t.Fatalf("/auth/me = %v", me)
	}

	// Refresh with the cookie: without the CSRF proof it is refused and nothing rotates.
	oldRefresh := d.cookie(c, "/auth", "refreshToken")
	r = postJSON(t, c, d.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": d.BaseURL})
	if r.StatusCode != 403 {
		t.Fatalf("cookie refresh without CSRF token: %d, want 403", r.StatusCode)
	}
	readBody(t, r)
	csrf := d.cookie(c, "/", "csrfToken")
	r = postJSON(t, c, d.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf})
	if r.StatusCode != 403 {
		t.Fatalf("cookie refresh from another origin: %d, want 403", r.StatusCode)
	}
	readBody(t, r)
	r = postJSON(t, c, d.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": d.BaseURL, "X-CSRF-Token": csrf})
	if r.StatusCode != 200 {
		t.Fatalf("cookie refresh: %d %s", r.StatusCode, readBody(t, r))
	}
	tok := decode(t, r)["token"].(map[string]any)
	if newRefresh := d.cookie(c, "/auth", "refreshToken"); newRefresh == oldRefresh || newRefresh != tok["refresh"] {
		t.Fatalf("refresh cookie not rotated to the answered token")
	}

	// Log out as a browser form would: 303 to a page that says so; then /auth/me is 401.
	csrf = d.cookie(c, "/", "csrfToken")
	req, _ := http.NewRequest("POST", d.BaseURL+"/auth/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.BaseURL)
	req.Header.Set("Accept", "text/html")
	r, err := noRedirects(c).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/?result=signed-out") {
		t.Fatalf("form logout: %d Location %q, want 303 to /?result=signed-out", r.StatusCode, r.Header.Get("Location"))
	}
	r, _ = getJSON(t, c, d.BaseURL+"/auth/me", "")
	if r.StatusCode != 401 {
		t.Fatalf("/auth/me after logout: %d, want 401", r.StatusCode)
	}
	// The old access token itself is refused too: its session ended.
	r = postJSON(t, c, d.BaseURL+"/auth/token/verify", map[string]string{"token": tok["access"].(string)}, nil)
	if r.StatusCode != 401 {
		t.Fatalf("verify after logout: %d, want 401", r.StatusCode)
	}
	readBody(t, r)

	// A returning browser goes through Kakao without a click (prompt=none).
	r, err = c.Get(d.BaseURL + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.Request.URL.Path != "/" || r.Request.URL.Query().Get("result") != "signed-in" {
		t.Fatalf("returning login ended at %s, want /?result=signed-in", r.Request.URL)
	}
}

// spaCode gets a code as a frontend would: the browser at the emulator, redirected to the SPA.
func (d *devServer) spaCode(t testing.TB, user string, scopes ...string) string {
	t.Helper()
	c := newBrowser(t)
	q := url.Values{"client_id": {"kakaoauth-dev-rest-api-key"}, "redirect_uri": {spaRedirect}, "response_type": {"code"}, "state": {"xyz"}}
	r, err := c.Get(d.EmulatorURL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	r = consent(t, noRedirects(c), r, user, "agree", scopes...)
	readBody(t, r)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || r.StatusCode != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("consent answered %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestE2E_SPAFlow(t *testing.T) {
	for _, oidc := range []string{"true", "false"} {
		t.Run("oidc="+oidc, func(t *testing.T) {
			d := startDev(t, map[string]string{"KAKAOAUTH_KAKAO_OIDC": oidc})
			c := newBrowser(t)
			code := d.spaCode(t, userWithEmail, "profile_nickname", "account_email")
			d.resetCalls(t)
			r := postJSON(t, c, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
			if r.StatusCode != 200 {
				t.Fatalf("token: %d %s", r.StatusCode, readBody(t, r))
			}
			setCookies := r.Header.Values("Set-Cookie")
			body := decode(t, r)
			if body["message"] != "register success" || body["created"] != true {
				t.Fatalf("first login: %v", body)
			}
			// One round trip to Kakao with OIDC (the ID token carries the profile), two without.
			wantMe := 0
			if oidc == "false" {
				wantMe = 1
			}
			if got := d.emulatorCalls(t, "/oauth/token"); got != 1 {
				t.Errorf("Kakao /oauth/token calls = %d, want 1", got)
			}
			if got := d.emulatorCalls(t, "/v2/user/me"); got != wantMe {
				t.Errorf("Kakao /v2/user/me calls = %d, want %d", got, wantMe)
			}
			joined := strings.Join(setCookies, "\n")
			for _, want := range []string{"accessToken=", "refreshToken=", "HttpOnly", "SameSite=Lax"} {
				if !strings.Contains(joined, want) {
					t.Errorf("Set-Cookie lacks %q:\n%s", want, joined)
				}
			}
			if oidc == "true" {
				checkGolden(t, "spa_login.golden.json", body)
			}
			tok := body["token"].(map[string]any)
			_, me := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", tok["access"].(string))
			if me["user"].(map[string]any)["nickname"] != "김민준" {
				t.Fatalf("/auth/me = %v", me)
			}

			// Returning user.
			code = d.spaCode(t, userWithEmail, "profile_nickname", "account_email")
			r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
			body = decode(t, r)
			if body["message"] != "login success" || body["created"] != false {
				t.Fatalf("second login: %v", body)
			}

			// A reused code is Kakao's KOE320: 400 invalid_grant, never 401 or 500.
			r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
			body = decode(t, r)
			if r.StatusCode != 400 || body["error"] != "invalid_grant" || body["kakao_error_code"] != "KOE320" {
				t.Fatalf("reused code: %d %v", r.StatusCode, body)
			}
		})
	}
}

func TestE2E_NoEmailUser(t *testing.T) {
	d := startDev(t, nil)
	code := d.spaCode(t, userNoEmail, "profile_nickname")
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
	body := decode(t, r)
	u := body["user"].(map[string]any)
	if r.StatusCode != 200 || u["email"] != nil || u["email_verified"] != nil {
		t.Fatalf("no-email user: %d %v", r.StatusCode, body)
	}
	if _, present := u["email"]; !present {
		t.Fatalf("email must be present as null: %v", u)
	}
}

func TestE2E_Refresh(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_REFRESH_GRACE": "1s"})
	code := d.spaCode(t, userWithEmail, "profile_nickname")
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
	rt0 := decode(t, r)["token"].(map[string]any)["refresh"].(string)

	refresh := func(rt string) (int, map[string]any) {
		r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
		return r.StatusCode, decode(t, r)
	}
	// Two concurrent refreshes within grace both succeed with one successor.
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, b := refresh(rt0)
			if st == 200 {
				got[i] = b["token"].(map[string]any)["refresh"].(string)
			}
		}()
	}
	wg.Wait()
	if got[0] == "" || got[0] != got[1] || got[0] == rt0 {
		t.Fatalf("concurrent refreshes within grace: %q and %q, want one and the same successor", got[0], got[1])
	}
	rt1 := got[0]
	st, b := refresh(rt1)
	if st != 200 {
		t.Fatalf("rotate rt1: %d %v", st, b)
	}
	rt2 := b["token"].(map[string]any)["refresh"].(string)
	access := b["token"].(map[string]any)["access"].(string)

	// Past the grace, reusing rt0 revokes the whole family, and that stays revoked.
	time.Sleep(1100 * time.Millisecond)
	st, b = refresh(rt0)
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("reuse after grace: %d %v", st, b)
	}
	st, b = refresh(rt2)
	if st != 400 {
		t.Fatalf("successor after family revocation: %d %v, want 400", st, b)
	}
	r, _ = getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", access)
	if r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("access token of a revoked family: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	// Garbage is a 400, not a 500.
	st, b = refresh("not-a-token")
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("garbage refresh token: %d %v", st, b)
	}
}

// TestE2E_89_FirstLoginRace: 100 concurrent first logins of one Kakao user make one user.
func TestE2E_89_FirstLoginRace(t *testing.T) {
	d := startDev(t, nil)
	codes := make([]string, 100)
	for i := range codes {
		r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/code", map[string]any{"user_id": 4217730412856391026, "redirect_uri": spaRedirect}, nil)
		codes[i] = decode(t, r)["code"].(string)
	}
	var wg sync.WaitGroup
	ids := make([]string, len(codes))
	created := make([]bool, len(codes))
	errs := make(chan string, len(codes))
	for i, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(map[string]string{"code": code, "redirect_uri": spaRedirect})
			r, err := http.Post(d.BaseURL+"/auth/kakao/token", "application/json", bytes.NewReader(b))
			if err != nil {
				errs <- err.Error()
				return
			}
			var out struct {
				User    struct{ ID string } `json:"user"`
				Created bool                `json:"created"`
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
				errs <- fmt.Sprintf("%d %s", r.StatusCode, body)
				return
			}
			ids[i], created[i] = out.User.ID, out.Created
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("login failed: %s", e)
	}
	nCreated := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("logins answered different users: %q and %q", ids[0], ids[i])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Fatalf("%d logins said created, want exactly 1", nCreated)
	}
}

// checkGolden compares the shape of a JSON body (values of volatile fields masked).
func checkGolden(t *testing.T, name string, body map[string]any) {
	t.Helper()
	masked := mask(body, "")
	got, _ := json.MarshalIndent(masked, "", "  ")
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

// mask replaces values that change from run to run with their type, keeping the shape.
func mask(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := map[string]any{}
		for _, k := range keys {
			out[k] = mask(x[k], k)
		}
		return out
	case string:
		switch key {
		case "id", "access", "refresh", "created_at", "last_login_at", "profile_image_url":
			return "<" + key + ">"
		}
		return x
	}
	return v
}

func jsonDecode(r *http.Response, v any) error {
	defer r.Body.Close()
	return json.NewDecoder(r.Body).Decode(v)
}

// TestE2E_DevCanonicalHost: in dev, a page opened as localhost goes to the public URL's host
// first, so the flow cookie and Kakao's redirect meet on one host.
func TestE2E_DevCanonicalHost(t *testing.T) {
	d := startDev(t, nil)
	u, _ := url.Parse(d.BaseURL)
	other := "http://localhost:" + u.Port()
	r, err := noRedirects(newBrowser(t)).Get(other + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 302 || r.Header.Get("Location") != d.BaseURL+"/auth/kakao/login" {
		t.Fatalf("localhost login: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestE2E_GracefulShutdown: on SIGINT/SIGTERM (the context ends) the server stops accepting,
// finishes the request in flight, closes the database and run returns nil.
func TestE2E_GracefulShutdown(t *testing.T) {
	d := startDev(t, nil)
	d.setFault(t, "/oauth/token", map[string]any{"latency_ms": 700})
	code := d.mintCode(t, 4217730412856391024)
	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		b, _ := json.Marshal(map[string]string{"code": code, "redirect_uri": spaRedirect})
		r, err := http.Post(d.BaseURL+"/auth/kakao/token", "application/json", bytes.NewReader(b))
		if err != nil {
			got <- result{err: err}
			return
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		got <- result{status: r.StatusCode}
	}()
	time.Sleep(250 * time.Millisecond)
	d.cancel()
	res := <-got
	if res.err != nil || res.status != 200 {
		t.Fatalf("request in flight during shutdown: %d %v, want 200", res.status, res.err)
	}
	var err error
	select {
	case err = <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
	d.done <- err // for the cleanup
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get(d.BaseURL + "/healthz"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}
