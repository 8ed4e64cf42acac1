package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/server"
)

// config is every setting, read from KAKAOAUTH_* environment variables.
type config struct {
	Addr            string
	PublicURL       *url.URL
	DatabaseURL     string
	ClientID        string
	ClientSecret    string
	AdminKey        string
	AppID           int64
	AuthURL         string
	APIURL          string
	Audiences       []string // extra accepted ID-token audiences (native / JavaScript keys)
	OIDC            bool
	Scopes          []string
	RedirectURIs    []string
	ReturnTo        []string
	AllowedOrigins  []string
	TokenAudience   []string
	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	RefreshGrace    time.Duration
	RefreshGraceMax int
	FlowTTL         time.Duration
	ShutdownTimeout time.Duration
	KakaoTimeout    time.Duration
	Secret          string
	AccessCookie    string
	RefreshCookie   string
	CSRFCookie      string
	SameSite        http.SameSite
	ServiceName     string
	LogLevel        string
	LogFormat       string
	EmulatorAddr    string
	RateLimit       server.RateLimit
	MetricsAddr     string
	PprofAddr       string
	KeyRotation     time.Duration // 0: never
	KeyReload       time.Duration
	dev             bool // `kakaoauth dev`
}

// setting documents one variable; the README's configuration table is generated from this list
// (scripts/readme_config.py). A default in parentheses describes a value worked out at start-up.
type setting struct {
	Name, Default, DevDefault, Meaning string
}

