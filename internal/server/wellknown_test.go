package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestJWKS_TokenVerifiesFromJWKSURL: an access token issued here verifies with standard JOSE
// verifiers given only the JWKS URL.
func TestJWKS_TokenVerifiesFromJWKSURL(t *testing.T) {
	s := servertest.Start(t)
	access, _ := s.SPASignIn(t, 4217730412856391024)
	jwksURL := s.BaseURL + "/.well-known/jwks.json"

	// go-oidc's remote key set (fetches the URL itself).
	ks := oidc.NewRemoteKeySet(context.Background(), jwksURL)
	payload, err := ks.VerifySignature(context.Background(), access)
	if err != nil {
		t.Fatalf("go-oidc remote key set: %v", err)
	}
	if !bytes.Contains(payload, []byte(`"sid"`)) {
		t.Fatalf("payload lacks sid: %s", payload)
	}

	// go-jose with the fetched JWKS, checking the registered claims.
	r, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(servertest.ReadBody(t, r)), &set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(access, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS", tok.Headers[0].KeyID)
	}
	var claims jwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatal(err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: s.BaseURL, AnyAudience: jwt.Audience{s.BaseURL}}); err != nil {
		t.Fatalf("claims: %v", err)
	}
	if tok.Headers[0].ExtraHeaders["typ"] != "at+jwt" {
		t.Fatalf("typ = %v", tok.Headers[0].ExtraHeaders["typ"])
	}
}
