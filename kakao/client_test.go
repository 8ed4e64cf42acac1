package kakao_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/kakao"
)

// fake is a fake kauth+kapi host: one handler per "METHOD /path", with a call counter.
type fake struct {
	srv   *httptest.Server
	calls atomic.Int64
	clock *clock
}

func newFake(t *testing.T, routes map[string]http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{clock: newClock()}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.calls.Add(1)
			h(w, r)
		})
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) client(t *testing.T, mod func(*kakao.Config)) *kakao.Client {
	t.Helper()
	cfg := kakao.Config{
		ClientID:     testClientID,
		ClientSecret: "secret",
		AdminKey:     "admin-key",
		AppID:        1234567,
		AuthURL:      f.srv.URL,
		APIURL:       f.srv.URL,
		Timeout:      2 * time.Second,
		Now:          f.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := kakao.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reply writes a JSON body with Kakao's content type.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func html(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
	}
}

// hang never answers. It reads the request body first so that the server
// notices when the client gives up (r.Context is then cancelled).
func hang(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// drip sends a valid-looking JSON start and then one byte every 100 ms.
func drip(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	for i := 0; i < 100; i++ {
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		select {
		case <-time.After(100 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
}

func huge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	chunk := strings.Repeat("a", 64<<10)
	_, _ = io.WriteString(w, `{"id":1,"x":"`)
	for i := 0; i < 64; i++ { // 4 MiB
		if _, err := io.WriteString(w, chunk); err != nil {
			return
		}
	}
	_, _ = io.WriteString(w, `"}`)
}

// closeConn drops the connection without an answer (a network error).
func closeConn(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestNew_Config(t *testing.T) {
	if _, err := kakao.New(kakao.Config{}); err == nil {
		t.Error("New without ClientID succeeded")
	}
	for _, u := range []string{"kauth.kakao.com", "ftp://x", "https://x/?a=b", "://"} {
		if _, err := kakao.New(kakao.Config{ClientID: "k", AuthURL: u}); err == nil {
			t.Errorf("AuthURL %q accepted", u)
		}
	}
	c, err := kakao.New(kakao.Config{ClientID: "k"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: "https://app.example/cb"})
	if !strings.HasPrefix(got, "https://kauth.kakao.com/oauth/authorize?") {
		t.Errorf("default authorize URL = %q", got)
	}
}

func TestAuthCodeURL(t *testing.T) {
	c, err := kakao.New(kakao.Config{ClientID: "rest-key", AuthURL: "https://kauth.example/"})
	if err != nil {
		t.Fatal(err)
	}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tests := []struct {
		name string
		p    kakao.AuthorizeParams
		want url.Values
	}{
		{"minimal", kakao.AuthorizeParams{RedirectURI: "https://app.example/cb"}, url.Values{
			"client_id": {"rest-key"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
		}},
		{"full OIDC", kakao.AuthorizeParams{
			RedirectURI: "https://app.example/cb", State: "st", Nonce: "no", CodeVerifier: verifier,
			Scopes: []string{"account_email", "profile_nickname", "account_email", ""}, OIDC: true,
			Prompt: []string{"login", "select_account"}, LoginHint: "user@example.com",
		}, url.Values{
			"client_id": {"rest-key"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
			"state": {"st"}, "nonce": {"no"},
			// RFC 7636 appendix B example.
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
			"scope": {"account_email,profile_nickname,openid"}, "prompt": {"login,select_account"},
			"login_hint": {"user@example.com"},
		}},
		{"OIDC without scopes", kakao.AuthorizeParams{RedirectURI: "https://app.example/cb", OIDC: true}, url.Values{
			"client_id": {"rest-key"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}, "scope": {"openid"},
		}},
		{"openid not doubled", kakao.AuthorizeParams{RedirectURI: "https://app.example/cb", OIDC: true, Scopes: []string{"openid", "gender"}, Prompt: []string{"none"}}, url.Values{
			"client_id": {"rest-key"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
			"scope": {"openid,gender"}, "prompt": {"none"},
		}},
		{"create", kakao.AuthorizeParams{RedirectURI: "https://app.example/cb", Prompt: []string{"create"}}, url.Values{
			"client_id": {"rest-key"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}, "prompt": {"create"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := c.AuthCodeURL(tt.p)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != "https://kauth.example/oauth/authorize" {
				t.Errorf("endpoint = %q", got)
			}
			if diff := cmp.Diff(tt.want, u.Query()); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if strings.Contains(raw, "code_verifier") || (tt.p.CodeVerifier != "" && strings.Contains(raw, tt.p.CodeVerifier)) {
				t.Error("verifier leaked into the URL")
			}
		})
	}
}

func TestRandomValues(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		for _, v := range []string{kakao.NewCodeVerifier(), kakao.NewState(), kakao.NewNonce()} {
			if len(v) < 43 || len(v) > 128 {
				t.Fatalf("len(%q) = %d", v, len(v))
			}
			if strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
				t.Fatalf("%q has characters outside [A-Za-z0-9-._~]", v)
			}
			if seen[v] {
				t.Fatalf("repeated value %q", v)
			}
			seen[v] = true
		}
	}
}

const tokenOIDCSample = `{"token_type":"bearer","access_token":"AT-1","id_token":"ID.TOKEN.X","expires_in":7199,` +
	`"refresh_token":"RT-1","refresh_token_expires_in":86399,"scope":"profile_image openid profile_nickname"}`

func TestExchange(t *testing.T) {
	var form url.Values
	var authz, ctype string
	f := newFake(t, map[string]http.HandlerFunc{
		"POST /oauth/token": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			form, authz, ctype = r.PostForm, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
			reply(200, tokenOIDCSample)(w, r)
		},
	})
	c := f.client(t, nil)
	got, err := c.Exchange(context.Background(), "CODE-1", "https://app.example/cb", "VERIFIER-1")
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	want := &kakao.Token{
		TokenType: "bearer", AccessToken: "AT-1", RefreshToken: "RT-1", IDToken: "ID.TOKEN.X",
		ExpiresIn: 7199, RefreshTokenExpiresIn: 86399,
		Expiry: now.Add(7199 * time.Second), RefreshTokenExpiry: now.Add(86399 * time.Second),
		Scopes: []string{"profile_image", "openid", "profile_nickname"}, RefreshTokenRotated: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	wantForm := url.Values{
		"grant_type": {"authorization_code"}, "code": {"CODE-1"}, "redirect_uri": {"https://app.example/cb"},
		"client_id": {testClientID}, "client_secret": {"secret"}, "code_verifier": {"VERIFIER-1"},
	}
	if diff := cmp.Diff(wantForm, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if authz != "" {
		t.Errorf("Authorization = %q, want none (client_secret_post)", authz)
	}
	if !strings.HasPrefix(ctype, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q", ctype)
	}

	// Without a secret or verifier, neither is sent.
	c2 := f.client(t, func(cfg *kakao.Config) { cfg.ClientSecret = "" })
	if _, err := c2.Exchange(context.Background(), "CODE-2", "https://app.example/cb", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := form["client_secret"]; ok {
		t.Error("client_secret sent although not configured")
	}
	if _, ok := form["code_verifier"]; ok {
		t.Error("code_verifier sent although empty")
	}
}

// TestExchange_Errors covers Kakao's token-endpoint errors and transport faults.
func TestExchange_Errors(t *testing.T) {
	tests := []struct {
		name       string
		h          http.HandlerFunc
		kind       kakao.Kind
		code       string
		status     int
		retryAfter time.Duration
	}{
		{"KOE320 reused code", reply(400, `{"error":"invalid_grant","error_description":"authorization code not found for code=CODE-1","error_code":"KOE320"}`), kakao.KindBadCode, "KOE320", 400, 0},
		{"KOE303 redirect mismatch", reply(400, `{"error":"invalid_grant","error_description":"Redirect URI mismatch.","error_code":"KOE303"}`), kakao.KindRedirectMismatch, "KOE303", 400, 0},
		{"KOE010 bad secret", reply(401, `{"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}`), kakao.KindBadSecret, "KOE010", 401, 0},
		{"KOE101 unknown client", reply(401, `{"error":"invalid_client","error_description":"Not exist client_id [x]","error_code":"KOE101"}`), kakao.KindBadClient, "KOE101", 401, 0},
		{"KOE009 platform", reply(400, `{"error":"misconfigured","error_description":"invalid android_key_hash or ios_bundle_id or web_site_url","error_code":"KOE009"}`), kakao.KindBadClient, "KOE009", 400, 0},
		{"KOE237 rate limit", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			reply(429, `{"error":"invalid_request","error_description":"token request limit exceeded","error_code":"KOE237"}`)(w, r)
		}, kakao.KindRateLimited, "KOE237", 429, 30 * time.Second},
		{"invalid_grant without KOE", reply(400, `{"error":"invalid_grant","error_description":"x"}`), kakao.KindBadCode, "", 400, 0},
		{"KOE003 server error", reply(500, `{"error":"server_error","error_description":"x","error_code":"KOE003"}`), kakao.KindUnavailable, "KOE003", 500, 0},
		{"502 HTML", html(502), kakao.KindUnavailable, "", 502, 0},
		{"400 HTML", html(400), kakao.KindBadRequest, "", 400, 0},
		{"200 HTML", html(200), kakao.KindBadResponse, "", 0, 0},
		{"200 truncated JSON", reply(200, `{"token_type":"bearer","access_tok`), kakao.KindBadResponse, "", 0, 0},
		{"200 without access_token", reply(200, `{"token_type":"bearer","expires_in":10}`), kakao.KindBadResponse, "", 0, 0},
		{"200 without refresh_token", reply(200, `{"token_type":"bearer","access_token":"a","expires_in":10}`), kakao.KindBadResponse, "", 200, 0},
		{"200 expires_in string", reply(200, `{"token_type":"bearer","access_token":"a","expires_in":"abc","refresh_token":"r"}`), kakao.KindBadResponse, "", 0, 0},
		{"200 id_token number", reply(200, `{"token_type":"bearer","access_token":"a","expires_in":10,"refresh_token":"r","id_token":5}`), kakao.KindBadResponse, "", 200, 0},
		{"200 refresh_token_expires_in string", reply(200, `{"token_type":"bearer","access_token":"a","expires_in":10,"refresh_token":"r","refresh_token_expires_in":"x"}`), kakao.KindBadResponse, "", 200, 0},
		{"200 carrying an error", reply(200, `{"error":"invalid_grant","error_code":"KOE320"}`), kakao.KindBadCode, "KOE320", 200, 0},
		{"huge body", huge, kakao.KindBadResponse, "", 0, 0},
		{"hang", hang, kakao.KindTimeout, "", 0, 0},
		{"drip", drip, kakao.KindTimeout, "", 0, 0},
		{"connection closed", closeConn, kakao.KindUnavailable, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{"POST /oauth/token": tt.h})
			c := f.client(t, func(cfg *kakao.Config) { cfg.Timeout = 500 * time.Millisecond })
			start := time.Now()
			_, err := c.Exchange(context.Background(), "CODE-1", "https://app.example/cb", "")
			var e *kakao.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *kakao.Error", err)
			}
			if e.Kind != tt.kind || e.Code() != tt.code || e.Status != tt.status || e.RetryAfter != tt.retryAfter {
				t.Errorf("got kind %q code %q status %d retry %v, want %q %q %d %v (%v)",
					e.Kind, e.Code(), e.Status, e.RetryAfter, tt.kind, tt.code, tt.status, tt.retryAfter, err)
			}
			if e.Op != "token" {
				t.Errorf("Op = %q", e.Op)
			}
			if n := f.calls.Load(); n != 1 {
				t.Errorf("token endpoint called %d times, want 1 (never retried)", n)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 500ms timeout", d)
			}
			if e.Explain("ko") == "" || e.Explain("en") == "" {
				t.Error("empty explanation")
			}
		})
	}
}

func TestExchange_LocalChecks(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{"POST /oauth/token": reply(200, tokenOIDCSample)})
	c := f.client(t, nil)
	if _, err := c.Exchange(context.Background(), "", "https://app.example/cb", ""); kindOf(err) != kakao.KindBadCode {
		t.Errorf("empty code: %v", err)
	}
	if _, err := c.Exchange(context.Background(), "c", "", ""); kindOf(err) != kakao.KindMisconfigured {
		t.Errorf("empty redirect: %v", err)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestRefresh(t *testing.T) {
	var form url.Values
	answer := `{"access_token":"AT-2","token_type":"bearer","expires_in":43199,"id_token":"ID.2.X"}`
	f := newFake(t, map[string]http.HandlerFunc{
		"POST /oauth/token": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			form = r.PostForm
			reply(200, answer)(w, r)
		},
	})
	c := f.client(t, nil)
	now := f.clock.Now()

	// No new refresh token: the old one is kept.
	got, err := c.Refresh(context.Background(), "RT-OLD")
	if err != nil {
		t.Fatal(err)
	}
	want := &kakao.Token{TokenType: "bearer", AccessToken: "AT-2", RefreshToken: "RT-OLD", IDToken: "ID.2.X",
		ExpiresIn: 43199, Expiry: now.Add(43199 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"RT-OLD"}, "client_id": {testClientID}, "client_secret": {"secret"}}
	if diff := cmp.Diff(wantForm, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}

	// RefreshFrom carries over the refresh token's expiry and the scopes.
	prev := &kakao.Token{RefreshToken: "RT-OLD", RefreshTokenExpiresIn: 5183999, RefreshTokenExpiry: now.Add(time.Hour), Scopes: []string{"openid"}}
	got, err = c.RefreshFrom(context.Background(), prev)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "RT-OLD" || !got.RefreshTokenExpiry.Equal(now.Add(time.Hour)) || got.RefreshTokenExpiresIn != 5183999 ||
		!cmp.Equal(got.Scopes, []string{"openid"}) || got.RefreshTokenRotated {
		t.Errorf("RefreshFrom kept %+v", got)
	}

	// Less than a month left: a new refresh token replaces the old one.
	answer = `{"access_token":"AT-3","token_type":"bearer","refresh_token":"RT-NEW","refresh_token_expires_in":5184000,"expires_in":43199}`
	got, err = c.RefreshFrom(context.Background(), prev)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "RT-NEW" || !got.RefreshTokenRotated || !got.RefreshTokenExpiry.Equal(now.Add(5184000*time.Second)) {
		t.Errorf("rotated token = %+v", got)
	}
}

func TestRefresh_Errors(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
		kind kakao.Kind
		code string
	}{
		{"KOE322", reply(400, `{"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token","error_code":"KOE322"}`), kakao.KindBadRefreshToken, "KOE322"},
		{"KOE319", reply(400, `{"error":"invalid_grant","error_description":"refresh_token is required","error_code":"KOE319"}`), kakao.KindBadRefreshToken, "KOE319"},
		{"invalid_grant only", reply(400, `{"error":"invalid_grant"}`), kakao.KindBadRefreshToken, ""},
		{"KOE010", reply(401, `{"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}`), kakao.KindBadSecret, "KOE010"},
		{"503", html(503), kakao.KindUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{"POST /oauth/token": tt.h})
			_, err := f.client(t, nil).Refresh(context.Background(), "RT")
			var e *kakao.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Code() != tt.code || e.Op != "refresh" {
				t.Fatalf("err = %v, want kind %q code %q", err, tt.kind, tt.code)
			}
			if n := f.calls.Load(); n != 1 {
				t.Errorf("calls = %d, want 1", n)
			}
		})
	}
	f := newFake(t, nil)
	if _, err := f.client(t, nil).Refresh(context.Background(), ""); kindOf(err) != kakao.KindBadRefreshToken {
		t.Errorf("empty refresh token: %v", err)
	}
}

func TestParseRedirectError(t *testing.T) {
	tests := []struct {
		q    string
		want *kakao.Error
	}{
		{"code=abc&state=s", nil},
		{"error=access_denied&error_description=User%20denied%20access&state=s",
			&kakao.Error{Op: "authorize", Kind: kakao.KindAccessDenied, OAuthError: "access_denied", Description: "User denied access"}},
		{"error=consent_required&error_description=user%20consent%20required.",
			&kakao.Error{Op: "authorize", Kind: kakao.KindConsentRequired, OAuthError: "consent_required", Description: "user consent required."}},
		{"error=login_required", &kakao.Error{Op: "authorize", Kind: kakao.KindLoginRequired, OAuthError: "login_required"}},
		{"error=weird_thing&error_description=%3Cscript%3E%0A", &kakao.Error{Op: "authorize", Kind: kakao.KindUnknown, OAuthError: "weird_thing", Description: "<script> "}},
		{"error=invalid_request&error_code=KOE201", &kakao.Error{Op: "authorize", Kind: kakao.KindBadRequest, OAuthError: "invalid_request", KOE: "KOE201"}},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.q)
		got := kakao.ParseRedirectError(q)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, diff)
		}
	}
}

