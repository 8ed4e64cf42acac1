package oidcop_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// pgSchema makes an empty schema of its own for t (dropped at its end) and returns a database
// URL that selects it; without KAKAOAUTH_TEST_POSTGRES_URL the test is skipped (CI sets it).
func pgSchema(t *testing.T) string {
	u, _ := pgtest.Schema(t)
	return u
}

func openStore(t *testing.T, dbURL string) app.Store {
	t.Helper()
	st, err := app.OpenStore(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestOIDCReplicas: a client registered through one replica works on another sharing the
// PostgreSQL store, and the tokens of one are good at the other (one issuer, shared keys).
func TestOIDCReplicas(t *testing.T) {
	dbURL := pgSchema(t)
	a := servertest.Start(t, func(o *servertest.Options) { o.Store = openStore(t, dbURL) })
	b := servertest.Start(t, func(o *servertest.Options) {
		o.Store = openStore(t, dbURL)
		o.Config.PublicURL = a.Config.PublicURL // replicas share one public URL (the issuer)
	})
	// Registered through b; the person signs in at a.
	id, secret := newClient(t, b, oidcop.ClientSpec{Name: "복제 테스트"})
	p, err := oidc.NewProvider(t.Context(), a.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &rp{t: t, srv: a, id: id, secret: secret, provider: p, browser: stopAt(servertest.NewBrowser(t), "https://rp.example/")}
	r.conf = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess}}
	v := oauth2.GenerateVerifier()
	loc, _ := r.authorize(oauth2.S256ChallengeOption(v))
	code := r.code(loc)

	// The code is redeemed at b, whose keys are the same.
	st, tok, _ := form(t, b.BaseURL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}, "code_verifier": {v}}, id, secret)
	if st != 200 {
		t.Fatalf("exchange at the other replica: %d %v", st, tok)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: id}).Verify(t.Context(), tok["id_token"].(string))
	if err != nil {
		t.Fatalf("ID token from the other replica: %v", err)
	}
	// Refresh at a, introspect at b.
	st, next, _ := form(t, a.BaseURL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, id, secret)
	if st != 200 {
		t.Fatalf("refresh at the first replica: %d %v", st, next)
	}
	st, in, _ := form(t, b.BaseURL+"/oauth2/introspect", url.Values{"token": {next["access_token"].(string)}}, id, secret)
	if st != 200 || in["active"] != true || in["sub"] != idt.Subject {
		t.Errorf("introspection at the other replica: %d %v", st, in)
	}
	// Revoked at b: dead at a.
	revoke(t, b, id, secret, next["refresh_token"].(string), 200)
	st, body, _ := form(t, a.BaseURL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next["refresh_token"].(string)}}, id, secret)
	wantOAuthError(t, st, body, 400, "invalid_grant")
}
