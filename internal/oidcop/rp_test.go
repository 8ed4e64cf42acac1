package oidcop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// rpRedirect is the relying party's registered redirect URI; the browser stops there.
const rpRedirect = "https://rp.example/callback"
const rpLogout = "https://rp.example/logged-out"

type rp struct {
	t        *testing.T
	srv      *servertest.Server
	id       string
	secret   string
	provider *oidc.Provider
	conf     oauth2.Config
	browser  *http.Client
}

func oidcStore(t testing.TB, s *servertest.Server) auth.OIDCStore {
	st, ok := s.App.Store.(auth.OIDCStore)
	if !ok {
		t.Fatal("the store keeps no OpenID Provider tables")
	}
	return st
}

func newClient(t testing.TB, s *servertest.Server, spec oidcop.ClientSpec) (id, secret string) {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "위키"
	}
	if spec.RedirectURIs == nil {
		spec.RedirectURIs = []string{rpRedirect}
	}
	if spec.PostLogoutRedirectURIs == nil {
		spec.PostLogoutRedirectURIs = []string{rpLogout}
	}
	id, secret, err := oidcop.CreateClient(context.Background(), oidcStore(t, s), spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// newRP is a relying party built only from golang.org/x/oauth2 and go-oidc.
func newRP(t *testing.T, s *servertest.Server, spec oidcop.ClientSpec) *rp {
	t.Helper()
	id, secret := newClient(t, s, spec)
	p, err := oidc.NewProvider(t.Context(), s.BaseURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	r := &rp{t: t, srv: s, id: id, secret: secret, provider: p, browser: stopAt(servertest.NewBrowser(t), "https://rp.example/")}
	r.conf = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	return r
}

// stopAt makes c stop following redirects at URLs with prefix (the relying party's pages).
func stopAt(c *http.Client, prefix string) *http.Client {
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), prefix) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

func random(t testing.TB) string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize runs the browser through the authorization request and returns where it was sent
// at the relying party, and the last response.
func (r *rp) authorize(opts ...oauth2.AuthCodeOption) (*url.URL, *http.Response) {
	r.t.Helper()
	state := random(r.t)
	resp, err := r.browser.Get(r.conf.AuthCodeURL(state, opts...))
	if err != nil {
		r.t.Fatal(err)
	}
	return r.follow(resp, state)
}

// follow goes through Kakao's (the emulator's) consent and our consent page as a person would.
func (r *rp) follow(resp *http.Response, state string) (*url.URL, *http.Response) {
	r.t.Helper()
	for range 5 {
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
			loc, err := resp.Location()
			if err != nil {
				r.t.Fatal(err)
			}
			resp.Body.Close()
			if state != "" && loc.Query().Get("state") != state {
				r.t.Fatalf("state not echoed: %s", loc)
			}
			return loc, resp
		case strings.HasPrefix(resp.Request.URL.String(), r.srv.EmulatorURL):
			resp = servertest.Consent(r.t, r.browser, resp, servertest.UserWithEmail, "agree", "profile_nickname", "profile_image", "account_email")
		case strings.Contains(resp.Request.URL.Path, "/auth/oidc/continue") && resp.StatusCode == 200:
			resp = r.agree(resp)
		default:
			body := servertest.ReadBody(r.t, resp)
			r.t.Fatalf("unexpected page %s (%d): %.500s", resp.Request.URL, resp.StatusCode, body)
		}
	}
	r.t.Fatal("too many steps")
	return nil, nil
}

