package main

// Cases from the security checklist (shared/reference/security-checklist.md), numbered as there,
// exercised against the whole server and its emulator through HTTP.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startLogin begins a browser login and returns the Kakao authorize URL it redirected to.
func (d *devServer) startLogin(t testing.TB, c *http.Client, query string) *url.URL {
	t.Helper()
	r, err := noRedirects(c).Get(d.BaseURL + "/auth/kakao/login" + query)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 302 {
		t.Fatalf("login start: %d", r.StatusCode)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (d *devServer) setFault(t testing.TB, endpoint string, fault map[string]any) {
	t.Helper()
	r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/faults", map[string]any{"endpoint": endpoint, "fault": fault}, nil)
	readBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("set fault: %d", r.StatusCode)
	}
}

func (d *devServer) mintCode(t testing.TB, user int64) string {
	t.Helper()
	r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/code", map[string]any{"user_id": user, "redirect_uri": spaRedirect}, nil)
	return decode(t, r)["code"].(string)
}

func TestSecurity_01_CallbackWithoutState(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	d.startLogin(t, c, "")
	d.resetCalls(t)
	r, err := noRedirects(c).Get(d.BaseURL + "/auth/kakao/callback?code=X")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 400 {
		t.Errorf("status %d, want 400", r.StatusCode)
	}
	if n := d.emulatorCalls(t, "/oauth/token"); n != 0 {
		t.Errorf("Kakao token endpoint called %d times, want 0", n)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "accessToken=") || strings.HasPrefix(sc, "refreshToken=") {
			t.Errorf("session cookie set: %s", sc)
		}
	}
}

func TestSecurity_02_ForgedState(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	d.startLogin(t, c, "")
	d.resetCalls(t)
	r, err := noRedirects(c).Get(d.BaseURL + "/auth/kakao/callback?code=X&state=" + strings.Repeat("A", 43))
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 400 || d.emulatorCalls(t, "/oauth/token") != 0 {
		t.Fatalf("forged state: %d, token calls %d; want 400 and 0", r.StatusCode, d.emulatorCalls(t, "/oauth/token"))
	}
}

// TestSecurity_03_LoginCSRF: an attacker's completed callback URL opened in a victim's browser
// (which holds no flow cookie of that attempt) does not log the victim in.
func TestSecurity_03_LoginCSRF(t *testing.T) {
	d := startDev(t, nil)
	attacker := newBrowser(t)
	authz := d.startLogin(t, attacker, "")
	r, err := attacker.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = consent(t, noRedirects(attacker), r, userNoEmail, "agree", "profile_nickname")
	readBody(t, r)
	callback := r.Header.Get("Location")
	victim := newBrowser(t)
	r, err = noRedirects(victim).Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 400 || d.cookie(victim, "/", "accessToken") != "" {
		t.Fatalf("victim: %d, access cookie %q; want 400 and none", r.StatusCode, d.cookie(victim, "/", "accessToken"))
	}
}

func TestSecurity_04_CallbackReplay(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	authz := d.startLogin(t, c, "")
	r, err := c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = consent(t, noRedirects(c), r, userNoEmail, "agree", "profile_nickname")
	readBody(t, r)
	callback := r.Header.Get("Location")
	flow := d.cookie(c, "/", "kakaoauth-flow")
	r, err = noRedirects(c).Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 303 {
		t.Fatalf("first callback: %d", r.StatusCode)
	}
	// The replay, even with the flow cookie put back, is refused: the state was used.
	req, _ := http.NewRequest("GET", callback, nil)
	req.AddCookie(&http.Cookie{Name: "kakaoauth-flow", Value: flow})
	r, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 400 {
		t.Fatalf("replayed callback: %d, want 400", r.StatusCode)
	}
}