func TestExplainTable(t *testing.T) {
	// Every code of the reference's tables (§9.2, §9.3) and the redirect errors.
	codes := map[string]kakao.Kind{
		"KOE001": kakao.KindBadRequest, "KOE002": kakao.KindBadRequest, "KOE003": kakao.KindUnavailable,
		"KOE004": kakao.KindMisconfigured, "KOE005": kakao.KindMisconfigured, "KOE006": kakao.KindRedirectMismatch,
		"KOE007": kakao.KindMisconfigured, "KOE008": kakao.KindBadClient, "KOE009": kakao.KindBadClient,
		"KOE010": kakao.KindBadSecret, "KOE023": kakao.KindMisconfigured, "KOE101": kakao.KindBadClient,
		"KOE102": kakao.KindMisconfigured, "KOE201": kakao.KindBadRequest, "KOE202": kakao.KindBadRequest,
		"KOE237": kakao.KindRateLimited, "KOE303": kakao.KindRedirectMismatch, "KOE310": kakao.KindMisconfigured,
		"KOE319": kakao.KindBadRefreshToken, "KOE320": kakao.KindBadCode, "KOE322": kakao.KindBadRefreshToken,
		"KOE400":        kakao.KindInvalidToken,
		"access_denied": kakao.KindAccessDenied, "consent_required": kakao.KindConsentRequired, "login_required": kakao.KindLoginRequired,
		"invalid_request": kakao.KindBadRequest, "invalid_client": kakao.KindBadClient, "invalid_scope": kakao.KindBadRequest,
		"invalid_grant": kakao.KindBadCode, "misconfigured": kakao.KindMisconfigured, "unauthorized": kakao.KindForbidden,
		"server_error": kakao.KindUnavailable,
		"-1":           kakao.KindUnavailable, "-2": kakao.KindBadRequest, "-3": kakao.KindForbidden, "-4": kakao.KindForbidden,
		"-5": kakao.KindForbidden, "-6": kakao.KindForbidden, "-7": kakao.KindUnavailable, "-8": kakao.KindBadRequest,
		"-9": kakao.KindForbidden, "-10": kakao.KindRateLimited, "-11": kakao.KindRateLimited, "-12": kakao.KindForbidden,
		"-401": kakao.KindInvalidToken, "-501": kakao.KindForbidden, "-602": kakao.KindBadRequest, "-603": kakao.KindUnavailable,
		"-606": kakao.KindBadRequest, "-903": kakao.KindMisconfigured, "-911": kakao.KindBadRequest, "-9798": kakao.KindUnavailable,
		"-101": kakao.KindNotLinked, "-102": kakao.KindBadRequest, "-103": kakao.KindForbidden, "-201": kakao.KindBadRequest,
		"-402": kakao.KindConsentRequired, "-406": kakao.KindForbidden,
	}
	listed := map[string]bool{}
	for _, ci := range kakao.Codes() {
		listed[ci.Code] = true
	}
	for code, kind := range codes {
		if got := kakao.KindOf(code); got != kind {
			t.Errorf("KindOf(%q) = %q, want %q", code, got, kind)
		}
		ko, en := kakao.Explain(code, "ko"), kakao.Explain(code, "en")
		if !strings.ContainsFunc(ko, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }) {
			t.Errorf("Explain(%q, ko) = %q has no Hangul", code, ko)
		}
		if en == ko || en == "" || !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", rune(en[0])) {
			t.Errorf("Explain(%q, en) = %q is not English", code, en)
		}
		if strings.Contains(ko, "\n") || strings.Contains(en, "\n") {
			t.Errorf("%q explanation is not one line", code)
		}
		if !listed[code] {
			t.Errorf("Codes() does not list %q", code)
		}
	}
	for code, want := range map[string][]string{
		"KOE006": {"[앱] > [플랫폼 키] > [REST API 키]", "리다이렉트 URI"},
		"KOE010": {"클라이언트 시크릿", "ClientSecret"},
		"KOE320": {"한 번"},
		"-402":   {"required_scopes"},
	} {
		for _, s := range want {
			if !strings.Contains(kakao.Explain(code, "ko"), s) {
				t.Errorf("Explain(%q, ko) = %q lacks %q", code, kakao.Explain(code, "ko"), s)
			}
		}
	}
	if kakao.KindOf("KOE999") != kakao.KindUnknown || kakao.Explain("KOE999", "en") == "" {
		t.Error("unknown code handling")
	}
}

