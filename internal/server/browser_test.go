package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestBrowserFlow walks page → login → Kakao consent → callback → /auth/me → cookie refresh
// (refused without the CSRF proof or from another origin) → form logout, and a returning
// browser's login without a click.
func TestBrowserFlow(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	r := s.BrowserLogin(t, c, servertest.UserWithEmail, "profile_nickname", "profile_image", "account_email")
	page := servertest.ReadBody(t, r)
	if r.StatusCode != 200 || r.Request.URL.Path != "/" || r.Request.URL.Query().Get("result") != "signed-in" {
		t.Fatalf("after consent: %d at %s, want 200 at /?result=signed-in", r.StatusCode, r.Request.URL)
	}
	if !strings.Contains(page, "김민준") || !strings.Contains(page, `action="/auth/logout"`) {
		t.Fatalf("signed-in page lacks the nickname or the logout form: %.500s", page)
	}

	// /auth/me with the access cookie.
	_, me := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", "")
	user, _ := me["user"].(map[string]any)
	if user["kakao_id"] != servertest.UserWithEmail || user["email"] != "minjun.kim@example.com" || user["email_verified"] != true {
		t.Fatalf("/auth/me = %v", me)
	}

	// Refresh with the cookie: without the CSRF proof it is refused and nothing rotates.
	oldRefresh := s.Cookie(c, "/auth", "refreshToken")
	r = servertest.PostJSON(t, c, s.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": s.BaseURL})
	if r.StatusCode != 403 {
		t.Fatalf("cookie refresh without CSRF token: %d, want 403", r.StatusCode)
	}
	servertest.ReadBody(t, r)
	csrf := s.Cookie(c, "/", "csrfToken")
	r = servertest.PostJSON(t, c, s.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf})
	if r.StatusCode != 403 {
		t.Fatalf("cookie refresh from another origin: %d, want 403", r.StatusCode)
	}
	servertest.ReadBody(t, r)
	r = servertest.PostJSON(t, c, s.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": csrf})
	if r.StatusCode != 200 {
		t.Fatalf("cookie refresh: %d %s", r.StatusCode, servertest.ReadBody(t, r))
	}
	tok := servertest.Decode(t, r)["token"].(map[string]any)
	if newRefresh := s.Cookie(c, "/auth", "refreshToken"); newRefresh == oldRefresh || newRefresh != tok["refresh"] {
		t.Fatalf("refresh cookie not rotated to the answered token")
	}

	// Log out as a browser form would: 303 to a page that says so; then /auth/me is 401.
	csrf = s.Cookie(c, "/", "csrfToken")
	r = servertest.Do(t, servertest.NoRedirects(c), "POST", s.BaseURL+"/auth/logout", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": s.BaseURL, "Accept": "text/html",
	}, url.Values{"csrf": {csrf}}.Encode())
	servertest.ReadBody(t, r)
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/?result=signed-out") {
		t.Fatalf("form logout: %d Location %q, want 303 to /?result=signed-out", r.StatusCode, r.Header.Get("Location"))
	}
	r, _ = servertest.GetJSON(t, c, s.BaseURL+"/auth/me", "")
	if r.StatusCode != 401 {
		t.Fatalf("/auth/me after logout: %d, want 401", r.StatusCode)
	}
	// The old access token itself is refused too: its session ended.
	r = servertest.PostJSON(t, c, s.BaseURL+"/auth/token/verify", map[string]string{"token": tok["access"].(string)}, nil)
	if r.StatusCode != 401 {
		t.Fatalf("verify after logout: %d, want 401", r.StatusCode)
	}
	servertest.ReadBody(t, r)

	// A returning browser goes through Kakao without a click (prompt=none).
	r, err := c.Get(s.BaseURL + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.Request.URL.Path != "/" || r.Request.URL.Query().Get("result") != "signed-in" {
		t.Fatalf("returning login ended at %s, want /?result=signed-in", r.Request.URL)
	}
}

// consentedCallback starts a browser login in c, agrees at the emulator as the user without an
// email, and returns the callback URL Kakao sent the browser back to (not yet opened).
func consentedCallback(t *testing.T, s *servertest.Server, c *http.Client, query string) string {
	t.Helper()
	authz := s.StartLogin(t, c, query)
	r, err := c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, servertest.NoRedirects(c), r, servertest.UserNoEmail, "agree", "profile_nickname")
	servertest.ReadBody(t, r)
	return r.Header.Get("Location")
}

