package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// TestE2E_DevKakaoLogoutRedirectAndDoctor runs `kakaoauth dev` with KAKAOAUTH_KAKAO_LOGOUT=
// redirect: dev's emulator has the logout redirect URI registered, so a browser's logout goes
// through Kakao's /oauth/logout and back to the signed-out page; and `kakaoauth doctor` finds
// nothing wrong with dev's configuration against dev's emulator.
func TestE2E_DevKakaoLogoutRedirectAndDoctor(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_KAKAO_LOGOUT": "redirect", "KAKAOAUTH_KAKAO_SCOPES": "account_email"})
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, d.BrowserLogin(t, c, servertest.UserWithEmail, "profile_nickname", "account_email"))
	var viaKakao bool
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		viaKakao = viaKakao || strings.HasPrefix(req.URL.String(), d.EmulatorURL+"/oauth/logout")
		return nil
	}
	r := servertest.Do(t, c, "POST", d.BaseURL+"/auth/logout", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": d.BaseURL, "Accept": "text/html",
	}, url.Values{"csrf": {d.Cookie(c, "/", "csrfToken")}}.Encode())
	servertest.ReadBody(t, r)
	if !viaKakao || r.StatusCode != 200 || r.Request.URL.Query().Get("result") != "signed-out" {
		t.Errorf("dev logout: via Kakao %v, ended %d at %s", viaKakao, r.StatusCode, r.Request.URL)
	}

	app := kakaotest.DefaultApp()
	env := map[string]string{
		"KAKAOAUTH_PUBLIC_URL": d.BaseURL, "KAKAOAUTH_KAKAO_AUTH_URL": d.EmulatorURL, "KAKAOAUTH_KAKAO_API_URL": d.EmulatorURL,
		"KAKAOAUTH_KAKAO_CLIENT_ID": app.RESTKey, "KAKAOAUTH_KAKAO_CLIENT_SECRET": app.ClientSecret,
		"KAKAOAUTH_KAKAO_ADMIN_KEY": app.AdminKey, "KAKAOAUTH_KAKAO_APP_ID": "1234567",
		"KAKAOAUTH_KAKAO_SCOPES": "account_email", "KAKAOAUTH_KAKAO_LOGOUT": "redirect",
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"kakaoauth", "doctor", "-dev"}, environ(env), &out, &errb); err != nil {
		t.Errorf("doctor against dev: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "No problems found") {
		t.Errorf("doctor output:\n%s", out.String())
	}
}
