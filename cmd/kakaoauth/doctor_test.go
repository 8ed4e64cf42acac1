package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const doctorPublic = "https://login.example.com"

// doctorEnv serves an emulator for app (changed by mod) and returns the environment of a
// configuration that matches it.
func doctorEnv(t *testing.T, mod func(*kakaotest.App)) (*kakaotest.Server, map[string]string) {
	t.Helper()
	app := kakaotest.DefaultApp()
	app.RedirectURIs = append(app.RedirectURIs, doctorPublic+"/auth/kakao/callback", "https://app.example.com/kakao/callback")
	app.LogoutRedirectURIs = append(app.LogoutRedirectURIs, doctorPublic+"/auth/kakao/logout/callback")
	app.ConsentItems = append(app.ConsentItems, kakaotest.ConsentItem{ID: kakaotest.ScopeGender})
	if mod != nil {
		mod(&app)
	}
	srv := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
	def := kakaotest.DefaultApp()
	return srv, map[string]string{
		"KAKAOAUTH_PUBLIC_URL":          doctorPublic,
		"KAKAOAUTH_SECRET":              strings.Repeat("doctor-secret-", 3),
		"KAKAOAUTH_KAKAO_CLIENT_ID":     def.RESTKey,
		"KAKAOAUTH_KAKAO_CLIENT_SECRET": def.ClientSecret,
		"KAKAOAUTH_KAKAO_ADMIN_KEY":     def.AdminKey,
		"KAKAOAUTH_KAKAO_APP_ID":        "1234567",
		"KAKAOAUTH_KAKAO_AUTH_URL":      srv.URL,
		"KAKAOAUTH_KAKAO_API_URL":       srv.URL,
		"KAKAOAUTH_KAKAO_SCOPES":        "account_email,gender",
		"KAKAOAUTH_REDIRECT_URIS":       "https://app.example.com/kakao/callback",
		"KAKAOAUTH_KAKAO_LOGOUT":        "redirect",
	}
}

func runDoctorWith(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"kakaoauth", "doctor"}, args...), environ(env), &out, &errb)
	return out.String(), err
}

func TestDoctor_GoodConfiguration(t *testing.T) {
	srv, env := doctorEnv(t, nil)
	tok, err := srv.IssueAccessToken(4217730412856391024, srv.App().RESTKey)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runDoctorWith(t, env, "-access-token", tok.AccessToken)
	if err != nil {
		t.Fatalf("doctor on a good configuration: %v\n%s", err, out)
	}
	for _, want := range []string{"REST API 키와 클라이언트 시크릿이 맞습니다", "OpenID Connect is on",
		"redirect URI " + doctorPublic + "/auth/kakao/callback is registered", "https://app.example.com/kakao/callback is registered",
		"logout redirect URI " + doctorPublic + "/auth/kakao/logout/callback is registered", "The admin key is accepted",
		"App ID 1234567 matches", "consent item account_email can be asked for", "consent item gender can be asked for",
		"문제 없음. No problems found."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[문제 FAIL]") || strings.Contains(out, srv.App().ClientSecret) || strings.Contains(out, srv.App().AdminKey) {
		t.Errorf("a good configuration reports a problem or prints a secret:\n%s", out)
	}
	// It changed nothing at Kakao: no code spent on a user, no one logged out.
	if n := srv.Calls("/v1/user/logout") + srv.Calls("/v1/user/unlink"); n != 0 {
		t.Errorf("doctor made %d logout/unlink calls", n)
	}
}

