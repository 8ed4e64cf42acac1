package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func goodServeEnv() map[string]string {
	return map[string]string{
		"KAKAOAUTH_PUBLIC_URL":      "https://auth.example.com",
		"KAKAOAUTH_SECRET":          strings.Repeat("s", 40),
		"KAKAOAUTH_KAKAO_CLIENT_ID": "rest-key",
	}
}

// with returns goodServeEnv (serve) or an empty environment (dev), with the given variables set.
func with(dev bool, set map[string]string) map[string]string {
	e := map[string]string{}
	if !dev {
		e = goodServeEnv()
	}
	for k, v := range set {
		e[k] = v
	}
	return e
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
		c, err := loadConfig(env(with(false, map[string]string{"KAKAOAUTH_DATABASE_URL": u})), false)
		if err != nil || c.DatabaseURL != u {
			t.Errorf("KAKAOAUTH_DATABASE_URL=%s: DatabaseURL %q, err %v; want it accepted", u, c.DatabaseURL, err)
		}
	}
}

// TestConfig_ServeRefusesUnsafe: serve names the variable that is missing or unsafe.
func TestConfig_ServeRefusesUnsafe(t *testing.T) {
	type cases = map[string]string // subtest name → the variable's value, over goodServeEnv
	tests := []struct {
		want  string // the variable set, which the error must name
		cases cases
	}{
		{"KAKAOAUTH_ADDR", cases{"bad addr": "8080", "addr without port": "127.0.0.1"}},
		{"KAKAOAUTH_PUBLIC_URL", cases{"no public url": "", "http public url": "http://auth.example.com", "public url with path": "https://auth.example.com/x"}},
		{"KAKAOAUTH_DATABASE_URL", cases{"unknown database scheme": "mysql://x", "postgres url without host": "postgres:///kakaoauth", "sqlite without a path": "sqlite:"}},
		{"KAKAOAUTH_SECRET", cases{"short secret": "short", "dev secret": devSecret}},
		{"KAKAOAUTH_KAKAO_CLIENT_ID", cases{"no client id": ""}},
		{"KAKAOAUTH_KAKAO_APP_ID", cases{"bad app id": "abc", "zero app id": "0"}},
		{"KAKAOAUTH_KAKAO_AUTH_URL", cases{"http kakao url": "http://kauth.kakao.com", "kakao url with a query": "https://kauth.kakao.com?x=1"}},
		{"KAKAOAUTH_KAKAO_API_URL", cases{"api url not absolute": "kapi.kakao.com"}},
		{"KAKAOAUTH_KAKAO_OIDC", cases{"oidc not a bool": "yes"}},
		{"KAKAOAUTH_KAKAO_TIMEOUT", cases{"zero kakao timeout": "0", "kakao timeout without unit": "10"}},
		{"KAKAOAUTH_REDIRECT_URIS", cases{"09 http redirect uri": "http://app.example.com/cb", "redirect uri with fragment": "https://app.example.com/cb#x"}},
		{"KAKAOAUTH_RETURN_TO", cases{"return_to not local": "//evil.example", "return_to with backslash": `/\evil.example`, "return_to http url": "http://app.example.com/"}},
		{"KAKAOAUTH_ALLOWED_ORIGINS", cases{"origin with path": "https://app.example.com/x", "origin with query": "https://app.example.com?x=1"}},
		{"KAKAOAUTH_KEY_ROTATION", cases{"key rotation under 1h": "30m"}},
		{"KAKAOAUTH_KEY_RELOAD", cases{"key reload under 1s": "500ms", "key reload over 1h": "2h", "zero key reload": "0"}},
		{"KAKAOAUTH_ACCESS_TTL", cases{"bad duration": "soon", "huge access ttl": "48h"}},
		{"KAKAOAUTH_REFRESH_TTL", cases{"negative refresh ttl": "-1h"}},
		{"KAKAOAUTH_REFRESH_GRACE", cases{"long refresh grace": "2m", "negative refresh grace": "-1s"}},
		{"KAKAOAUTH_REFRESH_GRACE_MAX", cases{"grace max above 1000": "1001", "negative grace max": "-1"}},
		{"KAKAOAUTH_FLOW_TTL", cases{"zero flow ttl": "0s"}},
		{"KAKAOAUTH_COOKIE_ACCESS", cases{"access cookie name": "a b"}},
		{"KAKAOAUTH_COOKIE_REFRESH", cases{"refresh cookie name": strings.Repeat("r", 65), "refresh cookie with semicolon": "r;x"}},
		{"KAKAOAUTH_COOKIE_CSRF", cases{"csrf cookie name": "csrf=x"}},
		{"KAKAOAUTH_COOKIE_SAMESITE", cases{"samesite": "loose"}},
		{"KAKAOAUTH_RATE_LIMITS", cases{"rate limit without period": "30", "zero rate limit burst": "0/1m"}},
		{"KAKAOAUTH_SHUTDOWN_TIMEOUT", cases{"zero shutdown timeout": "0"}},
		{"KAKAOAUTH_LOG_LEVEL", cases{"log level": "trace"}},
		{"KAKAOAUTH_LOG_FORMAT", cases{"log format": "xml"}},
		{"KAKAOAUTH_METRICS_ADDR", cases{"metrics addr": "9090"}},
		{"KAKAOAUTH_PPROF_ADDR", cases{"pprof addr not loopback": ":6060", "pprof addr without port": "127.0.0.1"}},
	}
	for _, tc := range tests {
		for _, name := range slices.Sorted(maps.Keys(tc.cases)) {
			t.Run(name, func(t *testing.T) {
				_, err := loadConfig(env(with(false, map[string]string{tc.want: tc.cases[name]})), false)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one naming %s", err, tc.want)
				}
			})
		}
	}
	// SameSite=None needs https.
	e := with(false, map[string]string{"KAKAOAUTH_PUBLIC_URL": "http://127.0.0.1:8080", "KAKAOAUTH_KAKAO_AUTH_URL": "http://localhost:9911", "KAKAOAUTH_COOKIE_SAMESITE": "none"})
	if _, err := loadConfig(env(e), false); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_COOKIE_SAMESITE") {
		t.Fatalf("SameSite=None over http: %v", err)
	}
}

