package oidcop_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// authURL is an authorization request of r with extra parameters (a code_challenge unless
// the parameters name one).
func (r *rp) authURL(state string, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {r.id}, "redirect_uri": {rpRedirect},
		"scope": {"openid profile email offline_access"}, "state": {state}}
	for k, v := range extra {
		q[k] = v
	}
	return r.provider.Endpoint().AuthURL + "?" + q.Encode()
}

// get is one GET without following redirects.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := servertest.NoRedirects(c).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, servertest.ReadBody(t, resp)
}

// form posts to the token endpoint (or another) as a program would.
func form(t *testing.T, u string, v url.Values, id, secret string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

// signedIn is a relying party whose browser is signed in here and has agreed to it.
func signedIn(t *testing.T, s *servertest.Server, spec oidcop.ClientSpec) *rp {
	t.Helper()
	r := newRP(t, s, spec)
	loc, _ := r.authorize(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	r.code(loc)
	return r
}

// codeFor gets a code from the signed-in browser without any page in between.
func (r *rp) codeFor(t *testing.T, verifier string, extra url.Values) string {
	t.Helper()
	if extra == nil {
		extra = url.Values{}
	}
	if verifier != "" {
		extra.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		extra.Set("code_challenge_method", "S256")
	}
	state := random(t)
	resp, err := r.browser.Get(r.authURL(state, extra))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := r.follow(resp, state)
	return r.code(loc)
}

func (r *rp) exchange(t *testing.T, code, verifier string) (int, map[string]any) {
	t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	st, body, _ := form(t, r.provider.Endpoint().TokenURL, v, r.id, r.secret)
	return st, body
}

func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Errorf("answered %d %v, want %d %s", status, body, wantStatus, code)
	}
}

// wantErrorPage asserts a 4xx HTML error page, no redirect and no code.
func wantErrorPage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.Header.Get("Location") != "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(body, "code=") {
		t.Errorf("answered %d %s (Location %q), want an error page: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Location"), body)
	}
}