// getNoRedirect is one GET of u by c, not following a redirect; the body is read.
func getNoRedirect(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	r, err := servertest.NoRedirects(c).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	return r
}

// TestCallback_01_02_BadState: a callback without a state, or with a well-formed state that was
// never issued, is 400 before any call to Kakao, and starts no session.
func TestCallback_01_02_BadState(t *testing.T) {
	for _, tc := range []struct{ name, query string }{
		{"01_WithoutState", "?code=X"},
		{"02_ForgedState", "?code=X&state=" + strings.Repeat("A", 43)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t)
			c := servertest.NewBrowser(t)
			s.StartLogin(t, c, "")
			s.Emulator.ResetCalls()
			r := getNoRedirect(t, c, s.BaseURL+"/auth/kakao/callback"+tc.query)
			if r.StatusCode != 400 {
				t.Errorf("status %d, want 400", r.StatusCode)
			}
			if n := s.Emulator.Calls("/oauth/token"); n != 0 {
				t.Errorf("Kakao token endpoint called %d times, want 0", n)
			}
			for _, sc := range r.Header.Values("Set-Cookie") {
				if strings.HasPrefix(sc, "accessToken=") || strings.HasPrefix(sc, "refreshToken=") {
					t.Errorf("session cookie set: %s", sc)
				}
			}
		})
	}
}

// TestCallback_03_LoginCSRF: an attacker's completed callback URL opened in a victim's browser
// (which holds no flow cookie of that attempt) does not log the victim in.
func TestCallback_03_LoginCSRF(t *testing.T) {
	s := servertest.Start(t)
	callback := consentedCallback(t, s, servertest.NewBrowser(t), "")
	victim := servertest.NewBrowser(t)
	r := getNoRedirect(t, victim, callback)
	if r.StatusCode != 400 || s.Cookie(victim, "/", "accessToken") != "" {
		t.Fatalf("victim: %d, access cookie %q; want 400 and none", r.StatusCode, s.Cookie(victim, "/", "accessToken"))
	}
}

// TestCallback_04_Replay: a completed callback sent again, even with the flow cookie put back, is
// refused: the state was used.
func TestCallback_04_Replay(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	callback := consentedCallback(t, s, c, "")
	flow := s.Cookie(c, "/", "kakaoauth-flow")
	if r := getNoRedirect(t, c, callback); r.StatusCode != 303 {
		t.Fatalf("first callback: %d", r.StatusCode)
	}
	req, _ := http.NewRequest("GET", callback, nil)
	req.AddCookie(&http.Cookie{Name: "kakaoauth-flow", Value: flow})
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != 400 {
		t.Fatalf("replayed callback: %d, want 400", r.StatusCode)
	}
}

// TestCallback_05_ExpiredState: a callback after the flow TTL (the server's clock moved past it)
// is 400 with a page that says the login expired, and Kakao is not called.
func TestCallback_05_ExpiredState(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.FlowTTL = time.Second }))
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	flow := s.Cookie(c, "/", "kakaoauth-flow")
	s.Clock.Advance(1100 * time.Millisecond)
	req, _ := http.NewRequest("GET", s.BaseURL+"/auth/kakao/callback?code=X&state="+authz.Query().Get("state"), nil)
	req.AddCookie(&http.Cookie{Name: "kakaoauth-flow", Value: flow})
	s.Emulator.ResetCalls()
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body := servertest.ReadBody(t, r)
	if r.StatusCode != 400 || s.Emulator.Calls("/oauth/token") != 0 {
		t.Fatalf("expired state: %d, token calls %d", r.StatusCode, s.Emulator.Calls("/oauth/token"))
	}
	if !strings.Contains(body, "만료") {
		t.Errorf("expired page does not say the login expired: %.300s", body)
	}
}

