package kakaotest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// oidcClient is a standard OIDC relying party: go-oidc discovery and verifier, x/oauth2 with
// the client secret in the body and PKCE.
type oidcClient struct {
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
	ctx      context.Context
}

func newOIDCClient(t *testing.T, s *kakaotest.Server, c *clock) *oidcClient {
	t.Helper()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.Client())
	provider, err := oidc.NewProvider(ctx, s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	app := testApp()
	return &oidcClient{
		conf: oauth2.Config{ClientID: app.RESTKey, ClientSecret: app.ClientSecret, Endpoint: ep,
			RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID}},
		verifier: provider.Verifier(&oidc.Config{ClientID: app.RESTKey, Now: c.Now}),
		ctx:      ctx,
	}
}

// callback follows the authorize URL (and, with a form, the consent page) to the redirect.
func callbackParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %q, want %q", got, redirectURI)
	}
	return loc.Query()
}

func (oc *oidcClient) finish(t *testing.T, q url.Values, state, nonce, verifier string) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	tok, err := oc.conf.Exchange(oc.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := oc.verifier.Verify(oc.ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	return tok, idt
}

func TestFlow_OAuth2AndOIDC_AutoConsent(t *testing.T) {
	s, c := newEmu(t)
	s.SetAutoConsent(userVerified)
	oc := newOIDCClient(t, s, c)
	verifier := oauth2.GenerateVerifier()
	authURL := oc.conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-1"))
	resp, err := noRedirect(s.Client()).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok, idt := oc.finish(t, callbackParams(t, resp), "st-1", "n-1", verifier)

	if idt.Subject != strconv.FormatInt(userVerified, 10) {
		t.Errorf("sub = %q", idt.Subject)
	}
	var claims struct {
		Nickname, Picture, Email string
		AuthTime                 int64 `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Nickname != "김민준" || claims.Email != "minjun.kim@example.com" || claims.Picture == "" || claims.AuthTime != c.Now().Unix() {
		t.Errorf("claims = %+v", claims)
	}
	if tok.TokenType != "bearer" || tok.RefreshToken == "" {
		t.Errorf("token = %+v", tok)
	}
	if got := tok.Extra("scope"); got != "profile_nickname profile_image account_email openid" {
		t.Errorf("scope = %v", got)
	}
	// The access token works on kapi through the standard client.
	me, err := oc.conf.Client(oc.ctx, tok).Get(s.URL + "/v2/user/me")
	if err != nil {
		t.Fatal(err)
	}
	me.Body.Close()
	if me.StatusCode != http.StatusOK {
		t.Errorf("/v2/user/me = %d", me.StatusCode)
	}
	// Refresh through x/oauth2: new access token; no new refresh token (60 days left).
	c.Add(7 * 3600e9)
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute) // x/oauth2 reads the real clock
	src := oc.conf.TokenSource(oc.ctx, &stale)
	tok2, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken != tok.RefreshToken {
		t.Errorf("refresh: access changed=%v, refresh kept=%v", tok2.AccessToken != tok.AccessToken, tok2.RefreshToken == tok.RefreshToken)
	}
	if raw, _ := tok2.Extra("id_token").(string); raw == "" {
		t.Error("refresh of an openid token returned no id_token")
	} else if _, err := oc.verifier.Verify(oc.ctx, raw); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}
}

var (
	requestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)
	formRE    = regexp.MustCompile(`<form method="post" action="/oauth/authorize">`)
)

func TestFlow_ConsentFormWithCookieJar(t *testing.T) {
	s, c := newEmu(t)
	oc := newOIDCClient(t, s, c)
	jar, _ := cookiejar.New(nil)
	browser := noRedirect(s.Client())
	browser.Jar = jar

	verifier := oauth2.GenerateVerifier()
	authURL := oc.conf.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-2"))
	page := getPage(t, browser, authURL)
	if n := len(formRE.FindAllString(page, -1)); n != 1 {
		t.Fatalf("forms = %d, want 1", n)
	}
	m := requestRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no request field")
	}
	// Agree as the user without email, ticking only the image (nickname is required).
	resp, err := browser.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {m[1]},
		"user": {strconv.FormatInt(userNoEmail, 10)}, "scope": {"profile_nickname", "profile_image"},
		"action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, idt := oc.finish(t, callbackParams(t, resp), "st-2", "n-2", verifier)
	if idt.Subject != strconv.FormatInt(userNoEmail, 10) {
		t.Errorf("sub = %q", idt.Subject)
	}
	u, _ := s.User(userNoEmail)
	if got, want := u.Agreed, []string{"profile_nickname", "profile_image"}; !equal(got, want) {
		t.Errorf("agreed = %v, want %v", got, want)
	}

	// The Kakao session makes the next authorize answer at once, and prompt=none works.
	for _, prompt := range []string{"", "none"} {
		opts := []oauth2.AuthCodeOption{oidc.Nonce("n-3")}
		if prompt != "" {
			opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
		}
		resp, err = browser.Get(oc.conf.AuthCodeURL("st-3", opts...))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		q := callbackParams(t, resp)
		if q.Get("code") == "" {
			t.Errorf("prompt=%q: no code: %v", prompt, q)
		}
	}
	// prompt=login always shows the page.
	resp, err = browser.Get(oc.conf.AuthCodeURL("st-4", oauth2.SetAuthURLParam("prompt", "login")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("prompt=login status = %d, want 200 page", resp.StatusCode)
	}
}

func TestFlow_NewUserAndCancel(t *testing.T) {
	s, _ := newEmu(t)
	browser := noRedirect(s.Client())
	authURL := s.URL + "/oauth/authorize?" + url.Values{"client_id": {testApp().RESTKey},
		"redirect_uri": {redirectURI}, "response_type": {"code"}, "state": {"a b&c"}}.Encode()

	page := getPage(t, browser, authURL)
	id := requestRE.FindStringSubmatch(page)[1]
	resp, err := browser.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id}, "action": {"cancel"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Location"), redirectURI+"?error=access_denied&error_description=User%20denied%20access&state=a%20b%26c"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	page = getPage(t, browser, authURL)
	id = requestRE.FindStringSubmatch(page)[1]
	resp, err = browser.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id}, "user": {"new"},
		"nickname": {"새친구"}, "email": {"new@example.com"}, "scope": {"account_email"}, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q := callbackParams(t, resp)
	r := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(q.Get("code")))
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	me := do(t, s, http.MethodGet, "/v2/user/me", "Bearer "+str(r.JSON(t), "access_token"), nil)
	m := me.JSON(t)
	id19 := string(m["id"].(json.Number))
	if len(id19) != 19 {
		t.Errorf("new user id %q is not 19 digits", id19)
	}
	acc := m["kakao_account"].(map[string]any)
	if acc["email"] != "new@example.com" || acc["profile_image_needs_agreement"] != true {
		t.Errorf("kakao_account = %v", acc)
	}
}

func TestFlow_ConsentFormErrors(t *testing.T) {
	s, _ := newEmu(t)
	browser := noRedirect(s.Client())
	authURL := s.URL + "/oauth/authorize?" + url.Values{"client_id": {testApp().RESTKey},
		"redirect_uri": {redirectURI}, "response_type": {"code"}}.Encode()
	page := getPage(t, browser, authURL)
	id := requestRE.FindStringSubmatch(page)[1]
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no user", url.Values{"action": {"agree"}}, `href="#user-first"`},
		{"new without nickname", url.Values{"action": {"agree"}, "user": {"new"}}, `href="#nickname"`},
		{"unknown user", url.Values{"action": {"agree"}, "user": {"42"}}, `href="#user-first"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("request", id)
			resp, err := browser.PostForm(s.URL+"/oauth/authorize", tt.form)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			for _, want := range []string{tt.want, "<title>오류: ", `id="error-summary"`} {
				if !contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	resp, err := browser.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {"expired"}, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown request: status %d", resp.StatusCode)
	}
}