func TestError_Methods(t *testing.T) {
	e := &kakao.Error{Op: "me", Status: 401, Kind: kakao.KindInvalidToken, APICode: -401, Description: "this access token does not exist\nx"}
	if e.Code() != "-401" || e.Temporary() {
		t.Errorf("Code %q Temporary %v", e.Code(), e.Temporary())
	}
	if s := e.Error(); strings.Contains(s, "\n") || !strings.Contains(s, "-401") || !strings.Contains(s, "401") {
		t.Errorf("Error() = %q", s)
	}
	if !errors.Is(e, &kakao.Error{Kind: kakao.KindInvalidToken}) || errors.Is(e, &kakao.Error{Kind: kakao.KindNotLinked}) {
		t.Error("errors.Is by Kind")
	}
	for _, k := range []kakao.Kind{kakao.KindUnavailable, kakao.KindTimeout} {
		if !(&kakao.Error{Kind: k}).Temporary() {
			t.Errorf("%q not temporary", k)
		}
	}
	wrapped := &kakao.Error{Kind: kakao.KindTimeout, Err: context.DeadlineExceeded}
	if !errors.Is(wrapped, context.DeadlineExceeded) {
		t.Error("Unwrap")
	}
}

// TestError_RedactsSecrets: Kakao's messages echo codes and tokens; Error() never does.
func TestError_RedactsSecrets(t *testing.T) {
	code := "kxy2hMi3aDBTq0xE7Zp_Wk8c-Lm4Nn6Rr9Ss1Tt"
	e := &kakao.Error{Op: "token", Kind: kakao.KindBadCode, KOE: "KOE320", Status: 400,
		Description: "authorization code not found for code=" + code}
	got := e.Error()
	if strings.Contains(got, code) || !strings.Contains(got, "KOE320") || !strings.Contains(got, "authorization code not found") {
		t.Fatalf("Error() = %q", got)
	}
}