func TestOIDC(t *testing.T) {
	s := servertest.Start(t)

	t.Run("oidcc-discovery-endpoint-verification", func(t *testing.T) {
		_, a := get(t, http.DefaultClient, s.BaseURL+"/.well-known/openid-configuration")
		_, b := get(t, http.DefaultClient, s.BaseURL+"/.well-known/oauth-authorization-server")
		var d map[string]any
		if err := json.Unmarshal([]byte(a), &d); err != nil || a != b {
			t.Fatalf("discovery documents differ or are not JSON: %v", err)
		}
		if d["issuer"] != s.BaseURL || !contains(d["id_token_signing_alg_values_supported"], "RS256") ||
			!contains(d["scopes_supported"], "openid") || !contains(d["code_challenge_methods_supported"], "S256") ||
			!contains(d["token_endpoint_auth_methods_supported"], "none") || contains(d["response_types_supported"], "id_token") ||
			contains(d["grant_types_supported"], "implicit") {
			t.Errorf("discovery = %s", a)
		}
		// Every advertised endpoint exists (no 404).
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"} {
			resp, _ := get(t, http.DefaultClient, d[k].(string))
			if resp.StatusCode == http.StatusNotFound {
				t.Errorf("%s %s is 404", k, d[k])
			}
		}
		// JWKS: every key has a distinct kid, no private material; the ES256 and RS256 keys.
		_, jw := get(t, http.DefaultClient, d["jwks_uri"].(string))
		var set struct{ Keys []map[string]any }
		_ = json.Unmarshal([]byte(jw), &set)
		kids, algs := map[string]bool{}, map[string]bool{}
		for _, k := range set.Keys {
			if kids[k["kid"].(string)] || k["d"] != nil || k["p"] != nil {
				t.Errorf("bad JWKS key %v", k)
			}
			kids[k["kid"].(string)], algs[k["alg"].(string)] = true, true
		}
		if !algs["RS256"] || !algs["ES256"] {
			t.Errorf("JWKS algorithms = %v, want RS256 and ES256", algs)
		}
	})

	r := signedIn(t, s, oidcop.ClientSpec{})

	t.Run("oidcc-server-client-secret-post", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := r.codeFor(t, v, nil)
		st, body, hdr := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpRedirect}, "code_verifier": {v}, "client_id": {r.id}, "client_secret": {r.secret}}, "", "")
		if st != 200 || body["access_token"] == nil || body["id_token"] == nil || body["token_type"] != "Bearer" || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("client_secret_post: %d %v %v", st, body, hdr)
		}
	})

	t.Run("oidcc-codereuse", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := r.codeFor(t, v, nil)
		st, first := r.exchange(t, code, v)
		if st != 200 {
			t.Fatalf("first redemption: %d %v", st, first)
		}
		st, body := r.exchange(t, code, v)
		wantOAuthError(t, st, body, 400, "invalid_grant")
		// The tokens issued for the code are revoked too (RFC 6749 §4.1.2).
		tok := &oauth2.Token{AccessToken: first["access_token"].(string), TokenType: "Bearer"}
		if _, err := r.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the first access token still works after the code was reused")
		}
	})

	t.Run("oidcc-ensure-registered-redirect-uri", func(t *testing.T) {
		for _, bad := range []string{rpRedirect + "/callback/abcdefghij", rpRedirect + "?foo=bar", "https://evil.example/callback"} {
			resp, body := get(t, r.browser, r.authURL("s", url.Values{"redirect_uri": {bad}}))
			wantErrorPage(t, resp, body)
		}
	})

	t.Run("unknown-client-error-page", func(t *testing.T) {
		resp, body := get(t, r.browser, r.authURL("s", url.Values{"client_id": {"kc_nope"}}))
		wantErrorPage(t, resp, body)
		resp, body = get(t, r.browser, r.authURL("s", url.Values{"client_id": {""}}))
		wantErrorPage(t, resp, body)
	})

	t.Run("oidcc-prompt-none-not-logged-in", func(t *testing.T) {
		fresh := stopAt(servertest.NewBrowser(t), "https://rp.example/")
		state := strings.Repeat("a", 124) + "-._~"
		resp, _ := get(t, fresh, r.authURL(state, url.Values{"prompt": {"none"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}))
		if resp.StatusCode == http.StatusFound {
			loc, _ := resp.Location()
			resp, _ = get(t, fresh, loc.String())
		}
		loc, _ := resp.Location()
		if loc == nil || !strings.HasPrefix(loc.String(), rpRedirect) || loc.Query().Get("error") != "login_required" ||
			loc.Query().Get("state") != state || loc.Query().Get("code") != "" {
			t.Errorf("prompt=none without a session → %v, want login_required with the state", loc)
		}
	})

	t.Run("oidcc-prompt-none-logged-in", func(t *testing.T) {
		code := r.codeFor(t, "", url.Values{"prompt": {"none"}})
		if st, body := r.exchange(t, code, ""); st != 200 {
			t.Errorf("prompt=none signed in: %d %v", st, body)
		}
	})

	t.Run("oidcc-id-token-hint", func(t *testing.T) {
		_, first := r.exchange(t, r.codeFor(t, "", nil), "")
		hint := first["id_token"].(string)
		code := r.codeFor(t, "", url.Values{"prompt": {"none"}, "id_token_hint": {hint}})
		st, again := r.exchange(t, code, "")
		if st != 200 {
			t.Fatalf("prompt=none with id_token_hint: %d %v", st, again)
		}
		c1, c2 := jwtClaims(t, hint), jwtClaims(t, again["id_token"].(string))
		if c1["sub"] != c2["sub"] || c1["auth_time"] != c2["auth_time"] {
			t.Errorf("sub/auth_time changed: %v %v → %v %v", c1["sub"], c1["auth_time"], c2["sub"], c2["auth_time"])
		}
		// A hint that is not ours is login_required, never an error page or a code.
		resp, _ := get(t, r.browser, r.authURL("h2", url.Values{"prompt": {"none"}, "id_token_hint": {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}}))
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "login_required" || loc.Query().Get("code") != "" {
			t.Errorf("forged id_token_hint → %d %v, want login_required", resp.StatusCode, loc)
		}
	})

	t.Run("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		st, body := r.exchange(t, code, "")
		if st != 200 {
			t.Fatalf("%d %v", st, body)
		}
		if c := jwtClaims(t, body["id_token"].(string)); c["nonce"] != nil {
			t.Errorf("nonce in the ID token of a request without one: %v", c["nonce"])
		}
	})

	t.Run("oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T) {
		code := r.codeFor(t, "", url.Values{"extra": {"foobar"}, "display": {"page"}, "ui_locales": {"se"}, "login_hint": {"buffy@example.com"}})
		if st, body := r.exchange(t, code, ""); st != 200 {
			t.Errorf("%d %v", st, body)
		}
	})

	t.Run("oidcc-ensure-post-request-succeeds", func(t *testing.T) {
		q, _ := url.ParseQuery(strings.SplitN(r.authURL("post-1", nil), "?", 2)[1])
		resp, err := servertest.NoRedirects(r.browser).PostForm(r.provider.Endpoint().AuthURL, q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		next, _ := resp.Location()
		if next == nil {
			t.Fatalf("POST authorize: %d", resp.StatusCode)
		}
		resp2, _ := get(t, r.browser, resp.Request.URL.ResolveReference(next).String())
		loc, _ := resp2.Location()
		if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "post-1" {
			t.Errorf("POST authorize → %v, want a code", loc)
		}
	})

	t.Run("oidcc-userinfo-post-header", func(t *testing.T) {
		_, tok := r.exchange(t, r.codeFor(t, "", nil), "")
		req, _ := http.NewRequest("POST", s.BaseURL+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			ui["sub"] != jwtClaims(t, tok["id_token"].(string))["sub"] {
			t.Errorf("POST userinfo: %d %v", resp.StatusCode, ui)
		}
	})

	t.Run("oidcc-response-type-missing", func(t *testing.T) {
		q := url.Values{"response_type": {""}}
		resp, body := get(t, r.browser, r.authURL("st8", q))
		loc, _ := resp.Location()
		if loc != nil {
			if e := loc.Query().Get("error"); !strings.HasPrefix(loc.String(), rpRedirect) || (e != "invalid_request" && e != "unsupported_response_type") || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st8" {
				t.Errorf("→ %v", loc)
			}
		} else {
			wantErrorPage(t, resp, body)
		}
	})

	t.Run("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", func(t *testing.T) {
		resp, _ := get(t, r.browser, r.authURL("st9", url.Values{"request": {"eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6IngifQ."}}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "request_not_supported" || loc.Query().Get("code") != "" {
			t.Errorf("request object → %d %v, want request_not_supported", resp.StatusCode, loc)
		}
	})

	t.Run("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", func(t *testing.T) {
		resp, _ := get(t, r.browser, r.authURL("ru", url.Values{"request_uri": {"https://rp.example/request.jwt"}}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "request_uri_not_supported" || loc.Query().Get("state") != "ru" {
			t.Errorf("request_uri → %d %v, want request_uri_not_supported", resp.StatusCode, loc)
		}
		// With an unregistered redirect URI, still an error page and no redirect.
		resp, body := get(t, r.browser, r.authURL("ru", url.Values{"request_uri": {"https://rp.example/r"}, "redirect_uri": {"https://evil.example/cb"}}))
		wantErrorPage(t, resp, body)
	})

	t.Run("fapi2-security-profile-final-ensure-pkce-code-verifier-required", func(t *testing.T) {
		code := r.codeFor(t, oauth2.GenerateVerifier(), nil)
		st, body := r.exchange(t, code, "")
		wantOAuthError(t, st, body, 400, "invalid_grant")
	})

	t.Run("fapi2-security-profile-final-incorrect-pkce-code-verifier-rejected", func(t *testing.T) {
		code := r.codeFor(t, oauth2.GenerateVerifier(), nil)
		st, body := r.exchange(t, code, oauth2.GenerateVerifier())
		wantOAuthError(t, st, body, 400, "invalid_grant")
	})

	t.Run("fapi2-security-profile-final-par-plain-pkce-rejected", func(t *testing.T) {
		resp, _ := get(t, r.browser, r.authURL("p", url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("plain PKCE → %v, want invalid_request", loc)
		}
	})

	t.Run("wrong-client-secret", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		st, body, hdr := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpRedirect}}, r.id, "kcs_wrong")
		wantOAuthError(t, st, body, 401, "invalid_client")
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate = %q", hdr.Get("WWW-Authenticate"))
		}
	})

	b := newRP(t, s, oidcop.ClientSpec{Name: "대시보드"})

	t.Run("client-A-code-redeemed-by-B", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		st, body, _ := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpRedirect}}, b.id, b.secret)
		wantOAuthError(t, st, body, 400, "invalid_grant")
	})

	t.Run("oidcc-refresh-token/refresh-token-of-A-used-by-B", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		_, tok := r.exchange(t, code, "")
		st, body, _ := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok["refresh_token"].(string)}}, b.id, b.secret)
		wantOAuthError(t, st, body, 400, "invalid_grant")
		// A's own refresh still works, and keeps sub, aud, azp and auth_time.
		st, body, hdr := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok["refresh_token"].(string)}}, r.id, r.secret)
		if st != 200 || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("refresh: %d %v", st, body)
		}
		c1, c2 := jwtClaims(t, tok["id_token"].(string)), jwtClaims(t, body["id_token"].(string))
		for _, k := range []string{"sub", "iss", "azp", "auth_time"} {
			if c1[k] != c2[k] {
				t.Errorf("refreshed ID token %s = %v, was %v", k, c2[k], c1[k])
			}
		}
	})

	t.Run("expired-code", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		s.Clock.Advance(11 * time.Minute)
		st, body := r.exchange(t, code, "")
		wantOAuthError(t, st, body, 400, "invalid_grant")
	})

	t.Run("refresh-reuse-revokes-the-grant", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		_, tok := r.exchange(t, code, "")
		rt := tok["refresh_token"].(string)
		refresh := func(token string) (int, map[string]any) {
			st, body, _ := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}, r.id, r.secret)
			return st, body
		}
		st, next := refresh(rt)
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, next)
		}
		// Within the grace period, the same successor (two tabs); after it, reuse revokes.
		if st, again := refresh(rt); st != 200 || again["refresh_token"] != next["refresh_token"] {
			t.Errorf("grace replay: %d %v, want the same successor", st, again)
		}
		s.Clock.Advance(time.Minute)
		st, body := refresh(rt)
		wantOAuthError(t, st, body, 400, "invalid_grant")
		st, body = refresh(next["refresh_token"].(string))
		wantOAuthError(t, st, body, 400, "invalid_grant")
	})

	t.Run("userinfo-invalid-token", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.BaseURL+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer nonsense")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo with a bad token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		// A first-party access token is not a client's.
		access, _ := s.SPASignIn(t, 4217730412856391024)
		req.Header.Set("Authorization", "Bearer "+access)
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
			t.Errorf("userinfo with a first-party token: %d", resp.StatusCode)
		}
	})

	t.Run("introspection", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		_, tok := r.exchange(t, code, "")
		at := tok["access_token"].(string)
		st, body, _ := form(t, s.BaseURL+"/oauth2/introspect", url.Values{"token": {at}}, r.id, r.secret)
		if st != 200 || body["active"] != true || body["client_id"] != r.id || body["sub"] == nil {
			t.Errorf("own token: %d %v", st, body)
		}
		st, body, _ = form(t, s.BaseURL+"/oauth2/introspect", url.Values{"token": {at}}, b.id, b.secret)
		if st != 200 || body["active"] != false || len(body) != 1 {
			t.Errorf("another client's token: %d %v, want only active false", st, body)
		}
		st, _, _ = form(t, s.BaseURL+"/oauth2/introspect", url.Values{"token": {at}}, r.id, "kcs_wrong")
		if st != 401 {
			t.Errorf("bad caller credentials: %d, want 401", st)
		}
	})

	t.Run("revocation-of-another-clients-token-refused", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		_, tok := r.exchange(t, code, "")
		st, _, _ := form(t, s.BaseURL+"/oauth2/revoke", url.Values{"token": {tok["refresh_token"].(string)}}, b.id, b.secret)
		if st == 200 {
			// Either refused or silently ignored; the token must still work.
		}
		if st, body, _ := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok["refresh_token"].(string)}}, r.id, r.secret); st != 200 {
			t.Errorf("B revoked A's token: refresh answers %d %v", st, body)
		}
		revoke(t, s, r.id, r.secret, "not-a-token", http.StatusOK) // RFC 7009 §2.2
	})

	t.Run("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", func(t *testing.T) {
		code := r.codeFor(t, "", nil)
		_, tok := r.exchange(t, code, "")
		for _, bad := range []string{"https://evil.example/", rpLogout + "?foo=bar"} {
			q := url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {bad}, "state": {"x"}}
			resp, body := get(t, r.browser, s.BaseURL+"/oauth2/end_session?"+q.Encode())
			wantErrorPage(t, resp, body)
		}
	})

	t.Run("oidcc-rp-initiated-logout-no-params/055_no_logout_without_hint", func(t *testing.T) {
		resp, _ := get(t, r.browser, s.BaseURL+"/oauth2/end_session")
		loc, _ := resp.Location()
		if loc == nil || strings.HasPrefix(loc.String(), "https://rp.example") {
			t.Errorf("logout without parameters → %d %v, want our own page", resp.StatusCode, loc)
		}
		// Any page can make a browser send that: it must not sign the person out.
		if _, body := get(t, r.browser, s.BaseURL+"/"); !strings.Contains(body, "로그아웃") || !strings.Contains(body, `action="/auth/logout"`) {
			t.Errorf("a parameterless end_session signed the person out: %.300s", body)
		}
		code := r.codeFor(t, "", url.Values{"prompt": {"none"}})
		if code == "" {
			t.Error("no silent sign-in after a parameterless end_session")
		}
	})
}

