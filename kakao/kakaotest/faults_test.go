package kakaotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		fault kakaotest.Fault
		check func(t *testing.T, r response)
	}{
		{"5xx kauth", "/oauth/token", kakaotest.Fault{Status: 503}, func(t *testing.T, r response) {
			wantKauthError(t, r, 503, "server_error", "", "KOE003")
		}},
		{"5xx kapi", "/v2/user/me", kakaotest.Fault{Status: 503}, func(t *testing.T, r response) {
			wantKapiError(t, r, 503, -9798)
		}},
		{"html", "/v2/user/me", kakaotest.Fault{HTML: true}, func(t *testing.T, r response) {
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.HasPrefix(string(r.Body), "<!DOCTYPE html>") {
				t.Errorf("html fault: %d %q", r.Status, r.Header.Get("Content-Type"))
			}
		}},
		{"truncated", "/.well-known/openid-configuration", kakaotest.Fault{TruncatedJSON: true}, func(t *testing.T, r response) {
			var v any
			if r.Status != 200 || json.Unmarshal(r.Body, &v) == nil || !strings.HasPrefix(string(r.Body), `{"issuer":`) {
				t.Errorf("truncated fault gave %d %s", r.Status, r.Body)
			}
		}},
		{"huge", "/v1/user/access_token_info", kakaotest.Fault{HugeBody: true}, func(t *testing.T, r response) {
			if len(r.Body) < kakaotest.HugeBodySize {
				t.Errorf("huge body = %d bytes", len(r.Body))
			}
		}},
		{"custom body", "/v2/user/me", kakaotest.Fault{Status: 403, Body: `{"msg":"insufficient scopes","code":-402,"required_scopes":["account_email"]}`}, func(t *testing.T, r response) {
			m := wantKapiError(t, r, 403, -402)
			if rs, _ := m["required_scopes"].([]any); len(rs) != 1 {
				t.Errorf("required_scopes = %v", m["required_scopes"])
			}
		}},
		{"star", "/v2/user/scopes", kakaotest.Fault{Status: 500}, func(t *testing.T, r response) {
			wantKapiError(t, r, 500, -1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newEmu(t)
			ep := tt.path
			if tt.name == "star" {
				ep = "*"
			}
			s.SetFault(ep, tt.fault)
			method := http.MethodGet
			if tt.path == "/oauth/token" {
				method = http.MethodPost
			}
			tt.check(t, do(t, s, method, tt.path, "Bearer x", url.Values{}))
			if got := s.Calls(tt.path); got != 1 {
				t.Errorf("Calls(%s) = %d, want 1", tt.path, got)
			}
			s.ClearFaults()
			if r := do(t, s, method, tt.path, "Bearer x", url.Values{}); r.Status >= 500 || strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("after ClearFaults: %d", r.Status)
			}
		})
	}
}

func TestFaults_LatencyHangTimes(t *testing.T) {
	s, _ := newEmu(t)
	// The delay is long enough that an ordinary request on a loaded CI machine stays well under it.
	s.SetFault("/.well-known/jwks.json", kakaotest.Fault{Latency: 600 * time.Millisecond, Times: 1})
	start := time.Now()
	if r := do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil); r.Status != 200 {
		t.Errorf("latency: %d", r.Status)
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("latency fault took %v", d)
	}
	start = time.Now()
	do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil)
	if d := time.Since(start); d > 450*time.Millisecond {
		t.Errorf("Times=1 fault still applied: %v", d)
	}

	s.SetFault("/oauth/token", kakaotest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(""))
	_, err := s.Client().Do(req)
	if err == nil || ctx.Err() == nil {
		t.Errorf("hang: err = %v", err)
	}
}

