package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func goodServeEnv() map[string]string {
	return map[string]string{
		"KAKAOAUTH_PUBLIC_URL":      "https://auth.example.com",
		"KAKAOAUTH_SECRET":          strings.Repeat("s", 40),
		"KAKAOAUTH_KAKAO_CLIENT_ID": "rest-key",
	}
}

func TestConfig_ServeAcceptsGood(t *testing.T) {
	c, err := loadConfig(env(goodServeEnv()), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL.String() != "https://auth.example.com" || c.AccessTTL.String() != "15m0s" || c.RefreshGrace.String() != "10s" || !c.OIDC {
		t.Fatalf("defaults: %+v", c)
	}
}

// TestConfig_DatabaseURL: sqlite: paths and postgres:// or postgresql:// URLs are accepted.
func TestConfig_DatabaseURL(t *testing.T) {
	for _, u := range []string{"sqlite:/var/lib/kakaoauth.db", "postgres://kakaoauth:pw@db.internal:5432/kakaoauth?sslmode=verify-full",
		"postgresql://db.internal/kakaoauth"} {
		e := goodServeEnv()
		e["KAKAOAUTH_DATABASE_URL"] = u
		c, err := loadConfig(env(e), false)
		if err != nil || c.DatabaseURL != u {
			t.Errorf("KAKAOAUTH_DATABASE_URL=%s: DatabaseURL %q, err %v; want it accepted", u, c.DatabaseURL, err)
		}
	}
}

// TestConfig_ServeRefusesUnsafe: serve names the variable that is missing or unsafe.
func TestConfig_ServeRefusesUnsafe(t *testing.T) {
	cases := []struct {
		name, key, value, wantVar string
	}{
		{"no public url", "KAKAOAUTH_PUBLIC_URL", "", "KAKAOAUTH_PUBLIC_URL"},
		{"http public url", "KAKAOAUTH_PUBLIC_URL", "http://auth.example.com", "KAKAOAUTH_PUBLIC_URL"},
		{"public url with path", "KAKAOAUTH_PUBLIC_URL", "https://auth.example.com/x", "KAKAOAUTH_PUBLIC_URL"},
		{"short secret", "KAKAOAUTH_SECRET", "short", "KAKAOAUTH_SECRET"},
		{"dev secret", "KAKAOAUTH_SECRET", devSecret, "KAKAOAUTH_SECRET"},
		{"no client id", "KAKAOAUTH_KAKAO_CLIENT_ID", "", "KAKAOAUTH_KAKAO_CLIENT_ID"},
		{"09 http redirect uri", "KAKAOAUTH_REDIRECT_URIS", "http://app.example.com/cb", "KAKAOAUTH_REDIRECT_URIS"},
		{"redirect uri with fragment", "KAKAOAUTH_REDIRECT_URIS", "https://app.example.com/cb#x", "KAKAOAUTH_REDIRECT_URIS"},
		{"origin with path", "KAKAOAUTH_ALLOWED_ORIGINS", "https://app.example.com/x", "KAKAOAUTH_ALLOWED_ORIGINS"},
		{"http kakao url", "KAKAOAUTH_KAKAO_AUTH_URL", "http://kauth.kakao.com", "KAKAOAUTH_KAKAO_AUTH_URL"},
		{"bad duration", "KAKAOAUTH_ACCESS_TTL", "soon", "KAKAOAUTH_ACCESS_TTL"},
		{"huge access ttl", "KAKAOAUTH_ACCESS_TTL", "48h", "KAKAOAUTH_ACCESS_TTL"},
		{"samesite", "KAKAOAUTH_COOKIE_SAMESITE", "loose", "KAKAOAUTH_COOKIE_SAMESITE"},
		{"unknown database scheme", "KAKAOAUTH_DATABASE_URL", "mysql://x", "KAKAOAUTH_DATABASE_URL"},
		{"postgres url without host", "KAKAOAUTH_DATABASE_URL", "postgres:///kakaoauth", "KAKAOAUTH_DATABASE_URL"},
		{"return_to not local", "KAKAOAUTH_RETURN_TO", "//evil.example", "KAKAOAUTH_RETURN_TO"},
		{"bad app id", "KAKAOAUTH_KAKAO_APP_ID", "abc", "KAKAOAUTH_KAKAO_APP_ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := goodServeEnv()
			e[tc.key] = tc.value
			_, err := loadConfig(env(e), false)
			if err == nil || !strings.Contains(err.Error(), tc.wantVar) {
				t.Fatalf("err = %v, want one naming %s", err, tc.wantVar)
			}
		})
	}
	// Loopback http is accepted so a local test setup works.
	e := goodServeEnv()
	e["KAKAOAUTH_PUBLIC_URL"] = "http://127.0.0.1:8080"
	e["KAKAOAUTH_KAKAO_AUTH_URL"] = "http://localhost:9911"
	if _, err := loadConfig(env(e), false); err != nil {
		t.Fatalf("loopback http refused: %v", err)
	}
	// SameSite=None needs https.
	e["KAKAOAUTH_COOKIE_SAMESITE"] = "none"
	if _, err := loadConfig(env(e), false); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_COOKIE_SAMESITE") {
		t.Fatalf("SameSite=None over http: %v", err)
	}
}

func TestRun_Commands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"kakaoauth", "version"}, env(nil), &out, &errb); err != nil || !strings.HasPrefix(out.String(), "kakaoauth ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	var u usageError
	if err := run(context.Background(), []string{"kakaoauth", "nope"}, env(nil), &out, &errb); !errors.As(err, &u) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(context.Background(), []string{"kakaoauth"}, env(nil), &out, &errb); !errors.As(err, &u) {
		t.Fatalf("no command: %v", err)
	}
	// serve with nothing configured refuses to start, naming the variables.
	err := run(context.Background(), []string{"kakaoauth", "serve"}, env(nil), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_PUBLIC_URL") || !strings.Contains(err.Error(), "KAKAOAUTH_SECRET") {
		t.Fatalf("serve without config: %v", err)
	}
	// migrate on a fresh file.
	out.Reset()
	dir := t.TempDir()
	if err := run(context.Background(), []string{"kakaoauth", "migrate"}, env(map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + dir + "/m.db"}), &out, &errb); err != nil || !strings.Contains(out.String(), "migrated") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
}

// TestE2E_TokenVerifiesFromJWKSURL: an access token issued here verifies with standard JOSE
// verifiers given only the JWKS URL.
func TestE2E_TokenVerifiesFromJWKSURL(t *testing.T) {
	d := startDev(t, nil)
	b := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, 4217730412856391024), "redirect_uri": spaRedirect}, nil))
	access := b["token"].(map[string]any)["access"].(string)
	jwksURL := d.BaseURL + "/.well-known/jwks.json"

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
	if err := jsonDecode(r, &set); err != nil {
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
	if err := claims.Validate(jwt.Expected{Issuer: d.BaseURL, AnyAudience: jwt.Audience{d.BaseURL}}); err != nil {
		t.Fatalf("claims: %v", err)
	}
	if tok.Headers[0].ExtraHeaders["typ"] != "at+jwt" {
		t.Fatalf("typ = %v", tok.Headers[0].ExtraHeaders["typ"])
	}
}

// TestReadmeListsEverySetting keeps the README's configuration table in step with the code.
func TestReadmeListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(b), "`"+s.Name+"`") {
			t.Errorf("README does not document %s", s.Name)
		}
	}
}