// TestConfig_Reads: accepted values land in the config as the server uses them, in both modes.
func TestConfig_Reads(t *testing.T) {
	type vars = map[string]string
	tests := []struct {
		name string
		dev  bool
		set  vars // over goodServeEnv (serve) or nothing (dev)
		got  func(c config) any
		want any
	}{
		// Loopback http is accepted so a local test setup works.
		{"loopback http", false, vars{"KAKAOAUTH_PUBLIC_URL": "http://127.0.0.1:8080", "KAKAOAUTH_KAKAO_AUTH_URL": "http://localhost:9911"},
			func(c config) any { return c.PublicURL.String() + " " + c.AuthURL }, "http://127.0.0.1:8080 http://localhost:9911"},
		{"public url loses its slash", false, vars{"KAKAOAUTH_PUBLIC_URL": "https://auth.example.com/"},
			func(c config) any { return c.PublicURL.String() }, "https://auth.example.com"},
		{"kakao urls lose their slash", false, vars{"KAKAOAUTH_KAKAO_AUTH_URL": "https://kauth.example/", "KAKAOAUTH_KAKAO_API_URL": " https://kapi.example/v/ "},
			func(c config) any { return []string{c.AuthURL, c.APIURL} }, []string{"https://kauth.example", "https://kapi.example/v"}},
		{"serve defaults", false, nil,
			func(c config) any {
				return []any{c.Addr, c.DatabaseURL, c.AuthURL, c.APIURL, c.LogFormat, c.LogLevel, c.SameSite, c.RateLimit, c.KeyRotation, c.KeyReload, c.RefreshGraceMax, c.RedirectURIs, c.EmulatorAddr}
			},
			[]any{":8080", "sqlite:kakaoauth.db", "https://kauth.kakao.com", "https://kapi.kakao.com", "json", "info", http.SameSiteLaxMode, server.RateLimit{Burst: 30, Per: time.Minute}, 720 * time.Hour, time.Minute, 10, []string(nil), ""}},
		{"lists", false, vars{"KAKAOAUTH_KAKAO_SCOPES": " a, b,,c ", "KAKAOAUTH_TOKEN_AUDIENCE": "x,y", "KAKAOAUTH_RETURN_TO": "/x, https://app.example.com/done"},
			func(c config) any { return [][]string{c.Scopes, c.TokenAudience, c.ReturnTo} }, [][]string{{"a", "b", "c"}, {"x", "y"}, {"/x", "https://app.example.com/done"}}},
		{"a secret's spaces are kept", false, vars{"KAKAOAUTH_SECRET": " " + strings.Repeat("s", 40) + " "},
			func(c config) any { return c.Secret }, " " + strings.Repeat("s", 40) + " "},
		{"blank means the default", false, vars{"KAKAOAUTH_ACCESS_TTL": "  ", "KAKAOAUTH_LOG_FORMAT": " "},
			func(c config) any { return fmt.Sprint(c.AccessTTL, c.LogFormat) }, "15m0sjson"},
		{"off switches", false, vars{"KAKAOAUTH_KEY_ROTATION": "OFF", "KAKAOAUTH_RATE_LIMITS": "off"},
			func(c config) any { return []any{c.KeyRotation, c.RateLimit} }, []any{time.Duration(0), server.RateLimit{}}},
		{"case-insensitive words", false, vars{"KAKAOAUTH_COOKIE_SAMESITE": "Strict", "KAKAOAUTH_LOG_LEVEL": "DEBUG", "KAKAOAUTH_LOG_FORMAT": "TEXT"},
			func(c config) any { return []any{c.SameSite, c.LogLevel, c.LogFormat} }, []any{http.SameSiteStrictMode, "debug", "text"}},
		{"numbers", false, vars{"KAKAOAUTH_KAKAO_APP_ID": "42", "KAKAOAUTH_REFRESH_GRACE_MAX": "0", "KAKAOAUTH_REFRESH_GRACE": "0", "KAKAOAUTH_RATE_LIMITS": "5/1s", "KAKAOAUTH_KAKAO_OIDC": "false"},
			func(c config) any { return []any{c.AppID, c.RefreshGraceMax, c.RefreshGrace, c.RateLimit, c.OIDC} },
			[]any{int64(42), 0, time.Duration(0), server.RateLimit{Burst: 5, Per: time.Second}, false}},
		{"samesite none over https", false, vars{"KAKAOAUTH_COOKIE_SAMESITE": "none"},
			func(c config) any { return c.SameSite }, http.SameSiteNoneMode},
		{"pprof and metrics", false, vars{"KAKAOAUTH_PPROF_ADDR": "localhost:6060", "KAKAOAUTH_METRICS_ADDR": ":9090"},
			func(c config) any { return c.PprofAddr + " " + c.MetricsAddr }, "localhost:6060 :9090"},
		// dev needs nothing: PUBLIC_URL comes from the listener and the Kakao settings from the emulator.
		{"dev defaults", true, nil,
			func(c config) any {
				return []any{c.PublicURL == nil, c.Secret, c.Addr, c.DatabaseURL, c.ClientID, c.AuthURL, c.APIURL, c.LogFormat, c.EmulatorAddr, c.RedirectURIs, c.AllowedOrigins, c.dev}
			},
			[]any{true, devSecret, "127.0.0.1:8080", "sqlite:kakaoauth-dev.db", "", "", "", "text", "127.0.0.1:9911",
				[]string{"http://localhost:3000/kakao/callback", "http://127.0.0.1:3000/kakao/callback"}, []string{"http://localhost:3000", "http://127.0.0.1:3000"}, true}},
		{"dev takes SameSite=None without a PUBLIC_URL", true, vars{"KAKAOAUTH_COOKIE_SAMESITE": "none"},
			func(c config) any { return c.SameSite }, http.SameSiteNoneMode},
		{"dev takes its own secret", true, vars{"KAKAOAUTH_SECRET": strings.Repeat("d", 32)},
			func(c config) any { return c.Secret }, strings.Repeat("d", 32)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(env(with(tc.dev, tc.set)), tc.dev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.got(c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfig_DevRefuses: dev fills in what is unset, but a value that is set is still checked.
func TestConfig_DevRefuses(t *testing.T) {
	for name, want := range map[string]string{
		"KAKAOAUTH_SECRET":     "short",
		"KAKAOAUTH_PUBLIC_URL": "http://auth.example.com",
		"KAKAOAUTH_LOG_LEVEL":  "loud",
	} {
		_, err := loadConfig(env(map[string]string{name: want}), true)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("dev with %s=%s: err = %v, want one naming it", name, want, err)
		}
	}
}

// TestConfig_Derived: dev's PUBLIC_URL comes from the listener, and its Kakao settings from the
// emulator unless they are set.
func TestConfig_Derived(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"KAKAOAUTH_KAKAO_CLIENT_ID": "mine"}), true)
	if err != nil {
		t.Fatal(err)
	}
	c.derivePublicURL(&net.TCPAddr{IP: net.IPv4zero, Port: 8080})
	a := kakaotest.DefaultApp()
	c.deriveFromEmulator("http://127.0.0.1:9911", a)
	got := []any{c.PublicURL.String(), c.AuthURL, c.APIURL, c.ClientID, c.ClientSecret, c.AdminKey, c.AppID, c.Audiences}
	want := []any{"http://127.0.0.1:8080", "http://127.0.0.1:9911", "http://127.0.0.1:9911", "mine", a.ClientSecret, a.AdminKey, a.AppID, []string{a.NativeKey, a.JavaScriptKey}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A PUBLIC_URL that is set stays.
	c, _ = loadConfig(env(goodServeEnv()), false)
	c.derivePublicURL(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if got, want := c.PublicURL.String(), "https://auth.example.com"; got != want {
		t.Errorf("PublicURL = %s, want %s", got, want)
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

// TestSettings_Table: every row can be read and names its variable once.
func TestSettings_Table(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range settings {
		if !strings.HasPrefix(s.Name, "KAKAOAUTH_") || seen[s.Name] {
			t.Errorf("%q: want a KAKAOAUTH_ name used once", s.Name)
		}
		seen[s.Name] = true
		if s.Parse == nil || s.Meaning == "" {
			t.Errorf("%s: want a Parse and a Meaning", s.Name)
		}
		if s.Required != "" && s.Default != "" {
			t.Errorf("%s: a required setting has no default", s.Name)
		}
	}
}

// TestReadmeListsEverySetting keeps the README's configuration table in step with the code: each
// setting's row is the one scripts/readme_config.py makes from it.
func TestReadmeListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(b), "`"+s.Name+"`") {
			t.Errorf("README does not document %s", s.Name)
		}
		if row := readmeRow(s); !strings.Contains(string(b), "\n"+row+"\n") {
			t.Errorf("README lacks the row\n%s\n(run scripts/readme_config.py)", row)
		}
	}
}

// readmeRow is a setting's row in the README, as scripts/readme_config.py writes it.
func readmeRow(s setting) string {
	cell := func(value string, descriptions ...string) string {
		if value != "" {
			return "`" + value + "`"
		}
		for _, d := range descriptions {
			if d != "" {
				return d
			}
		}
		return "—"
	}
	required := ""
	if s.Required != "" {
		required = "required"
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s |", s.Name, cell(s.Default, required, s.Derived), cell(s.DevDefault, s.DevDerived), s.Meaning)
}
