package server_test

// KAKAOAUTH_KAKAO_LOGOUT: our logout also logs the person out of Kakao, by the admin key (api)
// or through Kakao's /oauth/logout in the browser (redirect). Kakao's failure never blocks ours.

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao"
)

func startKakaoLogout(t *testing.T, mode string, registered bool) *servertest.Server {
	t.Helper()
	return servertest.Start(t, func(o *servertest.Options) {
		o.Config.KakaoLogout = mode
		if registered {
			o.Emulator.LogoutRedirectURIs = append(o.Emulator.LogoutRedirectURIs, o.Config.PublicURL.String()+app.KakaoLogoutCallbackPath)
		}
	})
}

// kakaoTokenWorks reports whether a Kakao access token is still accepted by /v2/user/me.
func kakaoTokenWorks(t *testing.T, s *servertest.Server, token string) bool {
	t.Helper()
	r := servertest.Do(t, http.DefaultClient, "GET", s.EmulatorURL+"/v2/user/me", map[string]string{"Authorization": "Bearer " + token}, "")
	servertest.ReadBody(t, r)
	return r.StatusCode == 200
}

func logoutBearer(t *testing.T, s *servertest.Server, access string) int {
	t.Helper()
	r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/logout", map[string]string{"Authorization": "Bearer " + access}, "")
	servertest.ReadBody(t, r)
	return r.StatusCode
}

func TestKakaoLogout_API(t *testing.T) {
	s := startKakaoLogout(t, app.KakaoLogoutAPI, false)
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	kakaoAccess, _ := s.SDKToken(t, user, nil)
	access, _, _ := s.SDKSignIn(t, user)
	if !kakaoTokenWorks(t, s, kakaoAccess) {
		t.Fatal("Kakao token does not work before the logout")
	}
	s.ResetCalls(t)
	if st := logoutBearer(t, s, access); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if n := s.EmulatorCalls(t, "/v1/user/logout"); n != 1 {
		t.Errorf("/v1/user/logout calls = %d, want 1", n)
	}
	if kakaoTokenWorks(t, s, kakaoAccess) {
		t.Error("Kakao still accepts the person's token after our logout with KAKAOAUTH_KAKAO_LOGOUT=api")
	}
	if st := s.MeStatus(t, access); st != http.StatusUnauthorized {
		t.Errorf("our session after logout: %d", st)
	}
}

func TestKakaoLogout_KakaoDownNeverBlocksOurs(t *testing.T) {
	s := startKakaoLogout(t, app.KakaoLogoutAPI, false)
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	for _, fault := range []map[string]any{{"status": 503}, {"html": true, "status": 502}, {"truncated_json": true}} {
		access, refresh, _ := s.SDKSignIn(t, user)
		s.SetFault(t, "/v1/user/logout", fault)
		if st := logoutBearer(t, s, access); st != http.StatusNoContent {
			t.Errorf("%v: logout %d, want 204 although Kakao failed", fault, st)
		}
		if st := s.MeStatus(t, access); st != http.StatusUnauthorized {
			t.Errorf("%v: session still active: %d", fault, st)
		}
		if st, _ := s.RefreshStatus(t, refresh); st != http.StatusBadRequest {
			t.Errorf("%v: refresh after logout: %d", fault, st)
		}
		s.ClearFaults(t)
	}
	if !strings.Contains(s.Logs.String(), "logout at Kakao failed") {
		t.Error("Kakao's failure is not logged")
	}
}

func TestKakaoLogout_OffCallsNothing(t *testing.T) {
	s := servertest.Start(t)
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	access, _, _ := s.SDKSignIn(t, user)
	s.ResetCalls(t)
	if st := logoutBearer(t, s, access); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if n := s.EmulatorCalls(t, "*"); n != 0 {
		t.Errorf("%d Kakao calls on logout with KAKAOAUTH_KAKAO_LOGOUT off", n)
	}
}