// TestLogin_06_07_StateNoncePKCE: state and nonce are distinct 256-bit values; PKCE is S256
// and the verifier never appears in the URL.
func TestLogin_06_07_StateNoncePKCE(t *testing.T) {
	s := servertest.Start(t)
	seen := map[string]bool{}
	for i := 0; i < 300; i++ {
		u := s.StartLogin(t, servertest.NewBrowser(t), "")
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

// TestCallback_10_OpenRedirect: only exact allowlist entries are honoured as return targets.
func TestCallback_10_OpenRedirect(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.ReturnTo = []string{"/app", "http://localhost:3000/after"} }))
	for _, target := range []string{
		"https://evil.example", "//evil.example", `/\evil.example`, "http://localhost:3000/after.evil.example",
		"http://localhost:3000@evil.example", "http://localhost:3000/afterx", "javascript:alert(1)",
		"%2F%2Fevil.example", "/app/../evil", "/appx",
	} {
		t.Run(target, func(t *testing.T) {
			c := servertest.NewBrowser(t)
			callback := consentedCallback(t, s, c, "?return_to="+url.QueryEscape(target))
			// An extra return_to on the callback is ignored too.
			r := getNoRedirect(t, c, callback+"&return_to=https://evil.example")
			if loc := r.Header.Get("Location"); r.StatusCode != 303 || !strings.HasPrefix(loc, "/?result=signed-in") {
				t.Fatalf("return_to %q: %d to %q, want 303 to the default", target, r.StatusCode, loc)
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		c := servertest.NewBrowser(t)
		callback := consentedCallback(t, s, c, "?return_to="+url.QueryEscape("http://localhost:3000/after"))
		if loc := getNoRedirect(t, c, callback).Header.Get("Location"); loc != "http://localhost:3000/after" {
			t.Fatalf("allowed return_to: Location %q", loc)
		}
	})
}

// TestCallback_11_13_KakaoErrorAndCleanRedirect: a Kakao error with hostile text ends on a clean
// error page that does not reflect it; the callback answers no-store and no-referrer.
func TestCallback_11_13_KakaoErrorAndCleanRedirect(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	cb := s.BaseURL + "/auth/kakao/callback?error=access_denied&error_description=" + url.QueryEscape("<script>alert(1)</script>") + "&state=" + authz.Query().Get("state")
	r := getNoRedirect(t, c, cb)
	loc := r.Header.Get("Location")
	if r.StatusCode != 303 || !strings.HasPrefix(loc, "/auth/error?code=cancelled") || strings.Contains(loc, "state") {
		t.Fatalf("callback: %d Location %q", r.StatusCode, loc)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("callback headers: Cache-Control %q, Referrer-Policy %q", r.Header.Get("Cache-Control"), r.Header.Get("Referrer-Policy"))
	}
	r, err := c.Get(s.BaseURL + loc)
	if err != nil {
		t.Fatal(err)
	}
	page := servertest.ReadBody(t, r)
	if r.StatusCode != 400 || strings.Contains(page, "<script>") || !strings.Contains(page, "취소") {
		t.Fatalf("error page: %d %.300s", r.StatusCode, page)
	}
	if s.Cookie(c, "/", "accessToken") != "" {
		t.Fatal("a session was started")
	}
}

// TestLogin_SwitchAccountAfterLogout: after a logout the page offers "다른 계정으로 로그인",
// which asks Kakao with prompt=select_account instead of the returning browser's prompt=none.
func TestLogin_SwitchAccountAfterLogout(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserWithEmail))
	if u := s.StartLogin(t, c, ""); u.Query().Get("prompt") != "none" {
		t.Fatalf("a returning browser's login asks prompt=%q, want none", u.Query().Get("prompt"))
	}
	// The page a logout lands on (a browser without the access cookie).
	r, err := servertest.NewBrowser(t).Get(s.BaseURL + "/?result=signed-out")
	if err != nil {
		t.Fatal(err)
	}
	page := servertest.ReadBody(t, r)
	const link = `<a href="/auth/kakao/login?prompt=select_account">다른 계정으로 로그인</a>`
	if !strings.Contains(page, link) {
		t.Fatalf("signed-out page lacks %s:\n%.600s", link, page)
	}
	if u := s.StartLogin(t, c, "?prompt=select_account"); u.Query().Get("prompt") != "select_account" {
		t.Errorf("the link asks Kakao with prompt=%q, want select_account", u.Query().Get("prompt"))
	}
	r, err = servertest.NewBrowser(t).Get(s.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := servertest.ReadBody(t, r); strings.Contains(page, "prompt=select_account") {
		t.Errorf("the first login page offers another account; want only the Kakao button")
	}
}