func TestFaults_JWKSOutageAndKeyRotation(t *testing.T) {
	s, c := newEmu(t)
	ctx := oidc.ClientContext(context.Background(), s.Client())
	verifierFor := func() *oidc.IDTokenVerifier {
		p, err := oidc.NewProvider(ctx, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		return p.Verifier(&oidc.Config{ClientID: testApp().RESTKey, Now: c.Now})
	}
	old := str(exchange(t, s, userVerified), "id_token")

	s.SetFault("/.well-known/jwks.json", kakaotest.Fault{Status: 503})
	if _, err := verifierFor().Verify(ctx, old); err == nil {
		t.Error("verified during a JWKS outage")
	}
	s.ClearFaults()

	s.RotateKey()
	kids := s.KeyIDs()
	jwks := do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil).JSON(t)
	if n := len(jwks["keys"].([]any)); n != 2 || len(kids) != 2 || kids[0] == kids[1] {
		t.Fatalf("after rotation: %d keys, kids %v", n, kids)
	}
	newTok := str(exchange(t, s, userVerified), "id_token")
	if got := decodeJWTHeader(t, newTok)["kid"]; got != kids[1] {
		t.Errorf("new token kid = %v, want %s", got, kids[1])
	}
	v := verifierFor()
	for name, tok := range map[string]string{"old": old, "new": newTok} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
	s.DropOldKeys()
	if _, err := verifierFor().Verify(ctx, old); err == nil {
		t.Error("old-key token verified after DropOldKeys")
	}
	if _, err := verifierFor().Verify(ctx, newTok); err != nil {
		t.Errorf("new token after DropOldKeys: %v", err)
	}
}

func TestCalls_NotCalledAndControlNotLogged(t *testing.T) {
	s, _ := newEmu(t)
	if _, err := s.IssueCode(userVerified, redirectURI, "", ""); err != nil {
		t.Fatal(err)
	}
	do(t, s, http.MethodGet, "/_emulator/users", "", nil)
	if got := s.Calls(""); got != 0 {
		t.Errorf("Calls = %d, want 0", got)
	}
	exchange(t, s, userVerified)
	do(t, s, http.MethodGet, "/nope", "", nil)
	log := s.CallLog()
	if s.Calls("/oauth/token") != 1 || s.Calls("*") != 1 || len(log) != 1 || log[0].Path != "/oauth/token" || log[0].Status != 200 || log[0].Method != "POST" {
		t.Errorf("calls = %d, log = %+v", s.Calls("*"), log)
	}
	s.ResetCalls()
	if s.Calls("/oauth/token") != 0 || len(s.CallLog()) != 0 {
		t.Error("ResetCalls kept calls")
	}
}

func postJSON(t *testing.T, s *kakaotest.Server, path string, body any) response {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := s.Client().Post(s.URL+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: rb}
}

func TestControlAPI(t *testing.T) {
	s, _ := newEmu(t)
	// Mint a code and trade it.
	r := postJSON(t, s, "/_emulator/code", map[string]any{"user_id": userVerified, "redirect_uri": redirectURI})
	code := str(r.JSON(t), "code")
	if len(code) != 86 {
		t.Fatalf("code = %q", r.Body)
	}
	if r := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)); r.Status != 200 {
		t.Errorf("token for minted code: %d %s", r.Status, r.Body)
	}
	if r := postJSON(t, s, "/_emulator/code", map[string]any{"user_id": userVerified, "redirect_uri": "http://x/"}); r.Status != 400 {
		t.Errorf("unregistered redirect: %d", r.Status)
	}
	// SDK-style token.
	r = postJSON(t, s, "/_emulator/token", map[string]any{"user_id": userNoEmail})
	tok := r.JSON(t)
	if str(tok, "access_token") == "" || decodeJWT(t, str(tok, "id_token"))["aud"] != testApp().NativeKey {
		t.Errorf("token = %s", r.Body)
	}
	// A token "minted by another Kakao app": access_token_info names that app's id.
	for _, tc := range []struct {
		appID any
		want  json.Number
	}{{nil, json.Number(fmt.Sprint(testApp().AppID))}, {int64(99887766), "99887766"}} {
		body := map[string]any{"user_id": userNoEmail}
		if tc.appID != nil {
			body["app_id"] = tc.appID
		}
		at := str(postJSON(t, s, "/_emulator/token", body).JSON(t), "access_token")
		info := do(t, s, http.MethodGet, "/v1/user/access_token_info", "Bearer "+at, nil).JSON(t)
		if info["app_id"] != tc.want {
			t.Errorf("app_id %v: access_token_info = %v, want app_id %s", tc.appID, info, tc.want)
		}
	}
	if r := postJSON(t, s, "/_emulator/token", map[string]any{"user_id": userNoEmail, "app_id": -1}); r.Status != 400 {
		t.Errorf("negative app_id: %d", r.Status)
	}
	// Faults over HTTP.
	if r := postJSON(t, s, "/_emulator/faults", map[string]any{"endpoint": "/v2/user/me", "fault": map[string]any{"status": 502, "times": 1}}); r.Status != 204 {
		t.Fatalf("set fault: %d %s", r.Status, r.Body)
	}
	if got := do(t, s, http.MethodGet, "/v2/user/me", "Bearer x", nil).Status; got != 502 {
		t.Errorf("fault over HTTP: %d", got)
	}
	postJSON(t, s, "/_emulator/faults", map[string]any{"endpoint": "*", "fault": map[string]any{"latency": "1ms", "status": 500}})
	do(t, s, http.MethodDelete, "/_emulator/faults", "", nil)
	if got := do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil).Status; got != 200 {
		t.Errorf("after DELETE faults: %d", got)
	}
	// Calls over HTTP.
	calls := do(t, s, http.MethodGet, "/_emulator/calls?endpoint=/v2/user/me", "", nil).JSON(t)
	if calls["count"] != json.Number("1") {
		t.Errorf("calls = %v", calls)
	}
	// Auto-consent, rotate-key, users.
	if r := postJSON(t, s, "/_emulator/auto-consent", map[string]any{"user_id": userInvalid}); r.Status != 204 {
		t.Errorf("auto-consent: %d", r.Status)
	}
	resp, err := noRedirect(s.Client()).Get(authorizeURL(s.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if callbackParams(t, resp).Get("code") == "" {
		t.Error("auto-consent did not answer with a code")
	}
	if r := postJSON(t, s, "/_emulator/rotate-key", nil); len(r.JSON(t)["kids"].([]any)) != 2 {
		t.Errorf("rotate-key: %s", r.Body)
	}
	var users []kakaotest.User
	if err := json.Unmarshal(do(t, s, http.MethodGet, "/_emulator/users", "", nil).Body, &users); err != nil || len(users) != 4 {
		t.Errorf("users: %v %v", users, err)
	}
	if r := postJSON(t, s, "/_emulator/nope", nil); r.Status != 404 {
		t.Errorf("unknown control endpoint: %d", r.Status)
	}
	var sb strings.Builder
	s.Describe(&sb, s.URL)
	for _, want := range []string{testApp().RESTKey, testApp().ClientSecret, "4217730412856391025", "김민준", redirectURI} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("Describe lacks %q", want)
		}
	}
}

