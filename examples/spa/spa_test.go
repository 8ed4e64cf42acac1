package spa_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kakaoauth/kakaoauth/examples/spa"
	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// The SPA in a real browser (Debian's Chromium, headless) against a real kakaoauth with the
// Kakao emulator as Kakao: the page is served by httptest on its own 127.0.0.1 port, another
// origin than kakaoauth's, which allows it through KAKAOAUTH_ALLOWED_ORIGINS and
// KAKAOAUTH_REDIRECT_URIS. The tests skip without Chromium or axe-core, and fail instead when
// CI is set (package browsertest).

// spaSetup is kakaoauth, its emulator and the SPA on another origin.
type spaSetup struct {
	server *servertest.Server
	url    string // the SPA's origin
}

func startSPA(t *testing.T) spaSetup {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://" + ts.Listener.Addr().String()
	redirect := origin + "/kakao/callback"
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.AllowedOrigins = append(c.AllowedOrigins, origin)
		c.RedirectURIs = append(c.RedirectURIs, redirect)
	}))
	ts.Config.Handler = spa.Handler(spa.Config{
		ServerURL: s.BaseURL, KakaoAuthURL: s.EmulatorURL, ClientID: kakaotest.DefaultApp().RESTKey,
		RedirectURI: redirect, Scope: "openid",
	})
	ts.Start()
	t.Cleanup(ts.Close)
	return spaSetup{server: s, url: origin}
}

// waitFor polls the JavaScript condition cond in the current page until it holds.
// A navigation while it polls (the page loading its redirect target) destroys the JavaScript
// context the poll runs in; that is retried, not a failure.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		gone := strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "context was destroyed")
		if !gone || time.Now().After(deadline) {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ' ' + document.body.innerText`))
			t.Fatalf("waiting for %s (%s): %v\npage: %.800s", what, cond, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text is the trimmed text of the element with id.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.getElementById(%q)?.textContent || '').trim()`, id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return s
}

// regionHas is a condition: the live region of role contains want.
func regionHas(role, want string) string {
	return fmt.Sprintf(`(document.querySelector('[role=%s]')?.textContent || '').includes(%q)`, role, want)
}

// headingFocused is a condition: the h1 has the focus and says want.
func headingFocused(want string) string {
	return fmt.Sprintf(`document.activeElement && document.activeElement.id === 'page-heading' && document.activeElement.textContent.includes(%q)`, want)
}

// audit runs axe-core on the page at 1280px and 320px, checks that it reflows and kept its
// CSP, and leaves the viewport at 1280px.
func audit(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	for _, width := range []int64{1280, 320} {
		if err := browsertest.SetViewport(ctx, width, "", ""); err != nil {
			t.Fatalf("%s: viewport: %v", page, err)
		}
		vs, err := browsertest.RunAxe(ctx, axe)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, v := range vs {
			t.Errorf("%s at %dpx: axe violation %s", page, width, v)
		}
		if sw, _, err := browsertest.Overflow(ctx); err != nil || sw > width {
			t.Errorf("%s at %dpx: scrollWidth %d (%v): the page does not reflow", page, width, sw, err)
		}
	}
	if csp, err := browsertest.CSPViolations(ctx); err != nil || len(csp) > 0 {
		t.Errorf("%s: Content-Security-Policy violations %v (%v)", page, csp, err)
	}
	if err := browsertest.SetViewport(ctx, 1280, "", ""); err != nil {
		t.Fatalf("%s: viewport: %v", page, err)
	}
}

// tabAndPress moves the focus with Tab to the button with id and presses Enter on it.
func tabAndPress(t *testing.T, ctx context.Context, id string, navigates bool) []browsertest.Focused {
	t.Helper()
	seq, err := browsertest.TabTo(ctx, 30, func(f browsertest.Focused) bool { return f.ID == id })
	if err != nil {
		t.Fatalf("Tab to #%s: %v", id, err)
	}
	if err := browsertest.Press(ctx, browsertest.KeyEnter, navigates); err != nil {
		t.Fatalf("Enter on #%s: %v", id, err)
	}
	return seq
}

// consentByKeyboard answers the emulator's consent page with keys only: Tab into the group
// of test users, arrow down to user and select it with Space, then Tab to "agree" and press
// Enter.
func consentByKeyboard(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	f, err := browsertest.TabTo(ctx, 30, func(f browsertest.Focused) bool { return f.Type == "radio" })
	if err != nil {
		t.Fatalf("consent page: Tab to the test users: %v", err)
	}
	for at := f[len(f)-1]; at.Value != user; {
		if err := browsertest.Press(ctx, kb.ArrowDown, false); err != nil {
			t.Fatal(err)
		}
		next, err := browsertest.ActiveElement(ctx)
		if err != nil || next.Value == f[len(f)-1].Value || next.Type != "radio" {
			t.Fatalf("consent page: arrow down went from %s to %s (%v), not to the user %s", at, next, err, user)
		}
		at = next
	}
	if err := browsertest.Press(ctx, browsertest.KeySpace, false); err != nil {
		t.Fatal(err)
	}
	if _, err := browsertest.TabTo(ctx, 30, func(f browsertest.Focused) bool { return f.Tag == "BUTTON" && f.Value == "agree" }); err != nil {
		t.Fatalf("consent page: Tab to agree: %v", err)
	}
	if err := browsertest.Press(ctx, browsertest.KeyEnter, true); err != nil {
		t.Fatalf("consent page: Enter on agree: %v", err)
	}
}