var hidden = func(body, name string) string {
	i := strings.Index(body, `name="`+name+`" value="`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`name="`+name+`" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// agree submits our consent page.
func (r *rp) agree(page *http.Response) *http.Response {
	r.t.Helper()
	body := servertest.ReadBody(r.t, page)
	form := url.Values{"id": {hidden(body, "id")}, "csrf": {hidden(body, "csrf")}, "action": {"agree"}}
	resp, err := r.browser.PostForm(r.srv.BaseURL+"/auth/oidc/consent", form)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp
}

func (r *rp) code(loc *url.URL) string {
	r.t.Helper()
	if !strings.HasPrefix(loc.String(), rpRedirect) {
		r.t.Fatalf("sent to %s, want the redirect URI", loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		r.t.Fatalf("no code: %s", loc)
	}
	return code
}

func TestOIDCRelyingPartyFlow(t *testing.T) {
	s := servertest.Start(t)
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			r := newRP(t, s, oidcop.ClientSpec{IDTokenAlg: alg})
			ctx := t.Context()
			verifier, nonce := oauth2.GenerateVerifier(), random(t)
			loc, _ := r.authorize(oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
			if iss := loc.Query().Get("iss"); iss != "" && iss != s.BaseURL {
				t.Errorf("iss in the authorization response = %q", iss)
			}
			tok, err := r.conf.Exchange(ctx, r.code(loc), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := r.provider.Verifier(&oidc.Config{ClientID: r.id, SupportedSigningAlgs: []string{alg}}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			var claims struct {
				Nonce, AtHash, Azp, Email, Name, Picture string
				AuthTime                                 int64 `json:"auth_time"`
				EmailVerified                            bool  `json:"email_verified"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", claims.Nonce, nonce)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil || idt.AccessTokenHash == "" {
				t.Errorf("at_hash %q does not match the access token: %v", idt.AccessTokenHash, err)
			}
			if claims.AuthTime == 0 || claims.Email != "minjun.kim@example.com" || !claims.EmailVerified || claims.Name == "" {
				t.Errorf("claims = %+v; want auth_time, the verified email and the name", claims)
			}
			if idt.Subject == servertest.UserWithEmail || idt.Subject == "" {
				t.Errorf("sub = %q: must be our user id, never the Kakao id", idt.Subject)
			}
			// The access token is an RFC 9068 JWT.
			if h := jwtHeader(t, tok.AccessToken); h["typ"] != "at+jwt" || h["alg"] != "RS256" {
				t.Errorf("access token header = %v, want typ at+jwt, RS256", h)
			}
			at := jwtClaims(t, tok.AccessToken)
			if at["client_id"] != r.id || !strings.Contains(at["scope"].(string), "openid") || at["sub"] != idt.Subject ||
				at["aud"] != s.BaseURL+"/oauth2/userinfo" || at["jti"] == nil || at["exp"] == nil {
				t.Errorf("access token claims = %v", at)
			}
			// It is not a first-party access token.
			if resp := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": tok.AccessToken}, nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("first-party verify of a client's access token: %d, want 401", resp.StatusCode)
			}
			// UserInfo: the same sub.
			ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if ui.Subject != idt.Subject || ui.Email != "minjun.kim@example.com" {
				t.Errorf("userinfo = %+v, want sub %s", ui, idt.Subject)
			}
			// Refresh rotates.
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}
			tok2, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
				t.Error("refresh did not rotate the refresh token or make a new access token")
			}
			if raw2, _ := tok2.Extra("id_token").(string); raw2 != "" {
				idt2, err := r.provider.Verifier(&oidc.Config{ClientID: r.id, SupportedSigningAlgs: []string{alg}}).Verify(ctx, raw2)
				if err != nil || idt2.Subject != idt.Subject {
					t.Errorf("refreshed ID token: %v, sub %v", err, idt2)
				}
			}
			// Revocation ends the grant: the refresh token and the access token.
			revoke(t, s, r.id, r.secret, tok2.RefreshToken, http.StatusOK)
			if _, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("refresh after revocation: %v, want invalid_grant", err)
			}
			if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
				t.Error("userinfo accepts the access token of a revoked grant")
			}
			// Logout: back to the registered post-logout URI with the state, signed out here.
			state := random(t)
			q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rpLogout}, "state": {state}}
			var end struct {
				EndSession string `json:"end_session_endpoint"`
			}
			if err := r.provider.Claims(&end); err != nil || end.EndSession == "" {
				t.Fatalf("end_session_endpoint: %v", err)
			}
			resp, err := r.browser.Get(end.EndSession + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil ||
				!strings.HasPrefix(loc.String(), rpLogout+"?") || loc.Query().Get("state") != state {
				t.Fatalf("logout answered %d %v, want a redirect to %s with the state", resp.StatusCode, loc, rpLogout)
			}
			// After logout, prompt=none needs a login.
			loc, _ = r.authorize(oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))
			if e := loc.Query().Get("error"); e != "login_required" {
				t.Errorf("prompt=none after logout: %s, want login_required", loc)
			}
		})
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func revoke(t testing.TB, s *servertest.Server, id, secret, token string, want int) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := servertest.ReadBody(t, resp)
	if resp.StatusCode != want {
		t.Fatalf("revoke: %d %s, want %d", resp.StatusCode, body, want)
	}
}

func jwtPart(t testing.TB, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40s", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jwtHeader(t testing.TB, tok string) map[string]any { return jwtPart(t, tok, 0) }
func jwtClaims(t testing.TB, tok string) map[string]any { return jwtPart(t, tok, 1) }
