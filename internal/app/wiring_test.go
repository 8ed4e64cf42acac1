package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
)

func testConfig(t *testing.T, dbURL string) app.Config {
	t.Helper()
	u, _ := url.Parse("http://127.0.0.1:8080")
	return app.Config{
		PublicURL: u, DatabaseURL: dbURL, Secret: strings.Repeat("s", 40),
		ClientID: "rest-key", AuthURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:1",
		OIDC: true, KakaoTimeout: time.Second, AccessTTL: 15 * time.Minute,
	}
}

// TestNew_WiresAReadyServer: New opens the database of the URL, loads a signing key and
// answers /readyz, the JWKS and discovery; Close releases the database.
func TestNew_WiresAReadyServer(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(ctx, testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Issuer.KeyIDs()) != 1 {
		t.Errorf("signing keys loaded: %v, want one", a.Issuer.KeyIDs())
	}
	for path, want := range map[string]string{
		"/readyz":                           `"ready"`,
		"/.well-known/jwks.json":            `"kid":"` + a.Issuer.SigningKeyID() + `"`,
		"/.well-known/openid-configuration": `"issuer":"http://127.0.0.1:8080"`,
		"/metrics":                          "kakaoauth_build_info",
	} {
		rec := httptest.NewRecorder()
		a.Server.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %.200s, want 200 with %s", path, rec.Code, rec.Body.String(), want)
		}
	}
	// The login starts at the configured Kakao, with the callback under the public URL.
	rec := httptest.NewRecorder()
	a.Server.ServeHTTP(rec, httptest.NewRequest("GET", "/auth/kakao/login", nil))
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusFound || !strings.HasPrefix(loc, "http://127.0.0.1:1/oauth/authorize?") ||
		!strings.Contains(loc, url.QueryEscape("http://127.0.0.1:8080/auth/kakao/callback")) || !strings.Contains(loc, "openid") {
		t.Errorf("login start: %d %s", rec.Code, loc)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestNew_Refusals: a bad secret or an unopenable database is an error naming the variable,
// and nothing stays open.
func TestNew_Refusals(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db"))
	cfg.Secret = "short"
	if _, err := app.New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_SECRET") {
		t.Errorf("short secret: %v, want an error naming KAKAOAUTH_SECRET", err)
	}
	cfg = testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "no", "such", "dir", "c.db"))
	if _, err := app.New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_DATABASE_URL") {
		t.Errorf("unopenable database: %v, want an error naming KAKAOAUTH_DATABASE_URL", err)
	}
	cfg = testConfig(t, "postgres://nobody:hunter2secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	_, err := app.New(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_DATABASE_URL") || strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("unreachable PostgreSQL: %v, want an error naming the variable and not its password", err)
	}
}

func TestIsPostgresURL(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://u@h/db": true, "sqlite:x.db": false, "x.db": false, "": false,
	} {
		if got := app.IsPostgresURL(in); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", in, got, want)
		}
	}
}
