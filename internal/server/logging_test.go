package server_test

// The request log: one line per request, and never a secret in it.

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// TestLogging_097_NoSecrets drives the flows, their common errors and a Kakao fault with logging at
// debug level, and checks the log never holds a token, code, secret, cookie or email, while it
// does hold one line per request with its request id, route and status.
func TestLogging_097_NoSecrets(t *testing.T) {
	s := servertest.Start(t, func(o *servertest.Options) { o.LogLevel = slog.LevelDebug })
	var secrets []string
	spaLogin := func(code string) *http.Response {
		t.Helper()
		return servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": servertest.SPARedirect}, nil)
	}

	// SPA flow, then the same code again (Kakao's KOE320 text names the code).
	code := s.SPACode(t, servertest.UserWithEmail, "profile_nickname", "account_email")
	secrets = append(secrets, code)
	r := spaLogin(code)
	body := servertest.Decode(t, r)
	tok := body["token"].(map[string]any)
	access, refresh := tok["access"].(string), tok["refresh"].(string)
	secrets = append(secrets, access, refresh)
	for _, c := range r.Cookies() {
		secrets = append(secrets, c.Value)
	}
	r = spaLogin(code)
	if r.StatusCode != 400 {
		t.Fatalf("reused code: %d", r.StatusCode)
	}
	servertest.ReadBody(t, r)

	// Refresh (and a reuse after it), me, verify, logout.
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := servertest.Decode(t, r)
	newRefresh := b["token"].(map[string]any)["refresh"].(string)
	secrets = append(secrets, newRefresh, b["token"].(map[string]any)["access"].(string))
	servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)
	servertest.ReadBody(t, servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": access + "x"}, nil))

	// Browser flow: state, flow cookie, session cookies.
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	secrets = append(secrets, authz.Query().Get("state"), authz.Query().Get("nonce"), s.Cookie(c, "/", "kakaoauth-flow"))
	r, err := c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, servertest.NoRedirects(c), r, servertest.UserWithEmail, "agree", "profile_nickname", "account_email")
	servertest.ReadBody(t, r)
	loc := r.Header.Get("Location")
	secrets = append(secrets, strings.SplitN(strings.SplitN(loc, "code=", 2)[1], "&", 2)[0])
	r, err = c.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	for _, name := range []string{"accessToken", "refreshToken", "csrfToken"} {
		secrets = append(secrets, s.Cookie(c, "/auth", name))
	}

	// A Kakao outage.
	s.Emulator.SetFault("/oauth/token", kakaotest.Fault{Status: 500, Times: 1})
	servertest.ReadBody(t, spaLogin(s.MintCode(t, 4217730412856391024)))

	secrets = append(secrets, "minjun.kim@example.com", "kakaoauth-dev-client-secret", servertest.DevAdminKey, servertest.DevSecret)
	logs := s.Logs.String()
	for _, secret := range secrets {
		if len(secret) >= 8 && strings.Contains(logs, secret) {
			i := strings.Index(logs, secret)
			t.Errorf("log contains a secret %.12s…: %s", secret, logs[max(0, i-300):i])
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

// TestLogging_ClientAndDuration: a request's line names the client's address (client_ip) and
// its duration as a number of milliseconds (duration_ms), beside Go's text (duration).
func TestLogging_ClientAndDuration(t *testing.T) {
	s := servertest.Start(t, func(o *servertest.Options) { o.LogLevel = slog.LevelInfo })
	r, err := http.Get(s.BaseURL + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	var line map[string]any
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["route"] == "GET /auth/me" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no request line for GET /auth/me in:\n%s", s.Logs.String())
	}
	if got, want := line["client_ip"], "127.0.0.1"; got != want {
		t.Errorf("client_ip = %v, want %v", got, want)
	}
	ms, ok := line["duration_ms"].(float64)
	if !ok || ms < 0 || ms > 60_000 {
		t.Errorf("duration_ms = %#v, want a number of milliseconds", line["duration_ms"])
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("duration is gone from the line: %v", line)
	}
}