func TestSecurity_05_ExpiredState(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_FLOW_TTL": "1s"})
	c := newBrowser(t)
	authz := d.startLogin(t, c, "")
	flow := d.cookie(c, "/", "kakaoauth-flow")
	time.Sleep(1100 * time.Millisecond)
	req, _ := http.NewRequest("GET", d.BaseURL+"/auth/kakao/callback?code=X&state="+authz.Query().Get("state"), nil)
	req.AddCookie(&http.Cookie{Name: "kakaoauth-flow", Value: flow})
	d.resetCalls(t)
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, r)
	if r.StatusCode != 400 || d.emulatorCalls(t, "/oauth/token") != 0 {
		t.Fatalf("expired state: %d, token calls %d", r.StatusCode, d.emulatorCalls(t, "/oauth/token"))
	}
	if !strings.Contains(body, "만료") {
		t.Errorf("expired page does not say the login expired: %.300s", body)
	}
}

// TestSecurity_06_07_StateNoncePKCE: state and nonce are distinct 256-bit values; PKCE is S256
// and the verifier never appears in the URL.
func TestSecurity_06_07_StateNoncePKCE(t *testing.T) {
	d := startDev(t, nil)
	seen := map[string]bool{}
	for i := 0; i < 300; i++ {
		u := d.startLogin(t, newBrowser(t), "")
		q := u.Query()
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := q.Get(k)
			if len(v) < 43 || seen[v] {
				t.Fatalf("%s %q short or repeated", k, v)
			}
			seen[v] = true
		}
		if q.Get("code_challenge_method") != "S256" {
			t.Fatalf("code_challenge_method = %q", q.Get("code_challenge_method"))
		}
		if strings.Contains(u.RawQuery, "code_verifier") {
			t.Fatalf("verifier in URL: %s", u)
		}
		if !strings.Contains(q.Get("scope"), "openid") {
			t.Fatalf("scope %q lacks openid", q.Get("scope"))
		}
	}
}

// TestSecurity_10_OpenRedirect: only exact allowlist entries are honoured as return targets.
func TestSecurity_10_OpenRedirect(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_RETURN_TO": "/app,http://localhost:3000/after"})
	for _, target := range []string{
		"https://evil.example", "//evil.example", `/\evil.example`, "http://localhost:3000/after.evil.example",
		"http://localhost:3000@evil.example", "http://localhost:3000/afterx", "javascript:alert(1)",
		"%2F%2Fevil.example", "/app/../evil", "/appx",
	} {
		t.Run(target, func(t *testing.T) {
			c := newBrowser(t)
			authz := d.startLogin(t, c, "?return_to="+url.QueryEscape(target))
			r, err := c.Get(authz.String())
			if err != nil {
				t.Fatal(err)
			}
			r = consent(t, noRedirects(c), r, userNoEmail, "agree", "profile_nickname")
			readBody(t, r)
			// An extra return_to on the callback is ignored too.
			r, err = noRedirects(c).Get(r.Header.Get("Location") + "&return_to=https://evil.example")
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, r)
			if loc := r.Header.Get("Location"); r.StatusCode != 303 || !strings.HasPrefix(loc, "/?result=signed-in") {
				t.Fatalf("return_to %q: %d to %q, want 303 to the default", target, r.StatusCode, loc)
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		c := newBrowser(t)
		authz := d.startLogin(t, c, "?return_to="+url.QueryEscape("http://localhost:3000/after"))
		r, _ := c.Get(authz.String())
		r = consent(t, noRedirects(c), r, userNoEmail, "agree", "profile_nickname")
		readBody(t, r)
		r, _ = noRedirects(c).Get(r.Header.Get("Location"))
		readBody(t, r)
		if loc := r.Header.Get("Location"); loc != "http://localhost:3000/after" {
			t.Fatalf("allowed return_to: Location %q", loc)
		}
	})
}

// TestSecurity_11_13_KakaoErrorAndCleanRedirect: a Kakao error with hostile text ends on a clean
// error page that does not reflect it; the callback answers no-store and no-referrer.
func TestSecurity_11_13_KakaoErrorAndCleanRedirect(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	authz := d.startLogin(t, c, "")
	cb := d.BaseURL + "/auth/kakao/callback?error=access_denied&error_description=" + url.QueryEscape("<script>alert(1)</script>") + "&state=" + authz.Query().Get("state")
	r, err := noRedirects(c).Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	loc := r.Header.Get("Location")
	if r.StatusCode != 303 || !strings.HasPrefix(loc, "/auth/error?code=cancelled") || strings.Contains(loc, "state") {
		t.Fatalf("callback: %d Location %q", r.StatusCode, loc)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("callback headers: Cache-Control %q, Referrer-Policy %q", r.Header.Get("Cache-Control"), r.Header.Get("Referrer-Policy"))
	}
	r, err = c.Get(d.BaseURL + loc)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, r)
	if r.StatusCode != 400 || strings.Contains(page, "<script>") || !strings.Contains(page, "취소") {
		t.Fatalf("error page: %d %.300s", r.StatusCode, page)
	}
	if d.cookie(c, "/", "accessToken") != "" {
		t.Fatal("a session was started")
	}
}