var settings = []setting{
	{"KAKAOAUTH_ADDR", ":8080", "127.0.0.1:8080", "Listen address."},
	{"KAKAOAUTH_PUBLIC_URL", "(required)", "(http://<ADDR>)", "Public origin of this server: `iss` of its tokens, base of the Kakao callback `<PUBLIC_URL>/auth/kakao/callback`. https, or http for loopback hosts only."},
	{"KAKAOAUTH_DATABASE_URL", "sqlite:kakaoauth.db", "sqlite:kakaoauth-dev.db", "`sqlite:<path>`, or `postgres://user:pass@host:5432/db?sslmode=verify-full` for several replicas sharing one database (pgx parameters such as `pool_max_conns` and `search_path` work)."},
	{"KAKAOAUTH_SECRET", "(required)", "(a fixed dev secret)", "At least 32 characters; keys derived from it (HKDF) seal signing keys at rest and flow cookies."},
	{"KAKAOAUTH_KAKAO_CLIENT_ID", "(required)", "(the emulator's REST key)", "Kakao REST API key (`client_id`)."},
	{"KAKAOAUTH_KAKAO_CLIENT_SECRET", "", "(the emulator's secret)", "Kakao client secret (sent in the form body)."},
	{"KAKAOAUTH_KAKAO_ADMIN_KEY", "", "(the emulator's admin key)", "Kakao admin key (unlink, webhook check)."},
	{"KAKAOAUTH_KAKAO_APP_ID", "", "(the emulator's app id)", "Kakao app id (numeric)."},
	{"KAKAOAUTH_KAKAO_AUTH_URL", "https://kauth.kakao.com", "(the emulator)", "Kakao auth host; also the expected ID-token issuer."},
	{"KAKAOAUTH_KAKAO_API_URL", "https://kapi.kakao.com", "(the emulator)", "Kakao API host."},
	{"KAKAOAUTH_KAKAO_AUDIENCES", "", "", "Extra accepted ID-token `aud` values (native app key, JavaScript key)."},
	{"KAKAOAUTH_KAKAO_OIDC", "true", "true", "Ask Kakao for an ID token (OpenID Connect must be on in the Kakao console)."},
	{"KAKAOAUTH_KAKAO_SCOPES", "", "", "Extra consent items to ask for, comma-separated."},
	{"KAKAOAUTH_KAKAO_TIMEOUT", "10s", "10s", "Deadline of each call to Kakao."},
	{"KAKAOAUTH_REDIRECT_URIS", "", "http://localhost:3000/kakao/callback,http://127.0.0.1:3000/kakao/callback", "SPA flow: allowed `redirect_uri` values (exact)."},
	{"KAKAOAUTH_RETURN_TO", "", "", "Browser flow: allowed `return_to` paths or URLs (exact); `/` always."},
	{"KAKAOAUTH_ALLOWED_ORIGINS", "", "http://localhost:3000,http://127.0.0.1:3000", "Origins allowed CORS with credentials and cookie-authenticated posts; ours always."},
	{"KAKAOAUTH_TOKEN_AUDIENCE", "(PUBLIC_URL)", "(PUBLIC_URL)", "`aud` of our access tokens, comma-separated."},
	{"KAKAOAUTH_KEY_ROTATION", "720h", "720h", "Age at which the access-token signing key is replaced (the old one keeps verifying for the token lifetime and stays in the JWKS meanwhile); `off` never."},
	{"KAKAOAUTH_KEY_RELOAD", "1m", "1m", "How often the signing keys are read again from the database, so replicas see each other's rotations and `kakaoauth keys rotate` (1s to 1h)."},
	{"KAKAOAUTH_ACCESS_TTL", "15m", "15m", "Access-token lifetime."},
	{"KAKAOAUTH_REFRESH_TTL", "720h", "720h", "Session (refresh-token family) absolute lifetime."},
	{"KAKAOAUTH_REFRESH_GRACE", "10s", "10s", "A rotated refresh token answers its successor for this long; reuse after it revokes the session."},
	{"KAKAOAUTH_REFRESH_GRACE_MAX", "10", "10", "How many times one rotated refresh token is answered within the grace period (tabs, retries); the next replay gets `invalid_grant` without ending the session. `0`: no limit."},
	{"KAKAOAUTH_FLOW_TTL", "10m", "10m", "Lifetime of a browser login attempt (state, nonce, PKCE)."},
	{"KAKAOAUTH_COOKIE_ACCESS", "accessToken", "accessToken", "Access cookie name."},
	{"KAKAOAUTH_COOKIE_REFRESH", "refreshToken", "refreshToken", "Refresh cookie name."},
	{"KAKAOAUTH_COOKIE_CSRF", "csrfToken", "csrfToken", "CSRF double-submit cookie name (readable by scripts)."},
	{"KAKAOAUTH_COOKIE_SAMESITE", "lax", "lax", "`lax`, `strict` or `none` (none needs https)."},
	{"KAKAOAUTH_RATE_LIMITS", "30/1m", "30/1m", "Per client IP and route (login, callback, token, refresh, verify, logout): `<burst>/<period>`, or `off`."},
	{"KAKAOAUTH_SERVICE_NAME", "kakaoauth", "kakaoauth", "Name shown in page titles."},
	{"KAKAOAUTH_SHUTDOWN_TIMEOUT", "10s", "10s", "Time for in-flight requests at shutdown."},
	{"KAKAOAUTH_LOG_LEVEL", "info", "info", "`debug`, `info`, `warn`, `error`."},
	{"KAKAOAUTH_LOG_FORMAT", "json", "text", "`json` or `text`."},
	{"KAKAOAUTH_METRICS_ADDR", "", "", "Serve `/metrics` on this address instead of the main one (keep it private)."},
	{"KAKAOAUTH_PPROF_ADDR", "", "", "Serve Go's `/debug/pprof/` on this address (loopback only; for profiling)."},
	{"KAKAOAUTH_EMULATOR_ADDR", "", "127.0.0.1:9911", "`dev` only: where the built-in Kakao emulator listens."},
}