// refreshCookie is the refresh cookie the browser holds for kakaoauth ("" if none).
func refreshCookie(t *testing.T, ctx context.Context, s *servertest.Server) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.BaseURL + "/auth/token/refresh"}})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == s.Config.RefreshCookie {
			return c.Value
		}
	}
	return ""
}

func startBrowser(t *testing.T) (context.Context, string) {
	t.Helper()
	browser := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	tab := browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9")
	return browsertest.Timeout(t, tab, 3*time.Minute), axe
}

// TestSPA_KeyboardFlow walks the whole SPA flow with the keyboard alone: the Kakao button, the
// emulator's consent page, back on the SPA with the code (user shown, focus on the h1), a
// refresh with the cookie and the CSRF header (a new access token), GET /auth/me with the
// Bearer token, and logout (signed out, the session's refresh token refused), with axe-core on
// the page signed out and signed in.
func TestSPA_KeyboardFlow(t *testing.T) {
	browser := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	e := startSPA(t)
	for _, u := range []struct{ name, id, nickname, email string }{
		{"with email", servertest.UserWithEmail, "김민준", "minjun.kim@example.com"},
		{"without email", servertest.UserNoEmail, "이서연", "없음 none"},
	} {
		t.Run(u.name, func(t *testing.T) {
			tab := browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9")
			keyboardFlow(t, browsertest.Timeout(t, tab, 3*time.Minute), axe, e, u.id, u.nickname, u.email)
		})
	}
}