func TestSecurity_53_LogoutSemantics(t *testing.T) {
	d := startDev(t, nil)
	body := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))
	tok := body["token"].(map[string]any)
	logout := func(bearer string, all bool) *http.Response {
		u := d.BaseURL + "/auth/logout"
		if all {
			u += "?all=true"
		}
		req, _ := http.NewRequest("POST", u, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, r)
		return r
	}
	r := logout(tok["access"].(string), false)
	if r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("cookie not cleared: %s", sc)
		}
	}
	// Refresh afterwards fails; a second logout without credentials is still 204.
	r2 := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": tok["refresh"].(string)}, nil)
	if b := decode(t, r2); r2.StatusCode != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", r2.StatusCode, b)
	}
	if r := logout("", false); r.StatusCode != 204 {
		t.Fatalf("second logout: %d", r.StatusCode)
	}

	// Log out everywhere ends every session of the user.
	var access []string
	for i := 0; i < 3; i++ {
		b := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))
		access = append(access, b["token"].(map[string]any)["access"].(string))
	}
	if r := logout(access[0], true); r.StatusCode != 204 {
		t.Fatalf("logout all: %d", r.StatusCode)
	}
	for i, a := range access {
		if r, _ := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", a); r.StatusCode != 401 {
			t.Errorf("session %d after logout all: %d", i, r.StatusCode)
		}
	}
}

func TestSecurity_54_CookieAttributes(t *testing.T) {
	d := startDev(t, nil)
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil)
	readBody(t, r)
	got := map[string]*http.Cookie{}
	for _, c := range r.Cookies() {
		got[c.Name] = c
	}
	for name, want := range map[string]struct {
		path     string
		httpOnly bool
		maxAge   int
	}{"accessToken": {"/", true, 900}, "refreshToken": {"/auth", true, 2592000}, "csrfToken": {"/", false, 2592000}} {
		c := got[name]
		if c == nil {
			t.Fatalf("no %s cookie", name)
		}
		if c.Path != want.path || c.HttpOnly != want.httpOnly || c.MaxAge <= 0 || c.MaxAge > want.maxAge || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
			t.Errorf("%s: %+v", name, c)
		}
		if len(c.String()) > 4096 {
			t.Errorf("%s longer than 4096 bytes", name)
		}
	}
}