func contains(v any, s string) bool {
	l, _ := v.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestOIDCPublicClient: a public client (no secret) must use PKCE S256.
func TestOIDCPublicClient(t *testing.T) {
	s := servertest.Start(t)
	r := newRP(t, s, oidcop.ClientSpec{Public: true, RedirectURIs: []string{rpRedirect}})
	if r.secret != "" {
		t.Fatal("a public client got a secret")
	}
	t.Run("fapi2-security-profile-final-par-ensure-pkce-required", func(t *testing.T) {
		resp, _ := get(t, r.browser, r.authURL("s1", nil))
		loc, _ := resp.Location()
		if loc == nil || !strings.HasPrefix(loc.String(), rpRedirect) || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("public client without PKCE → %v, want invalid_request", loc)
		}
	})
	t.Run("oidcc-ensure-request-with-valid-pkce-succeeds", func(t *testing.T) {
		v := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~" + strings.Repeat("x", 60)
		loc, _ := r.authorize(oauth2.S256ChallengeOption(v))
		tok, err := r.conf.Exchange(context.Background(), r.code(loc), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("exchange with PKCE and no secret: %v", err)
		}
		if _, err := r.provider.Verifier(&oidc.Config{ClientID: r.id}).Verify(t.Context(), tok.Extra("id_token").(string)); err != nil {
			t.Error(err)
		}
	})
}