func TestDoctor_BrokenConfigurations(t *testing.T) {
	tests := []struct {
		name    string
		app     func(*kakaotest.App)
		env     map[string]string
		finding string // in the output
		fix     string // in the output
	}{
		{name: "wrong REST API key", env: map[string]string{"KAKAOAUTH_KAKAO_CLIENT_ID": "not-the-rest-key"},
			finding: "The REST API key is wrong (KOE101)", fix: "[앱 설정] > [앱 키]의 REST API 키"},
		{name: "wrong client secret", env: map[string]string{"KAKAOAUTH_KAKAO_CLIENT_SECRET": "wrong-secret"},
			finding: "The client secret is wrong (KOE010)", fix: "[카카오 로그인] > [보안]"},
		{name: "client secret missing", env: map[string]string{"KAKAOAUTH_KAKAO_CLIENT_SECRET": ""},
			finding: "the configuration has none (KOE010)", fix: "KAKAOAUTH_KAKAO_CLIENT_SECRET"},
		{name: "callback not registered", app: func(a *kakaotest.App) { a.RedirectURIs = a.RedirectURIs[:2] },
			finding: "The redirect URI " + doctorPublic + "/auth/kakao/callback is not registered (KOE006)", fix: "[카카오 로그인] > [리다이렉트 URI]에 " + doctorPublic + "/auth/kakao/callback"},
		{name: "SPA redirect not registered", env: map[string]string{"KAKAOAUTH_REDIRECT_URIS": "https://other.example.com/cb"},
			finding: "The redirect URI https://other.example.com/cb is not registered (KOE006)", fix: "Register https://other.example.com/cb exactly"},
		{name: "OIDC off in the console", app: func(a *kakaotest.App) { a.OIDC = false },
			finding: "OpenID Connect is off for the app", fix: "[OpenID Connect 활성화]"},
		{name: "logout redirect not registered", app: func(a *kakaotest.App) { a.LogoutRedirectURIs = nil },
			finding: "is not registered (KOE007)", fix: "[카카오 로그인] > [로그아웃 리다이렉트 URI]에 " + doctorPublic + "/auth/kakao/logout/callback"},
		{name: "wrong admin key", env: map[string]string{"KAKAOAUTH_KAKAO_ADMIN_KEY": "wrong-admin-key"},
			finding: "The admin key is wrong (-401)", fix: "KAKAOAUTH_KAKAO_ADMIN_KEY"},
		{name: "api logout without admin key", env: map[string]string{"KAKAOAUTH_KAKAO_ADMIN_KEY": "", "KAKAOAUTH_KAKAO_LOGOUT": "api"},
			finding: "No admin key", fix: "[앱 설정] > [앱 키]의 어드민 키"},
		{name: "app id missing", env: map[string]string{"KAKAOAUTH_KAKAO_APP_ID": ""},
			finding: "No app ID", fix: "KAKAOAUTH_KAKAO_APP_ID"},
		{name: "consent item not set", env: map[string]string{"KAKAOAUTH_KAKAO_SCOPES": "account_email,birthday"},
			finding: "The consent item birthday is not set in the app (KOE205)", fix: "[카카오 로그인] > [동의항목]에서 birthday"},
		{name: "Kakao unreachable", env: map[string]string{"KAKAOAUTH_KAKAO_AUTH_URL": "http://127.0.0.1:1", "KAKAOAUTH_KAKAO_API_URL": "http://127.0.0.1:1"},
			finding: "Kakao cannot be reached", fix: "KAKAOAUTH_KAKAO_AUTH_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, env := doctorEnv(t, tt.app)
			for k, v := range tt.env {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			out, err := runDoctorWith(t, env)
			if err == nil {
				t.Fatalf("doctor passed a broken configuration:\n%s", out)
			}
			if !strings.Contains(out, "[문제 FAIL]") || !strings.Contains(out, tt.finding) || !strings.Contains(out, tt.fix) {
				t.Errorf("output lacks the finding %q or the fix %q:\n%s", tt.finding, tt.fix, out)
			}
		})
	}
}

func TestDoctor_WrongAppIDWithToken(t *testing.T) {
	srv, env := doctorEnv(t, nil)
	env["KAKAOAUTH_KAKAO_APP_ID"] = "7654321"
	tok, _ := srv.IssueAccessToken(4217730412856391024, srv.App().RESTKey)
	out, err := runDoctorWith(t, env, "-access-token", tok.AccessToken)
	if err == nil || !strings.Contains(out, "configured 7654321, Kakao says 1234567") || !strings.Contains(out, "KAKAOAUTH_KAKAO_APP_ID=1234567") {
		t.Errorf("wrong app id: %v\n%s", err, out)
	}
}

func TestDoctor_BadArguments(t *testing.T) {
	_, env := doctorEnv(t, nil)
	if _, err := runDoctorWith(t, env, "extra"); err == nil {
		t.Error("doctor took an extra argument")
	} else if _, ok := err.(usageError); !ok {
		t.Errorf("extra argument: %T %v, want a usage error", err, err)
	}
}