func TestUnlinkWebhook(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			var (
				mu   sync.Mutex
				got  *http.Request
				vals url.Values
			)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				mu.Lock()
				got, vals = r, r.Form
				mu.Unlock()
			}))
			defer hook.Close()
			app := testApp()
			app.UnlinkWebhookURL = hook.URL + "/auth/kakao/webhook/unlink"
			app.UnlinkWebhookMethod = method
			s := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
			at := str(exchange(t, s, userVerified), "access_token")

			if err := s.UnlinkFromKakao(context.Background(), userVerified, kakaotest.ReferrerAccountDelete); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got == nil {
				t.Fatal("webhook not called")
			}
			if got.Method != method || got.URL.Path != "/auth/kakao/webhook/unlink" || got.Header.Get("Authorization") != "KakaoAK kakaoauth-dev-admin-key" {
				t.Errorf("request = %s %s, Authorization %q", got.Method, got.URL.Path, got.Header.Get("Authorization"))
			}
			want := url.Values{"app_id": {"1234567"}, "user_id": {"4217730412856391024"}, "referrer_type": {"ACCOUNT_DELETE"}}
			for k, v := range want {
				if vals.Get(k) != v[0] {
					t.Errorf("%s = %q, want %q", k, vals.Get(k), v[0])
				}
			}
			if method == "POST" && (got.URL.RawQuery != "" || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/x-www-form-urlencoded")) {
				t.Errorf("POST carries query %q / Content-Type %q", got.URL.RawQuery, got.Header.Get("Content-Type"))
			}
			wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", "Bearer "+at, nil), 401, -401)
			if err := s.UnlinkFromKakao(context.Background(), userVerified, ""); err == nil {
				t.Error("second unlink of a not-linked user succeeded")
			}
		})
	}
}

func TestUnlinkWebhook_Failures(t *testing.T) {
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "slow") {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer hook.Close()
	defer close(release)
	for _, path := range []string{"/redirect", "/slow"} {
		app := testApp()
		app.UnlinkWebhookURL = hook.URL + path
		s := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
		exchange(t, s, userVerified)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := s.UnlinkFromKakao(ctx, userVerified, "")
		cancel()
		if err == nil {
			t.Errorf("%s: no error", path)
		}
	}
}