// TestSecurity_55_57_CSRFAndCORS: cookie-driven state changes need our origin and the CSRF
// token; GET logout is 405; CORS answers only allowed origins.
func TestSecurity_55_57_CSRFAndCORS(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	r := d.browserLogin(t, c, userNoEmail, "profile_nickname")
	readBody(t, r)
	csrf := d.cookie(c, "/", "csrfToken")
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no origin", map[string]string{"X-CSRF-Token": csrf}},
		{"evil origin", map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf}},
		{"null origin", map[string]string{"Origin": "null", "X-CSRF-Token": csrf}},
		{"no token", map[string]string{"Origin": d.BaseURL}},
		{"wrong token", map[string]string{"Origin": d.BaseURL, "X-CSRF-Token": "x" + csrf}},
	} {
		for _, path := range []string{"/auth/token/refresh", "/auth/logout"} {
			r := postJSON(t, c, d.BaseURL+path, nil, tc.hdr)
			readBody(t, r)
			if r.StatusCode != 403 {
				t.Errorf("%s %s: %d, want 403", tc.name, path, r.StatusCode)
			}
		}
	}
	// Still signed in: nothing rotated or revoked.
	if r, _ := getJSON(t, c, d.BaseURL+"/auth/me", ""); r.StatusCode != 200 {
		t.Fatalf("after refused requests /auth/me = %d", r.StatusCode)
	}
	r, _ = c.Get(d.BaseURL + "/auth/logout")
	readBody(t, r)
	if r.StatusCode != 405 || r.Header.Get("Allow") == "" {
		t.Errorf("GET /auth/logout: %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
	// CORS.
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", d.BaseURL+"/auth/token/refresh", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, r)
		return r
	}
	if r := pre("https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from evil origin allowed: %v", r.Header)
	}
	if r := pre("null"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from null origin allowed")
	}
	if r := pre("http://localhost:3000"); r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight from allowed origin: %d %v", r.StatusCode, r.Header)
	}
}

// TestSecurity_58_LoserKeepsCookie: a late refresh with an old token does not clear cookies.
func TestSecurity_58_LoserKeepsCookie(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_REFRESH_GRACE": "0s"})
	b := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))
	rt := b["token"].(map[string]any)["refresh"].(string)
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
	readBody(t, r)
	r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
	readBody(t, r)
	if r.StatusCode != 400 || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("late refresh: %d, Set-Cookie %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
}

// TestSecurity_74_75_BadInput: every malformed request gets a clear 4xx, never a 500.
func TestSecurity_74_75_BadInput(t *testing.T) {
	d := startDev(t, nil)
	send := func(path, ctype, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", d.BaseURL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := readBody(t, r)
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("%s: %d non-JSON error %.200s", path, r.StatusCode, raw)
		}
		return r.StatusCode, m
	}
	big := `{"refresh":"` + strings.Repeat("a", 1<<20) + `"}`
	cases := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"74 oversized", "/auth/token/refresh", "application/json", big, 413, "request_too_large"},
		{"74 oversized token", "/auth/kakao/token", "application/json", big, 413, "request_too_large"},
		{"truncated", "/auth/token/refresh", "application/json", `{"refresh":`, 400, "invalid_request"},
		{"two objects", "/auth/token/refresh", "application/json", `{}{}`, 400, "invalid_request"},
		{"wrong type", "/auth/token/refresh", "application/json", `{"refresh":123}`, 400, "invalid_request"},
		{"unknown field", "/auth/token/refresh", "application/json", `{"refresh_token":"x"}`, 400, "invalid_request"},
		{"array", "/auth/kakao/token", "application/json", `{"code":["a","b"],"redirect_uri":"x"}`, 400, "invalid_request"},
		{"NUL", "/auth/kakao/token", "application/json", `{"code":"a\u0000b","redirect_uri":"` + spaRedirect + `"}`, 400, "invalid_request"},
		{"form", "/auth/token/refresh", "application/x-www-form-urlencoded", "refresh=x", 415, "unsupported_media"},
		{"text", "/auth/kakao/token", "text/plain", `{"code":"x"}`, 415, "unsupported_media"},
		{"no type", "/auth/token/verify", "", `{"token":"x"}`, 415, "unsupported_media"},
		{"empty code", "/auth/kakao/token", "application/json", `{"code":"","redirect_uri":"` + spaRedirect + `"}`, 400, "invalid_request"},
		{"redirect not allowed", "/auth/kakao/token", "application/json", `{"code":"x","redirect_uri":"https://evil.example/cb"}`, 400, "invalid_request"},
		{"bad verifier", "/auth/kakao/token", "application/json", `{"code":"x","redirect_uri":"` + spaRedirect + `","code_verifier":"short"}`, 400, "invalid_request"},
		{"garbage token", "/auth/token/verify", "application/json", `{"token":"a.b.c"}`, 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, m := send(tc.path, tc.ctype, tc.body)
			if st != tc.status || m["error"] != tc.code || m["error_description"] == "" {
				t.Fatalf("got %d %v, want %d %s", st, m, tc.status, tc.code)
			}
		})
	}
	// Unknown paths and methods answer JSON too.
	r, m := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/nope", "")
	if r.StatusCode != 404 || m["error"] != "not_found" {
		t.Errorf("unknown path: %d %v", r.StatusCode, m)
	}
	r, m = getJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", "")
	if r.StatusCode != 405 || m["error"] != "method_not_allowed" || r.Header.Get("Allow") == "" {
		t.Errorf("GET refresh: %d %v", r.StatusCode, m)
	}
	// English by Accept-Language.
	req, _ := http.NewRequest("GET", d.BaseURL+"/auth/me", nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	rr, _ := http.DefaultClient.Do(req)
	var em map[string]any
	json.Unmarshal([]byte(readBody(t, rr)), &em)
	if rr.StatusCode != 401 || rr.Header.Get("WWW-Authenticate") == "" || em["error"] != "unauthorized" {
		t.Errorf("/auth/me without token: %d %v", rr.StatusCode, em)
	}
}