// formLogout posts the signed-in page's logout form and follows every redirect.
func formLogout(t *testing.T, s *servertest.Server, c *http.Client) *http.Response {
	t.Helper()
	return servertest.Do(t, c, "POST", s.BaseURL+"/auth/logout", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": s.BaseURL, "Accept": "text/html",
	}, url.Values{"csrf": {s.Cookie(c, "/", "csrfToken")}}.Encode())
}

func TestKakaoLogout_Redirect(t *testing.T) {
	s := startKakaoLogout(t, app.KakaoLogoutRedirect, true)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserWithEmail))
	access := s.Cookie(c, "/", "accessToken")
	var hops []string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
		return nil
	}
	r := formLogout(t, s, c)
	page := servertest.ReadBody(t, r)
	if len(hops) < 2 || hops[0] != s.EmulatorURL+"/oauth/logout" || hops[1] != s.BaseURL+app.KakaoLogoutCallbackPath {
		t.Errorf("logout went %v, want Kakao's /oauth/logout then our callback", hops)
	}
	if r.StatusCode != 200 || r.Request.URL.Query().Get("result") != "signed-out" || !strings.Contains(page, "로그아웃되었습니다") {
		t.Errorf("after the logout: %d %s", r.StatusCode, r.Request.URL)
	}
	if st := s.MeStatus(t, access); st != http.StatusUnauthorized {
		t.Errorf("our session after logout: %d", st)
	}
	// The Kakao Account session is over too: the next login needs the person again.
	c.CheckRedirect = nil
	r, _ = c.Get(s.BaseURL + "/auth/kakao/login")
	if body := servertest.ReadBody(t, r); !strings.Contains(body, `name="request"`) {
		t.Errorf("after logging out of Kakao, the login went through without the person: %s", r.Request.URL)
	}
	// Logging out everywhere comes back to the page that says so (Kakao echoes the state).
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserWithEmail))
	r = servertest.Do(t, c, "POST", s.BaseURL+"/auth/logout?all=true", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": s.BaseURL, "Accept": "text/html",
	}, url.Values{"csrf": {s.Cookie(c, "/", "csrfToken")}}.Encode())
	page = servertest.ReadBody(t, r)
	if r.Request.URL.Query().Get("result") != "signed-out-all" || !strings.Contains(page, "모든 기기에서 로그아웃되었습니다") {
		t.Errorf("logout everywhere came back to %s", r.Request.URL)
	}
}

func TestKakaoLogout_RedirectNotRegisteredKOE007(t *testing.T) {
	s := startKakaoLogout(t, app.KakaoLogoutRedirect, false)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserWithEmail))
	access := s.Cookie(c, "/", "accessToken")
	r := formLogout(t, s, c)
	body := servertest.ReadBody(t, r)
	// Kakao shows its KOE007 page; our logout is done all the same.
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "KOE007") {
		t.Errorf("unregistered logout redirect URI: %d %.200s", r.StatusCode, body)
	}
	if st := s.MeStatus(t, access); st != http.StatusUnauthorized {
		t.Errorf("our session after logout: %d", st)
	}
	// What to do about it, in Korean and English.
	if ko, en := kakao.Explain("KOE007", "ko"), kakao.Explain("KOE007", "en"); !strings.Contains(ko, "로그아웃 리다이렉트 URI") || !strings.Contains(en, "Logout redirect URI not registered") {
		t.Errorf("KOE007 explained as %q / %q", ko, en)
	}
}

func TestKakaoLogout_APINeedsAdminKey(t *testing.T) {
	cfg := servertest.Start(t).Config
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	cfg.KakaoLogout, cfg.AdminKey = app.KakaoLogoutAPI, ""
	if _, err := app.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_KAKAO_ADMIN_KEY") {
		t.Errorf("api logout without an admin key: %v", err)
	}
	cfg.KakaoLogout = "sometimes"
	if _, err := app.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_KAKAO_LOGOUT") {
		t.Errorf("unknown mode: %v", err)
	}
}
