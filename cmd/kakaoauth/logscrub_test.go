package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestLogs_NoSecrets drives the flows, their common errors and a Kakao fault with logging at
// debug level, and checks the log never holds a token, code, secret, cookie or email, while it
// does hold one line per request with its request id, route and status.
func TestLogs_NoSecrets(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_LOG_LEVEL": "debug", "KAKAOAUTH_LOG_FORMAT": "json"})
	var secrets []string

	// SPA flow, then the same code again (Kakao's KOE320 text names the code).
	code := d.spaCode(t, userWithEmail, "profile_nickname", "account_email")
	secrets = append(secrets, code)
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
	body := decode(t, r)
	tok := body["token"].(map[string]any)
	access, refresh := tok["access"].(string), tok["refresh"].(string)
	secrets = append(secrets, access, refresh)
	for _, c := range r.Cookies() {
		secrets = append(secrets, c.Value)
	}
	r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": spaRedirect}, nil)
	if r.StatusCode != 400 {
		t.Fatalf("reused code: %d", r.StatusCode)
	}
	readBody(t, r)

	// Refresh (and a reuse after it), me, verify, logout.
	r = postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := decode(t, r)
	newRefresh := b["token"].(map[string]any)["refresh"].(string)
	secrets = append(secrets, newRefresh, b["token"].(map[string]any)["access"].(string))
	getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", access)
	readBody(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/verify", map[string]string{"token": access + "x"}, nil))

	// Browser flow: state, flow cookie, session cookies.
	c := newBrowser(t)
	authz := d.startLogin(t, c, "")
	secrets = append(secrets, authz.Query().Get("state"), authz.Query().Get("nonce"), d.cookie(c, "/", "kakaoauth-flow"))
	r, err := c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = consent(t, noRedirects(c), r, userWithEmail, "agree", "profile_nickname", "account_email")
	readBody(t, r)
	loc := r.Header.Get("Location")
	secrets = append(secrets, strings.SplitN(strings.SplitN(loc, "code=", 2)[1], "&", 2)[0])
	r, err = c.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	for _, name := range []string{"accessToken", "refreshToken", "csrfToken"} {
		secrets = append(secrets, d.cookie(c, "/auth", name))
	}

	// A Kakao outage.
	d.setFault(t, "/oauth/token", map[string]any{"status": 500, "times": 1})
	readBody(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))

	secrets = append(secrets, "minjun.kim@example.com", "kakaoauth-dev-client-secret", "kakaoauth-dev-admin-key", devSecret)
	logs := d.settledLogs() // the log is written in batches
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(logs, s) {
			i := strings.Index(logs, s)
			t.Errorf("log contains a secret %.12s…: %s", s, logs[max(0, i-300):i])
		}
	}
	for _, want := range []string{`"request_id"`, `"route":"POST /auth/kakao/token"`, `"status":400`, `"status":503`, `"user_id"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if !strings.Contains(logs, "KOE320") {
		t.Errorf("log does not name Kakao's error code KOE320")
	}
}