func TestSecurity_76_HugeHeaders(t *testing.T) {
	d := startDev(t, nil)
	req, _ := http.NewRequest("GET", d.BaseURL+"/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 100<<10))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 431 {
		t.Fatalf("100 KB Authorization: %d, want 431", r.StatusCode)
	}
}

// TestSecurity_82_86_KakaoFaults: Kakao outages answer 502/503/504, never 401 or 500, and
// nothing is written.
func TestSecurity_82_86_KakaoFaults(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_KAKAO_TIMEOUT": "1s"})
	cases := []struct {
		name     string
		endpoint string
		fault    map[string]any
		status   int
		code     string
	}{
		{"82 hang", "/oauth/token", map[string]any{"hang": true}, 504, "kakao_timeout"},
		{"83 5xx", "/oauth/token", map[string]any{"status": 503}, 503, "kakao_unavailable"},
		{"83 html", "/oauth/token", map[string]any{"html": true, "status": 502}, 503, "kakao_unavailable"},
		{"84 truncated", "/oauth/token", map[string]any{"truncated_json": true}, 502, "kakao_error"},
		{"85 huge body", "/oauth/token", map[string]any{"huge_body": true}, 502, "kakao_error"},
		{"86 jwks outage cold", "/.well-known/jwks.json", map[string]any{"status": 500}, 503, "kakao_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d.setFault(t, tc.endpoint, tc.fault)
			defer func() {
				req, _ := http.NewRequest("DELETE", d.EmulatorURL+"/_emulator/faults", nil)
				r, _ := http.DefaultClient.Do(req)
				readBody(t, r)
			}()
			b, _ := json.Marshal(map[string]string{"code": d.mintCode(t, 4217730412856391027), "redirect_uri": spaRedirect})
			r, err := http.Post(d.BaseURL+"/auth/kakao/token", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, r)
			if r.StatusCode != tc.status || m["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", r.StatusCode, m, tc.status, tc.code)
			}
			if len(r.Cookies()) != 0 {
				t.Errorf("cookies set on failure: %v", r.Cookies())
			}
		})
	}
	// After the faults, the user 4217730412856391027 logs in for the first time: nothing was
	// half-written by the failed attempts.
	// A failed JWKS fetch is retried after a short back-off (not the full cooldown), so the
	// first login after the outage may still be told to retry.
	var b map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391027), "redirect_uri": spaRedirect}, nil)
		b = decode(t, r)
		if r.StatusCode != 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if b["created"] != true {
		t.Fatalf("first successful login after faults: %v", b)
	}
}