// keyboardFlow is TestSPA_KeyboardFlow for one emulator user, in a fresh tab.
func keyboardFlow(t *testing.T, ctx context.Context, axe string, e spaSetup, user, nickname, email string) {
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/")); err != nil {
		t.Fatal(err)
	}
	audit(t, ctx, axe, "signed out")

	// Tab order from the top: the skip link, then the Kakao button.
	seq := tabAndPress(t, ctx, "login", true)
	if len(seq) != 2 || seq[0].Class != "skip-link" {
		t.Errorf("Tab went %v before the Kakao button, want the skip link then it", seq)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, e.server.EmulatorURL+"/oauth/authorize?") ||
		!strings.Contains(loc, "code_challenge_method=S256") || !strings.Contains(loc, "nonce=") || !strings.Contains(loc, "state=") {
		t.Fatalf("the Kakao button led to %s, want the emulator's authorize URL with PKCE S256, state and nonce", loc)
	}
	consentByKeyboard(t, ctx, user)

	// Back on the SPA: signed in, focus on the h1, the user shown, code and state gone from the URL.
	waitFor(t, ctx, "the signed-in heading to take the focus", headingFocused("로그인되었습니다"))
	waitFor(t, ctx, "the login result", regionHas("status", "로그인했습니다: "+nickname))
	if got := text(t, ctx, "user-nickname"); got != nickname {
		t.Errorf("nickname %q, want %q", got, nickname)
	}
	if got := text(t, ctx, "user-email"); got != email {
		t.Errorf("email %q, want %q", got, email)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "code=") || strings.Contains(loc, "state=") {
		t.Errorf("address bar still %s, want code and state removed", loc)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Title()); !strings.HasPrefix(title, "로그인되었습니다") {
		t.Errorf("title %q, want it to start with the h1's 로그인되었습니다", title)
	}
	audit(t, ctx, axe, "signed in")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('page-heading').focus()`)); err != nil {
		t.Fatal(err)
	}

	// Refresh with the cookie and the X-CSRF-Token header: a new access token.
	jti := text(t, ctx, "token-jti")
	if jti == "" {
		t.Fatal("no token id shown after the login")
	}
	oldRefresh := refreshCookie(t, ctx, e.server)
	seq = tabAndPress(t, ctx, "refresh", false)
	if len(seq) != 1 {
		t.Errorf("from the h1, Tab went %v before the refresh button, want it first", seq)
	}
	waitFor(t, ctx, "the refresh result", regionHas("status", "새 토큰을 받았습니다"))
	if got := text(t, ctx, "token-jti"); got == jti || got == "" {
		t.Errorf("token id after the refresh %q, want a new one (was %q)", got, jti)
	}
	if got := refreshCookie(t, ctx, e.server); got == "" || got == oldRefresh {
		t.Errorf("refresh cookie after the refresh %q, want a rotated one", got)
	}

	// The Bearer variant: GET /auth/me with the access token and no cookies.
	tabAndPress(t, ctx, "me", false)
	waitFor(t, ctx, "the Bearer result", regionHas("status", "Bearer 토큰 확인 성공 (GET /auth/me): "+nickname))
	if alert := text(t, ctx, "alert"); alert != "" {
		t.Errorf("alert %q after the Bearer call, want none", alert)
	}

	// Logout with the cookies and the CSRF header: signed out, the session ended.
	refresh := refreshCookie(t, ctx, e.server)
	tabAndPress(t, ctx, "logout", false)
	waitFor(t, ctx, "the signed-out heading to take the focus", headingFocused("로그아웃되었습니다"))
	waitFor(t, ctx, "the logout result", regionHas("status", "로그아웃했습니다"))
	if got := refreshCookie(t, ctx, e.server); got != "" {
		t.Errorf("refresh cookie %q after the logout, want it cleared", got)
	}
	if status, body := e.server.Refresh(t, refresh); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh with the logged-out session's token: %d %v, want 400 invalid_grant", status, body)
	}
	// The page's own refresh call now fails too, and says so in the alert region.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('refresh').click()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the failed refresh in the alert region", regionHas("alert", "토큰을 새로 받지 못했습니다"))
	audit(t, ctx, axe, "signed out after logout")
}

// TestSPA_2_ForgedState returns to the SPA with a state it never issued: the page refuses it
// in the alert region, never posts the code (Kakao's token endpoint gets no call), and takes
// code and state out of the address bar.
func TestSPA_2_ForgedState(t *testing.T) {
	ctx, axe := startBrowser(t)
	e := startSPA(t)
	forged := strings.Repeat("A", 43)

	for _, tc := range []struct{ name, start string }{
		{"no login started", ""},
		{"another login started", "login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.server.ResetCalls(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/")); err != nil {
				t.Fatal(err)
			}
			if tc.start != "" {
				tabAndPress(t, ctx, tc.start, true) // the page stores a state and goes to Kakao
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/kakao/callback?code="+e.server.MintCode(t, 4217730412856391024)+"&state="+forged)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the refusal", regionHas("alert", "state 값이 이 탭에서 시작한 로그인과 다릅니다"))
			waitFor(t, ctx, "the error heading to take the focus", headingFocused("오류: 로그인 요청을 확인할 수 없습니다"))
			if n := e.server.EmulatorCalls(t, "/oauth/token"); n != 0 {
				t.Errorf("Kakao's token endpoint got %d calls, want 0: the code must not be posted", n)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "code=") {
				t.Errorf("address bar still %s, want code and state removed", loc)
			}
			if c := refreshCookie(t, ctx, e.server); c != "" {
				t.Errorf("refresh cookie %q set, want no session", c)
			}
			audit(t, ctx, axe, "forged state")
		})
	}
}

// TestSPA_ServerErrorShown returns to the SPA with the right state but a code Kakao never
// issued: kakaoauth refuses it, and the page shows kakaoauth's error in the alert region.
func TestSPA_ServerErrorShown(t *testing.T) {
	ctx, _ := startBrowser(t)
	e := startSPA(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/")); err != nil {
		t.Fatal(err)
	}
	tabAndPress(t, ctx, "login", true)
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new URL(location.href).searchParams.get('state')`))
	if err != nil || state == "" {
		t.Fatalf("no state in the authorize URL (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/kakao/callback?code=never-issued&state="+state)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "kakaoauth's refusal", regionHas("alert", "kakaoauth가 로그인을 거부했습니다"))
	if alert := text(t, ctx, "alert"); !strings.Contains(alert, "invalid_grant") || !strings.Contains(alert, "HTTP 400") {
		t.Errorf("alert %q, want kakaoauth's error code invalid_grant and its status", alert)
	}
	if status := text(t, ctx, "status"); status != "" {
		t.Errorf("status %q, want none", status)
	}
}

// TestHandler checks what the page's server sends: the page at / and at the callback path
// with the configuration in data attributes, its CSP naming kakaoauth as the only place to
// connect to, and 404 for anything else.
func TestHandler(t *testing.T) {
	h := spa.Handler(spa.Config{ServerURL: "http://127.0.0.1:8080/", KakaoAuthURL: "http://127.0.0.1:9911",
		ClientID: "key", RedirectURI: "http://127.0.0.1:3000/kakao/callback", Scope: "openid"})
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", 200, `data-server-url="http://127.0.0.1:8080"`},
		{"/kakao/callback?code=x&state=y", 200, `data-redirect-uri="http://127.0.0.1:3000/kakao/callback"`},
		{"/app.js", 200, "code_challenge_method"},
		{"/style.css", 200, ".kakao-login"},
		{"/spa.go", 404, ""},
		{"/index.html", 404, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
			t.Errorf("GET %s: %d, body contains %q: %v; want %d", tc.path, rec.Code, tc.wantBody, strings.Contains(rec.Body.String(), tc.wantBody), tc.wantStatus)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src http://127.0.0.1:8080;") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q, want connect-src kakaoauth only and script-src 'self'", tc.path, csp)
		}
	}

	bad := spa.Handler(spa.Config{ServerURL: "127.0.0.1:8080", KakaoAuthURL: "http://127.0.0.1:9911", ClientID: "key", RedirectURI: "http://127.0.0.1:3000/cb"})
	rec := httptest.NewRecorder()
	bad.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "ServerURL") {
		t.Errorf("misconfigured handler answered %d %q, want the setting named", rec.Code, rec.Body.String())
	}
}