// loadConfig reads the environment. In dev mode unset values take safe local defaults;
// in serve mode a missing or unsafe value is an error naming the variable.
func loadConfig(getenv func(string) string, dev bool) (config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v != "" {
			return v
		}
		for _, s := range settings {
			if s.Name == name {
				d := s.Default
				if dev {
					d = s.DevDefault
				}
				if strings.HasPrefix(d, "(") { // a description of a derived value, not a value
					return ""
				}
				return d
			}
		}
		return ""
	}
	c := config{dev: dev}
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	c.Addr = get("KAKAOAUTH_ADDR")
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("KAKAOAUTH_ADDR", "want host:port, got %q", c.Addr)
	}
	if v := get("KAKAOAUTH_PUBLIC_URL"); v != "" {
		u, err := checkURL(v, false)
		if err != nil {
			bad("KAKAOAUTH_PUBLIC_URL", "%v", err)
		} else if u.Path != "" && u.Path != "/" {
			bad("KAKAOAUTH_PUBLIC_URL", "must be an origin without a path, got %q", v)
		} else {
			u.Path = ""
			c.PublicURL = u
		}
	} else if !dev {
		bad("KAKAOAUTH_PUBLIC_URL", "required (the https origin of this server)")
	}
	c.DatabaseURL = get("KAKAOAUTH_DATABASE_URL")
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:") && len(c.DatabaseURL) > len("sqlite:"):
	case strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		if u, err := url.Parse(c.DatabaseURL); err != nil || u.Host == "" {
			// The URL may carry a password: it is not repeated.
			bad("KAKAOAUTH_DATABASE_URL", "not a valid postgres://user:password@host:port/database URL")
		}
	default:
		bad("KAKAOAUTH_DATABASE_URL", "want sqlite:<path> or postgres://user:password@host:port/database, got %q", c.DatabaseURL)
	}
	c.Secret = getenv("KAKAOAUTH_SECRET")
	if c.Secret == "" && dev {
		c.Secret = devSecret
	}
	if len(c.Secret) < 32 {
		bad("KAKAOAUTH_SECRET", "must be at least 32 characters (e.g. `openssl rand -base64 32`)")
	} else if !dev && c.Secret == devSecret {
		bad("KAKAOAUTH_SECRET", "is the public development secret; generate your own")
	}
	c.ClientID = get("KAKAOAUTH_KAKAO_CLIENT_ID")
	if c.ClientID == "" && !dev {
		bad("KAKAOAUTH_KAKAO_CLIENT_ID", "required (the REST API key of your Kakao app)")
	}
	c.ClientSecret = get("KAKAOAUTH_KAKAO_CLIENT_SECRET")
	c.AdminKey = get("KAKAOAUTH_KAKAO_ADMIN_KEY")
	if v := get("KAKAOAUTH_KAKAO_APP_ID"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad("KAKAOAUTH_KAKAO_APP_ID", "want a positive number, got %q", v)
		}
		c.AppID = n
	}
	for _, k := range []struct {
		name string
		dst  *string
	}{{"KAKAOAUTH_KAKAO_AUTH_URL", &c.AuthURL}, {"KAKAOAUTH_KAKAO_API_URL", &c.APIURL}} {
		v := get(k.name)
		if v == "" {
			continue
		}
		u, err := checkURL(v, false)
		if err != nil {
			bad(k.name, "%v", err)
			continue
		}
		*k.dst = strings.TrimSuffix(u.String(), "/")
	}
	c.Audiences = list(get("KAKAOAUTH_KAKAO_AUDIENCES"))
	c.OIDC = true
	if v := get("KAKAOAUTH_KAKAO_OIDC"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("KAKAOAUTH_KAKAO_OIDC", "want true or false, got %q", v)
		}
		c.OIDC = b
	}
	c.Scopes = list(get("KAKAOAUTH_KAKAO_SCOPES"))
	c.RedirectURIs = list(get("KAKAOAUTH_REDIRECT_URIS"))
	for _, v := range c.RedirectURIs {
		if _, err := checkURL(v, true); err != nil {
			bad("KAKAOAUTH_REDIRECT_URIS", "%q: %v", v, err)
		}
	}
	c.ReturnTo = list(get("KAKAOAUTH_RETURN_TO"))
	for _, v := range c.ReturnTo {
		if strings.HasPrefix(v, "/") {
			if strings.HasPrefix(v, "//") || strings.Contains(v, `\`) {
				bad("KAKAOAUTH_RETURN_TO", "%q is not a local path", v)
			}
			continue
		}
		if _, err := checkURL(v, true); err != nil {
			bad("KAKAOAUTH_RETURN_TO", "%q: %v", v, err)
		}
	}
	c.AllowedOrigins = list(get("KAKAOAUTH_ALLOWED_ORIGINS"))
	for _, v := range c.AllowedOrigins {
		u, err := checkURL(v, false)
		if err != nil {
			bad("KAKAOAUTH_ALLOWED_ORIGINS", "%q: %v", v, err)
		} else if u.Path != "" || u.RawQuery != "" {
			bad("KAKAOAUTH_ALLOWED_ORIGINS", "%q must be an origin (scheme://host[:port])", v)
		}
	}
	c.TokenAudience = list(get("KAKAOAUTH_TOKEN_AUDIENCE"))
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"KAKAOAUTH_ACCESS_TTL", &c.AccessTTL}, {"KAKAOAUTH_REFRESH_TTL", &c.RefreshTTL},
		{"KAKAOAUTH_REFRESH_GRACE", &c.RefreshGrace}, {"KAKAOAUTH_FLOW_TTL", &c.FlowTTL},
		{"KAKAOAUTH_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout}, {"KAKAOAUTH_KAKAO_TIMEOUT", &c.KakaoTimeout},
		{"KAKAOAUTH_KEY_RELOAD", &c.KeyReload},
	} {
		v := get(d.name)
		n, err := time.ParseDuration(v)
		if err != nil || n < 0 || (n == 0 && d.name != "KAKAOAUTH_REFRESH_GRACE") {
			bad(d.name, "want a positive duration such as 15m, got %q", v)
		}
		*d.dst = n
	}
	if n, err := strconv.Atoi(get("KAKAOAUTH_REFRESH_GRACE_MAX")); err != nil || n < 0 || n > 1000 {
		bad("KAKAOAUTH_REFRESH_GRACE_MAX", "want a whole number from 0 (no limit) to 1000, got %q", get("KAKAOAUTH_REFRESH_GRACE_MAX"))
	} else {
		c.RefreshGraceMax = n
	}
	if c.RefreshGrace > time.Minute {
		bad("KAKAOAUTH_REFRESH_GRACE", "at most 1m (a long grace weakens reuse detection)")
	}
	if c.AccessTTL > 24*time.Hour {
		bad("KAKAOAUTH_ACCESS_TTL", "at most 24h (access tokens cannot be revoked before they expire)")
	}
	c.AccessCookie = get("KAKAOAUTH_COOKIE_ACCESS")
	c.RefreshCookie = get("KAKAOAUTH_COOKIE_REFRESH")
	c.CSRFCookie = get("KAKAOAUTH_COOKIE_CSRF")
	for _, n := range []string{c.AccessCookie, c.RefreshCookie, c.CSRFCookie} {
		if !validCookieName(n) {
			bad("KAKAOAUTH_COOKIE_*", "invalid cookie name %q", n)
		}
	}
	switch v := strings.ToLower(get("KAKAOAUTH_COOKIE_SAMESITE")); v {
	case "lax":
		c.SameSite = http.SameSiteLaxMode
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
	default:
		bad("KAKAOAUTH_COOKIE_SAMESITE", "want lax, strict or none, got %q", v)
	}
	c.ServiceName = get("KAKAOAUTH_SERVICE_NAME")
	c.LogLevel = strings.ToLower(get("KAKAOAUTH_LOG_LEVEL"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("KAKAOAUTH_LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	c.LogFormat = strings.ToLower(get("KAKAOAUTH_LOG_FORMAT"))
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("KAKAOAUTH_LOG_FORMAT", "want json or text, got %q", c.LogFormat)
	}
	c.EmulatorAddr = get("KAKAOAUTH_EMULATOR_ADDR")
	if v := strings.ToLower(get("KAKAOAUTH_KEY_ROTATION")); v != "off" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			bad("KAKAOAUTH_KEY_ROTATION", "want a duration of at least 1h such as 720h, or off; got %q", v)
		}
		c.KeyRotation = d
	}
	if c.KeyReload != 0 && (c.KeyReload < time.Second || c.KeyReload > time.Hour) {
		bad("KAKAOAUTH_KEY_RELOAD", "want a duration from 1s to 1h such as 1m, got %q", get("KAKAOAUTH_KEY_RELOAD"))
	}
	c.PprofAddr = get("KAKAOAUTH_PPROF_ADDR")
	if c.PprofAddr != "" {
		if h, _, err := net.SplitHostPort(c.PprofAddr); err != nil || !isLoopback(h) {
			bad("KAKAOAUTH_PPROF_ADDR", "want a loopback host:port such as 127.0.0.1:6060, got %q", c.PprofAddr)
		}
	}
	c.MetricsAddr = get("KAKAOAUTH_METRICS_ADDR")
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("KAKAOAUTH_METRICS_ADDR", "want host:port, got %q", c.MetricsAddr)
		}
	}
	if v := strings.ToLower(get("KAKAOAUTH_RATE_LIMITS")); v != "off" {
		n, per, ok := strings.Cut(v, "/")
		burst, err1 := strconv.Atoi(n)
		d, err2 := time.ParseDuration(per)
		if !ok || err1 != nil || err2 != nil || burst <= 0 || d <= 0 {
			bad("KAKAOAUTH_RATE_LIMITS", "want <burst>/<period> such as 30/1m, or off; got %q", v)
		}
		c.RateLimit = server.RateLimit{Burst: burst, Per: d}
	}
	if c.PublicURL != nil {
		if c.SameSite == http.SameSiteNoneMode && c.PublicURL.Scheme != "https" {
			bad("KAKAOAUTH_COOKIE_SAMESITE", "none needs an https KAKAOAUTH_PUBLIC_URL")
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

// devSecret is the public secret of `kakaoauth dev`; serve refuses it.
const devSecret = "kakaoauth-dev-secret-not-for-production-0000"

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkURL accepts an absolute https URL, or http for loopback hosts (so local setups work).
func checkURL(v string, allowPath bool) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("not an absolute URL: %q", v)
	}
	if u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("must not have a fragment or user info: %q", v)
	}
	if !allowPath && u.RawQuery != "" {
		return nil, fmt.Errorf("must not have a query: %q", v)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("http:// is only allowed for loopback hosts; use https: %q", v)
		}
	default:
		return nil, fmt.Errorf("want https:// (or http:// on loopback): %q", v)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validCookieName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// app is the wiring's part of the configuration.
func (c config) app(log *slog.Logger) app.Config {
	return app.Config{
		PublicURL: c.PublicURL, DatabaseURL: c.DatabaseURL, Secret: c.Secret,
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, AdminKey: c.AdminKey, AppID: c.AppID,
		AuthURL: c.AuthURL, APIURL: c.APIURL, Audiences: c.Audiences, OIDC: c.OIDC, Scopes: c.Scopes,
		KakaoTimeout: c.KakaoTimeout, RedirectURIs: c.RedirectURIs, ReturnTo: c.ReturnTo,
		AllowedOrigins: c.AllowedOrigins, TokenAudience: c.TokenAudience,
		AccessTTL: c.AccessTTL, RefreshTTL: c.RefreshTTL, RefreshGrace: c.RefreshGrace,
		RefreshGraceMax: c.RefreshGraceMax, FlowTTL: c.FlowTTL,
		AccessCookie: c.AccessCookie, RefreshCookie: c.RefreshCookie, CSRFCookie: c.CSRFCookie,
		SameSite: c.SameSite, ServiceName: c.ServiceName, RateLimit: c.RateLimit,
		MetricsElsewhere: c.MetricsAddr != "", CanonicalHost: c.dev, Version: version, Logger: log,
	}
}