// TestSecurity_79_80_RateLimit: a burst from one IP is cut off with 429 and Retry-After;
// X-Forwarded-For does not reset it.
func TestSecurity_79_80_RateLimit(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_RATE_LIMITS": "30/1m"})
	var limited *http.Response
	for i := 0; i < 40 && limited == nil; i++ {
		req, _ := http.NewRequest("POST", d.BaseURL+"/auth/token/refresh", strings.NewReader(`{"refresh":"kar_guess"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, r)
		switch {
		case i < 30 && r.StatusCode != 400:
			t.Fatalf("request %d: %d, want 400 (a guess)", i, r.StatusCode)
		case r.StatusCode == 429:
			limited = r
		}
	}
	// The 31st is refused unless a token came back meanwhile (one every 2 s): by the 40th, surely.
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("no 429 with Retry-After after the burst of 30")
	}
	// Another route has its own budget.
	if r, _ := getJSON(t, http.DefaultClient, d.BaseURL+"/healthz", ""); r.StatusCode != 200 {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
}

// TestSecurity_53_LogoutWithRefreshBody: a script holding only its refresh token ends that
// session by posting it; afterwards the token is dead, and an unknown token still answers 204.
func TestSecurity_53_LogoutWithRefreshBody(t *testing.T) {
	d := startDev(t, nil)
	b := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))
	tok := b["token"].(map[string]any)
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/logout", map[string]string{"refresh": tok["refresh"].(string)}, nil)
	readBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("logout with refresh body: %d", r.StatusCode)
	}
	if r, _ := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", tok["access"].(string)); r.StatusCode != 401 {
		t.Fatalf("access token after logout: %d, want 401", r.StatusCode)
	}
	r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": tok["refresh"].(string)}, nil)
	if m := decode(t, r); r.StatusCode != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", r.StatusCode, m)
	}
	r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/logout", map[string]string{"refresh": "kar_unknown"}, nil)
	readBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("logout with an unknown refresh token: %d", r.StatusCode)
	}
}

// TestSecurity_46_GraceReplayLimit: within the grace period a rotated refresh token answers the
// same successor only KAKAOAUTH_REFRESH_GRACE_MAX times; the next replay is 400 invalid_grant,
// and the session lives on (the holder of the successor is not logged out).
func TestSecurity_46_GraceReplayLimit(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_REFRESH_GRACE_MAX": "2", "KAKAOAUTH_REFRESH_GRACE": "1m"})
	_, rt0, _ := d.sdkSignIn(t, 4217730412856391025)
	refresh := func(rt string) (int, map[string]any) {
		r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
		return r.StatusCode, decode(t, r)
	}
	st, b := refresh(rt0)
	if st != 200 {
		t.Fatalf("first refresh: %d %v", st, b)
	}
	rt1 := b["token"].(map[string]any)["refresh"].(string)
	for i := range 2 {
		st, b := refresh(rt0)
		if st != 200 || b["token"].(map[string]any)["refresh"] != rt1 {
			t.Fatalf("grace replay %d: %d %v, want 200 with the same successor", i+1, st, b)
		}
	}
	st, b = refresh(rt0)
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("third grace replay: %d %v, want 400 invalid_grant", st, b)
	}
	st, b = refresh(rt1)
	if st != 200 {
		t.Fatalf("successor after the refused replay: %d %v, want 200 (the session is not revoked)", st, b)
	}
	metrics := readBody(t, do(t, http.DefaultClient, "GET", d.BaseURL+"/metrics", nil, ""))
	if !strings.Contains(metrics, `kakaoauth_refreshes_total{outcome="grace_exceeded"} 1`) {
		t.Errorf("metrics do not count the refused replay:\n%s", grepLines(metrics, "kakaoauth_refreshes_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
