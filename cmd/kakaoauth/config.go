package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/internal/events"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
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
	KakaoLogout     string // off, api, redirect
	KakaoLogoutURI  string // logout_redirect_uri of redirect
	KakaoKeepTokens bool
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
	TrustedProxies  []string      // CIDRs and IPs of the reverse proxies in front
	TLSCertFile     string        // serve TLS directly with this certificate (PEM, chain)
	TLSKeyFile      string        // and this key
	TLSReload       time.Duration // how often the certificate files are checked for a change
	// AdminTokenSHA256 is the hex SHA-256 of the admin API's token; "": no admin API.
	AdminTokenSHA256 string
	EventsURL        string        // KAKAOAUTH_EVENTS_URL: where service events go (events.ParseTargets)
	EventsSecret     string        // KAKAOAUTH_EVENTS_SECRET: their whsec_ signing secret
	RedisURL         string        // rate limits shared by the replicas; "": per process
	RedisPrefix      string        // starts every Redis key
	AuditRetention   time.Duration // negative: audit events kept forever
	dev              bool          // `kakaoauth dev`
}

// setting is one variable: its defaults, its line in the README and how it is read. The
// settings table is the configuration: loadConfig walks it, and the README's configuration
// table is generated from it (scripts/readme_config.py; TestReadmeListsEverySetting checks it).
type setting struct {
	Name string
	// Default and DevDefault are the values `serve` and `dev` take when the variable is unset.
	Default, DevDefault string
	// Required, when set, makes `serve` refuse to start without the variable, with this
	// complaint.
	Required string
	// Derived and DevDerived describe, for the README, the value worked out at start-up when
	// the variable is unset and has no default: from other settings, the listener or the
	// emulator of `dev`.
	Derived, DevDerived string

	Meaning string // the README's explanation
	// Verbatim values are used as given; others lose surrounding spaces (a secret's spaces are
	// part of it, and changing them would change every key derived from it).
	Verbatim bool
	// Parse checks a value and stores it in the config; it is not called for an empty value,
	// which leaves the zero value or a derived one. Each line of its error is one complaint,
	// reported under the variable's name.
	Parse func(v string, c *config) error
}

var settings = []setting{
	{
		Name: "KAKAOAUTH_ADDR", Default: ":8080", DevDefault: "127.0.0.1:8080",
		Meaning: "Listen address.",
		Parse:   func(v string, c *config) error { c.Addr = v; return hostPort(v) },
	},
	{
		Name: "KAKAOAUTH_PUBLIC_URL", Required: "required (the https origin of this server)", DevDerived: "http://<ADDR>",
		Meaning: "Public origin of this server: `iss` of its tokens, base of the Kakao callback `<PUBLIC_URL>/auth/kakao/callback`. https, or http for loopback hosts only.",
		Parse:   parsePublicURL,
	},
	{
		Name: "KAKAOAUTH_DATABASE_URL", Default: "sqlite:kakaoauth.db", DevDefault: "sqlite:kakaoauth-dev.db",
		Meaning: "`sqlite:<path>`, or `postgres://user:pass@host:5432/db?sslmode=verify-full` for several replicas sharing one database (pgx parameters such as `pool_max_conns` and `search_path` work).",
		Parse:   parseDatabaseURL,
	},
	{
		Name: "KAKAOAUTH_SECRET", Required: "required, " + secretTooShort, DevDerived: "a fixed dev secret", Verbatim: true,
		Meaning: "At least 32 characters; keys derived from it (HKDF) seal signing keys at rest and flow cookies.",
		Parse:   parseSecret,
	},
	{
		Name: "KAKAOAUTH_KAKAO_CLIENT_ID", Required: "required (the REST API key of your Kakao app)", DevDerived: "the emulator's REST key",
		Meaning: "Kakao REST API key (`client_id`).",
		Parse:   func(v string, c *config) error { c.ClientID = v; return nil },
	},
	{
		Name: "KAKAOAUTH_KAKAO_CLIENT_SECRET", DevDerived: "the emulator's secret",
		Meaning: "Kakao client secret (sent in the form body).",
		Parse:   func(v string, c *config) error { c.ClientSecret = v; return nil },
	},
	{
		Name: "KAKAOAUTH_KAKAO_ADMIN_KEY", DevDerived: "the emulator's admin key",
		Meaning: "Kakao admin key (unlink, webhook check).",
		Parse:   func(v string, c *config) error { c.AdminKey = v; return nil },
	},
	{
		Name: "KAKAOAUTH_KAKAO_APP_ID", DevDerived: "the emulator's app id",
		Meaning: "Kakao app id (numeric).",
		Parse: func(v string, c *config) (err error) {
			if c.AppID, err = strconv.ParseInt(v, 10, 64); err != nil || c.AppID <= 0 {
				return fmt.Errorf("want a positive number, got %q", v)
			}
			return nil
		},
	},
	{
		Name: "KAKAOAUTH_KAKAO_AUTH_URL", Default: "https://kauth.kakao.com", DevDerived: "the emulator",
		Meaning: "Kakao auth host; also the expected ID-token issuer.",
		Parse:   func(v string, c *config) (err error) { c.AuthURL, err = hostURL(v); return err },
	},
	{
		Name: "KAKAOAUTH_KAKAO_API_URL", Default: "https://kapi.kakao.com", DevDerived: "the emulator",
		Meaning: "Kakao API host.",
		Parse:   func(v string, c *config) (err error) { c.APIURL, err = hostURL(v); return err },
	},
	{
		Name:    "KAKAOAUTH_KAKAO_AUDIENCES",
		Meaning: "Extra accepted ID-token `aud` values (native app key, JavaScript key).",
		Parse:   func(v string, c *config) error { c.Audiences = list(v); return nil },
	},
	{
		Name: "KAKAOAUTH_KAKAO_OIDC", Default: "true", DevDefault: "true",
		Meaning: "Ask Kakao for an ID token (OpenID Connect must be on in the Kakao console).",
		Parse: func(v string, c *config) (err error) {
			if c.OIDC, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			return nil
		},
	},
	{
		Name:    "KAKAOAUTH_KAKAO_SCOPES",
		Meaning: "Extra consent items to ask for, comma-separated.",
		Parse:   func(v string, c *config) error { c.Scopes = list(v); return nil },
	},
	{
		Name: "KAKAOAUTH_KAKAO_LOGOUT", Default: "off", DevDefault: "off",
		Meaning: "Also log the person out of Kakao on our logout: `off`, `api` (`POST /v1/user/logout` with the admin key) or `redirect` (the browser through Kakao's `/oauth/logout`; register the logout redirect URI in the console, else Kakao shows KOE007). A failure at Kakao never blocks our logout.",
		Parse: func(v string, c *config) error {
			switch v {
			case "off", "api", "redirect":
				c.KakaoLogout = v
				return nil
			}
			return fmt.Errorf("want off, api or redirect, got %q", v)
		},
	},
	{
		Name:    "KAKAOAUTH_KAKAO_LOGOUT_REDIRECT_URI",
		Derived: "`KAKAOAUTH_PUBLIC_URL` + `/auth/kakao/logout/callback`", DevDerived: "`KAKAOAUTH_PUBLIC_URL` + `/auth/kakao/logout/callback`",
		Meaning: "With `KAKAOAUTH_KAKAO_LOGOUT=redirect`: the `logout_redirect_uri` (register it under 카카오 로그인 > 로그아웃 리다이렉트 URI).",
		Parse:   func(v string, c *config) error { c.KakaoLogoutURI = v; return redirectURI(v) },
	},
	{
		Name: "KAKAOAUTH_KAKAO_STORE_TOKENS", Default: "false", DevDefault: "false",
		Meaning: "Keep Kakao's access and refresh tokens (sealed with a key derived from `KAKAOAUTH_SECRET`) so that the service gets a fresh Kakao access token from `GET /admin/users/{id}/kakao-token`.",
		Parse: func(v string, c *config) (err error) {
			if c.KakaoKeepTokens, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			return nil
		},
	},
	{
		Name: "KAKAOAUTH_KAKAO_TIMEOUT", Default: "10s", DevDefault: "10s",
		Meaning: "Deadline of each call to Kakao.",
		Parse:   func(v string, c *config) (err error) { c.KakaoTimeout, err = duration(v, false); return err },
	},
	{
		Name: "KAKAOAUTH_REDIRECT_URIS", DevDefault: "http://localhost:3000/kakao/callback,http://127.0.0.1:3000/kakao/callback",
		Meaning: "SPA flow: allowed `redirect_uri` values (exact).",
		Parse:   func(v string, c *config) error { c.RedirectURIs = list(v); return each(c.RedirectURIs, redirectURI) },
	},
	{
		Name:    "KAKAOAUTH_RETURN_TO",
		Meaning: "Browser flow: allowed `return_to` paths or URLs (exact); `/` always.",
		Parse:   func(v string, c *config) error { c.ReturnTo = list(v); return each(c.ReturnTo, returnTo) },
	},
	{
		Name: "KAKAOAUTH_ALLOWED_ORIGINS", DevDefault: "http://localhost:3000,http://127.0.0.1:3000",
		Meaning: "Origins allowed CORS with credentials and cookie-authenticated posts; ours always.",
		Parse:   func(v string, c *config) error { c.AllowedOrigins = list(v); return each(c.AllowedOrigins, origin) },
	},
	{
		// app.New takes an empty list for PUBLIC_URL.
		Name: "KAKAOAUTH_TOKEN_AUDIENCE", Derived: "PUBLIC_URL", DevDerived: "PUBLIC_URL",
		Meaning: "`aud` of our access tokens, comma-separated.",
		Parse:   func(v string, c *config) error { c.TokenAudience = list(v); return nil },
	},
	{
		Name: "KAKAOAUTH_KEY_ROTATION", Default: "720h", DevDefault: "720h",
		Meaning: "Age at which the access-token signing key is replaced (the old one keeps verifying for the token lifetime and stays in the JWKS meanwhile); `off` never.",
		Parse:   parseKeyRotation,
	},
	{
		Name: "KAKAOAUTH_KEY_RELOAD", Default: "1m", DevDefault: "1m",
		Meaning: "How often the signing keys are read again from the database, so replicas see each other's rotations and `kakaoauth keys rotate` (1s to 1h).",
		Parse:   parseKeyReload,
	},
	{
		Name: "KAKAOAUTH_ACCESS_TTL", Default: "15m", DevDefault: "15m",
		Meaning: "Access-token lifetime.",
		Parse: func(v string, c *config) (err error) {
			if c.AccessTTL, err = duration(v, false); err == nil && c.AccessTTL > 24*time.Hour {
				return errors.New("at most 24h (access tokens cannot be revoked before they expire)")
			}
			return err
		},
	},
	{
		Name: "KAKAOAUTH_REFRESH_TTL", Default: "720h", DevDefault: "720h",
		Meaning: "Session (refresh-token family) absolute lifetime.",
		Parse:   func(v string, c *config) (err error) { c.RefreshTTL, err = duration(v, false); return err },
	},
	{
		Name: "KAKAOAUTH_REFRESH_GRACE", Default: "10s", DevDefault: "10s",
		Meaning: "A rotated refresh token answers its successor for this long; reuse after it revokes the session.",
		Parse: func(v string, c *config) (err error) {
			if c.RefreshGrace, err = duration(v, true); err == nil && c.RefreshGrace > time.Minute {
				return errors.New("at most 1m (a long grace weakens reuse detection)")
			}
			return err
		},
	},
	{
		Name: "KAKAOAUTH_REFRESH_GRACE_MAX", Default: "10", DevDefault: "10",
		Meaning: "How many times one rotated refresh token is answered within the grace period (tabs, retries); the next replay gets `invalid_grant` without ending the session. `0`: no limit.",
		Parse: func(v string, c *config) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				return fmt.Errorf("want a whole number from 0 (no limit) to 1000, got %q", v)
			}
			c.RefreshGraceMax = n
			return nil
		},
	},
	{
		Name: "KAKAOAUTH_FLOW_TTL", Default: "10m", DevDefault: "10m",
		Meaning: "Lifetime of a browser login attempt (state, nonce, PKCE).",
		Parse:   func(v string, c *config) (err error) { c.FlowTTL, err = duration(v, false); return err },
	},
	{
		Name: "KAKAOAUTH_COOKIE_ACCESS", Default: "accessToken", DevDefault: "accessToken",
		Meaning: "Access cookie name.",
		Parse:   func(v string, c *config) error { c.AccessCookie = v; return cookieName(v) },
	},
	{
		Name: "KAKAOAUTH_COOKIE_REFRESH", Default: "refreshToken", DevDefault: "refreshToken",
		Meaning: "Refresh cookie name.",
		Parse:   func(v string, c *config) error { c.RefreshCookie = v; return cookieName(v) },
	},
	{
		Name: "KAKAOAUTH_COOKIE_CSRF", Default: "csrfToken", DevDefault: "csrfToken",
		Meaning: "CSRF double-submit cookie name (readable by scripts).",
		Parse:   func(v string, c *config) error { c.CSRFCookie = v; return cookieName(v) },
	},
	{
		Name: "KAKAOAUTH_COOKIE_SAMESITE", Default: "lax", DevDefault: "lax",
		Meaning: "`lax`, `strict` or `none` (none needs https).",
		Parse:   parseSameSite,
	},
	{
		Name: "KAKAOAUTH_RATE_LIMITS", Default: "30/1m", DevDefault: "30/1m",
		Meaning: "Per client IP and route (login, callback, token, refresh, verify, logout): `<burst>/<period>`, or `off`.",
		Parse:   parseRateLimits,
	},
	{
		Name:    "KAKAOAUTH_REDIS_URL",
		Meaning: "Keeps every rate limit in Redis (`redis://host:6379/0`, `rediss://…`) so that all replicas share one budget. Unset: limits are per replica (N replicas allow N times the budget). While Redis is unreachable the limits fall back to per process; requests are still served.",
		Parse: func(v string, c *config) error {
			if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") && !strings.HasPrefix(v, "unix://") {
				return errors.New("want redis://[user:password@]host:port[/db], rediss://… or unix://…")
			}
			c.RedisURL = v
			return nil
		},
	},
	{
		Name: "KAKAOAUTH_REDIS_PREFIX", Default: "kakaoauth:", DevDefault: "kakaoauth:",
		Meaning: "Starts every Redis key of the rate limits; deployments sharing one Redis give each its own.",
		Parse:   func(v string, c *config) error { c.RedisPrefix = v; return nil },
	},
	{
		Name: "KAKAOAUTH_AUDIT_RETENTION", Default: "2160h", DevDefault: "2160h",
		Meaning: "How long audit events are kept before the background pruning deletes them (`2160h` is 90 days), or `forever`.",
		Parse: func(v string, c *config) (err error) {
			if strings.EqualFold(v, "forever") {
				c.AuditRetention = -1
				return nil
			}
			c.AuditRetention, err = duration(v, false)
			return err
		},
	},
	{
		Name:    "KAKAOAUTH_ADMIN_TOKEN_SHA256",
		Meaning: "Turns on the admin API under `/admin/`: the hex SHA-256 of its bearer token (`sha256sum` of the token without a newline); only the hash is kept. Unset: `/admin/` is 404.",
		Parse: func(v string, c *config) error {
			if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size {
				return fmt.Errorf("want the 64 hex digits of a SHA-256 (printf %%s \"$TOKEN\" | sha256sum), got %d characters", len(v))
			}
			c.AdminTokenSHA256 = v
			return nil
		},
	},
	{
		Name:    "KAKAOAUTH_EVENTS_URL",
		Meaning: "Service events (`user.created`, `user.updated`, `user.deleted`, `user.disabled`, `user.enabled`, `session.created`, `session.revoked`) are POSTed, signed, to these URLs: separated by spaces, each optionally followed by `#type,type` for the types it wants (README: Events). Unset: no events.",
		Parse: func(v string, c *config) error {
			c.EventsURL = v
			_, err := events.ParseTargets(v)
			return err
		},
	},
	{
		Name:     "KAKAOAUTH_EVENTS_SECRET",
		Meaning:  "Signs the events (Standard Webhooks): `whsec_` and base64 of random bytes, e.g. `whsec_$(head -c 32 /dev/urandom | base64)`. Required with `KAKAOAUTH_EVENTS_URL`.",
		Verbatim: true,
		Parse: func(v string, c *config) error {
			c.EventsSecret = v
			_, err := events.NewSigner(v)
			return err
		},
	},
	{
		Name: "KAKAOAUTH_SERVICE_NAME", Default: "kakaoauth", DevDefault: "kakaoauth",
		Meaning: "Name shown in page titles.",
		Parse:   func(v string, c *config) error { c.ServiceName = v; return nil },
	},
	{
		Name: "KAKAOAUTH_SHUTDOWN_TIMEOUT", Default: "10s", DevDefault: "10s",
		Meaning: "Time for in-flight requests at shutdown.",
		Parse:   func(v string, c *config) (err error) { c.ShutdownTimeout, err = duration(v, false); return err },
	},
	{
		Name: "KAKAOAUTH_LOG_LEVEL", Default: "info", DevDefault: "info",
		Meaning: "`debug`, `info`, `warn`, `error`.",
		Parse: func(v string, c *config) error {
			c.LogLevel = strings.ToLower(v)
			return oneOf(c.LogLevel, "debug", "info", "warn", "error")
		},
	},
	{
		Name: "KAKAOAUTH_LOG_FORMAT", Default: "json", DevDefault: "text",
		Meaning: "`json` or `text`.",
		Parse: func(v string, c *config) error {
			c.LogFormat = strings.ToLower(v)
			return oneOf(c.LogFormat, "json", "text")
		},
	},
	{
		Name:    "KAKAOAUTH_METRICS_ADDR",
		Meaning: "Serve `/metrics` on this address instead of the main one (keep it private).",
		Parse:   func(v string, c *config) error { c.MetricsAddr = v; return hostPort(v) },
	},
	{
		Name:    "KAKAOAUTH_PPROF_ADDR",
		Meaning: "Serve Go's `/debug/pprof/` on this address (loopback only; for profiling).",
		Parse: func(v string, c *config) error {
			c.PprofAddr = v
			if h, _, err := net.SplitHostPort(v); err != nil || !isLoopback(h) {
				return fmt.Errorf("want a loopback host:port such as 127.0.0.1:6060, got %q", v)
			}
			return nil
		},
	},
	{
		Name:    "KAKAOAUTH_TRUSTED_PROXIES",
		Meaning: "CIDRs or IPs of the reverse proxies in front, comma-separated: from them the client address (rate limits, logs, sessions) is read from `X-Forwarded-For` or `Forwarded`; unset, those headers are ignored.",
		Parse: func(v string, c *config) error {
			c.TrustedProxies = list(v)
			_, err := server.ParseTrustedProxies(c.TrustedProxies)
			return err
		},
	},
	{
		Name:    "KAKAOAUTH_TLS_CERT_FILE",
		Meaning: "Serve https directly with this PEM certificate (chain first), TLS 1.2 or later; with `KAKAOAUTH_TLS_KEY_FILE`. Reloaded when the files change. `PUBLIC_URL` must then be https (`dev` derives `https://<ADDR>`).",
		Parse:   func(v string, c *config) error { c.TLSCertFile = v; return nil },
	},
	{
		Name:    "KAKAOAUTH_TLS_KEY_FILE",
		Meaning: "The PEM private key of `KAKAOAUTH_TLS_CERT_FILE`; refused when every user may read it (`chmod 600`).",
		Parse:   func(v string, c *config) error { c.TLSKeyFile = v; return nil },
	},
	{
		Name: "KAKAOAUTH_TLS_RELOAD", Default: "5s", DevDefault: "5s",
		Meaning: "How often the TLS certificate files are checked for a change (100ms to 1h).",
		Parse: func(v string, c *config) (err error) {
			if c.TLSReload, err = time.ParseDuration(v); err != nil || c.TLSReload < 100*time.Millisecond || c.TLSReload > time.Hour {
				return fmt.Errorf("want a duration from 100ms to 1h such as 5s, got %q", v)
			}
			return nil
		},
	},
	{
		Name: "KAKAOAUTH_EMULATOR_ADDR", DevDefault: "127.0.0.1:9911",
		Meaning: "`dev` only: where the built-in Kakao emulator listens.",
		Parse:   func(v string, c *config) error { c.EmulatorAddr = v; return nil },
	},
}

// loadConfig reads the environment. In dev mode unset values take safe local defaults;
// in serve mode a missing or unsafe value is an error naming the variable. Every complaint is
// reported at once, so a deployment is fixed in one round.
func loadConfig(getenv func(string) string, dev bool) (config, error) {
	c := config{dev: dev}
	var errs []string
	for _, s := range settings {
		v := s.value(getenv, dev)
		if v == "" {
			if s.Required != "" && !dev {
				errs = append(errs, s.Name+": "+s.Required)
			}
			continue
		}
		if err := s.Parse(v, &c); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				errs = append(errs, s.Name+": "+line)
			}
		}
	}
	c.deriveDevSecret()
	if err := c.checkSameSite(); err != nil {
		errs = append(errs, "KAKAOAUTH_COOKIE_SAMESITE: "+err.Error())
	}
	errs = append(errs, c.checkTLS()...)
	if c.EventsURL != "" && c.EventsSecret == "" {
		errs = append(errs, "KAKAOAUTH_EVENTS_SECRET: required with KAKAOAUTH_EVENTS_URL (whsec_ and base64, e.g. whsec_$(head -c 32 /dev/urandom | base64))")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

// value is the variable's value, or the mode's default when it is unset or blank.
func (s setting) value(getenv func(string) string, dev bool) string {
	v := getenv(s.Name)
	if !s.Verbatim {
		v = strings.TrimSpace(v)
	}
	switch {
	case v != "":
		return v
	case dev:
		return s.DevDefault
	}
	return s.Default
}

// deriveDevSecret gives `dev` its public secret when none is set, so a laptop needs no setup.
func (c *config) deriveDevSecret() {
	if c.dev && c.Secret == "" {
		c.Secret = devSecret
	}
}

// checkSameSite refuses SameSite=None over http: browsers drop such cookies unless they are
// Secure. A PUBLIC_URL derived at start-up (dev) is not checked.
func (c *config) checkSameSite() error {
	if c.PublicURL != nil && c.SameSite == http.SameSiteNoneMode && c.PublicURL.Scheme != "https" {
		return errors.New("none needs an https KAKAOAUTH_PUBLIC_URL")
	}
	return nil
}

// checkTLS wants the certificate and its key together, and an https public URL when the server
// speaks TLS itself.
func (c *config) checkTLS() []string {
	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		return []string{"KAKAOAUTH_TLS_KEY_FILE: required with KAKAOAUTH_TLS_CERT_FILE (both or neither)"}
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		return []string{"KAKAOAUTH_TLS_CERT_FILE: required with KAKAOAUTH_TLS_KEY_FILE (both or neither)"}
	case c.TLSCertFile != "" && c.PublicURL != nil && c.PublicURL.Scheme != "https":
		return []string{"KAKAOAUTH_PUBLIC_URL: must be https when the server serves TLS (KAKAOAUTH_TLS_CERT_FILE)"}
	}
	return nil
}

// derivePublicURL makes PUBLIC_URL, when it is unset (dev), the address the server listens on:
// https when it serves TLS.
func (c *config) derivePublicURL(ln net.Addr) {
	if c.PublicURL == nil {
		scheme := "http"
		if c.TLSCertFile != "" {
			scheme = "https"
		}
		c.PublicURL = &url.URL{Scheme: scheme, Host: hostForURL(ln.String())}
	}
}

// deriveFromEmulator points `dev` at its built-in emulator: the Kakao hosts, and the keys of the
// emulated app where none are set.
func (c *config) deriveFromEmulator(emuURL string, a kakaotest.App) {
	c.AuthURL, c.APIURL = emuURL, emuURL
	if c.ClientID == "" {
		c.ClientID = a.RESTKey
	}
	if c.ClientSecret == "" {
		c.ClientSecret = a.ClientSecret
	}
	if c.AdminKey == "" {
		c.AdminKey = a.AdminKey
	}
	if c.AppID == 0 {
		c.AppID = a.AppID
	}
	if len(c.Audiences) == 0 {
		// ID tokens of the mobile SDK flow name the native (or JavaScript) key.
		c.Audiences = []string{a.NativeKey, a.JavaScriptKey}
	}
}

const secretTooShort = "at least 32 characters (e.g. `openssl rand -base64 32`)"

func parseSecret(v string, c *config) error {
	c.Secret = v
	switch {
	case len(v) < 32:
		return errors.New("must be " + secretTooShort)
	case !c.dev && v == devSecret:
		return errors.New("is the public development secret; generate your own")
	}
	return nil
}

func parsePublicURL(v string, c *config) error {
	u, err := checkURL(v, false)
	if err != nil {
		return err
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("must be an origin without a path, got %q", v)
	}
	u.Path = ""
	c.PublicURL = u
	return nil
}

func parseDatabaseURL(v string, c *config) error {
	c.DatabaseURL = v
	switch {
	case strings.HasPrefix(v, "sqlite:") && len(v) > len("sqlite:"):
	case strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://"):
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			// The URL may carry a password: it is not repeated.
			return errors.New("not a valid postgres://user:password@host:port/database URL")
		}
	default:
		return fmt.Errorf("want sqlite:<path> or postgres://user:password@host:port/database, got %q", v)
	}
	return nil
}

func parseKeyRotation(v string, c *config) (err error) {
	if v = strings.ToLower(v); v == "off" {
		return nil
	}
	if c.KeyRotation, err = time.ParseDuration(v); err != nil || c.KeyRotation < time.Hour {
		return fmt.Errorf("want a duration of at least 1h such as 720h, or off; got %q%s", v, daysHint(v))
	}
	return nil
}

func parseKeyReload(v string, c *config) (err error) {
	if c.KeyReload, err = duration(v, false); err != nil {
		return err
	}
	if c.KeyReload < time.Second || c.KeyReload > time.Hour {
		return fmt.Errorf("want a duration from 1s to 1h such as 1m, got %q", v)
	}
	return nil
}

func parseSameSite(v string, c *config) error {
	switch v = strings.ToLower(v); v {
	case "lax":
		c.SameSite = http.SameSiteLaxMode
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
	default:
		return fmt.Errorf("want lax, strict or none, got %q", v)
	}
	return nil
}

func parseRateLimits(v string, c *config) error {
	if v = strings.ToLower(v); v == "off" {
		return nil
	}
	n, per, ok := strings.Cut(v, "/")
	burst, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	c.RateLimit = server.RateLimit{Burst: burst, Per: d}
	if !ok || err1 != nil || err2 != nil || burst <= 0 || d <= 0 {
		return fmt.Errorf("want <burst>/<period> such as 30/1m, or off; got %q%s", v, daysHint(per))
	}
	return nil
}

// duration reads a duration above zero, or of zero too with zeroOK.
func duration(v string, zeroOK bool) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return d, fmt.Errorf("want a positive duration such as 15m, got %q%s", v, daysHint(v))
	}
	return d, nil
}

// daysHint explains a duration in days, which Go's durations do not have: "30d" gets
// " (Go durations have no days: use 720h)". Other values get nothing.
func daysHint(v string) string {
	n, ok := strings.CutSuffix(strings.ToLower(strings.TrimSpace(v)), "d")
	days, err := strconv.ParseFloat(n, 64)
	if !ok || err != nil || days <= 0 || days > 1e6 {
		return ""
	}
	return fmt.Sprintf(" (Go durations have no days: use %sh)", strconv.FormatFloat(days*24, 'f', -1, 64))
}

func hostPort(v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("want host:port, got %q", v)
	}
	return nil
}

// hostURL reads the base URL of a Kakao host, without a trailing slash.
func hostURL(v string) (string, error) {
	u, err := checkURL(v, false)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func redirectURI(v string) error {
	if _, err := checkURL(v, true); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	return nil
}

// returnTo accepts a local path or an absolute URL.
func returnTo(v string) error {
	if !strings.HasPrefix(v, "/") {
		return redirectURI(v)
	}
	if strings.HasPrefix(v, "//") || strings.Contains(v, `\`) {
		return fmt.Errorf("%q is not a local path", v)
	}
	return nil
}

func origin(v string) error {
	u, err := checkURL(v, false)
	if err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	if u.Path != "" || u.RawQuery != "" {
		return fmt.Errorf("%q must be an origin (scheme://host[:port])", v)
	}
	return nil
}

func cookieName(v string) error {
	if !validCookieName(v) {
		return fmt.Errorf("invalid cookie name %q", v)
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1], v)
}

// each checks every item of a list: one complaint per bad item.
func each(items []string, check func(string) error) error {
	var errs []error
	for _, v := range items {
		errs = append(errs, check(v))
	}
	return errors.Join(errs...)
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

// kakaoauth is the server's part of the configuration, for kakaoauth.New. The zero values that
// mean "off" here (a rate limit, key rotation, the refresh grace and its count) are spelled the
// way kakaoauth.Config spells them.
func (c config) kakaoauth(log *slog.Logger) kakaoauth.Config {
	off := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	graceMax := c.RefreshGraceMax
	if graceMax == 0 {
		graceMax = -1
	}
	return kakaoauth.Config{
		PublicURL: c.PublicURL.String(), Secret: c.Secret, AdminTokenSHA256: c.AdminTokenSHA256,
		Kakao: kakaoauth.Kakao{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, AdminKey: c.AdminKey, AppID: c.AppID,
			AuthURL: c.AuthURL, APIURL: c.APIURL, Audiences: c.Audiences, WithoutIDToken: !c.OIDC,
			Scopes: c.Scopes, Timeout: c.KakaoTimeout,
			Logout: strings.TrimPrefix(c.KakaoLogout, "off"), LogoutRedirectURI: c.KakaoLogoutURI, StoreTokens: c.KakaoKeepTokens,
		},
		RedirectURIs: c.RedirectURIs, ReturnTo: c.ReturnTo, AllowedOrigins: c.AllowedOrigins,
		TokenAudience: c.TokenAudience,
		AccessTTL:     c.AccessTTL, RefreshTTL: c.RefreshTTL, RefreshGrace: off(c.RefreshGrace),
		RefreshGraceMax: graceMax, FlowTTL: c.FlowTTL, KeyRotation: off(c.KeyRotation), KeyReload: c.KeyReload,
		AccessCookie: c.AccessCookie, RefreshCookie: c.RefreshCookie, CSRFCookie: c.CSRFCookie, SameSite: c.SameSite,
		ServiceName: c.ServiceName, TrustedProxies: c.TrustedProxies,
		RateLimit:    kakaoauth.RateLimit{Burst: c.RateLimit.Burst, Per: c.RateLimit.Per, Off: c.RateLimit == (server.RateLimit{})},
		ServeMetrics: c.MetricsAddr == "", CanonicalHost: c.dev, Version: binaryVersion(), Logger: log,
		Events:   kakaoauth.Events{URL: c.EventsURL, Secret: c.EventsSecret},
		RedisURL: c.RedisURL, RedisPrefix: c.RedisPrefix, AuditRetention: c.AuditRetention,
	}
}

// otherVariables are the KAKAOAUTH_* variables outside the settings table: read by a command
// beside the settings, by the tests and their tools, or by the examples' services. They are
// never reported as unknown.
var otherVariables = map[string]string{
	"KAKAOAUTH_EMULATOR_AUTO_CONSENT": "dev only: answer every authorize request at once as this Kakao user id (load runs).",
	"KAKAOAUTH_TEST_POSTGRES_URL":     "Tests only: also run the PostgreSQL tests against this database.",
	"KAKAOAUTH_TEST_REDIS_URL":        "Tests only: also run the Redis rate-limit tests against this Redis.",
	"KAKAOAUTH_BENCH_USERS":           "Benchmarks only: the large user count of the stored-users benchmarks.",
	"KAKAOAUTH_AXE_PATH":              "Tests only: axe-core's axe.min.js for the browser tests.",
	"KAKAOAUTH_JOSE_DIR":              "Tests only: where the npm package jose is installed.",
	"KAKAOAUTH_PYTHON":                "Tests only: the Python with PyJWT.",
	"KAKAOAUTH_CHROMIUM":              "Tests only: the Chromium binary of the browser tests.",
	"KAKAOAUTH_SCREENSHOTS":           "Tests only: where the browser tests save screenshots.",
	"KAKAOAUTH_JWKS_URL":              "Examples only: the JWKS a service verifies our tokens with.",
	"KAKAOAUTH_ISSUER":                "Examples only: the issuer a service expects in our tokens.",
	"KAKAOAUTH_AUDIENCE":              "Examples only: the audience a service expects in our tokens.",
}

// variableHelp is the one line a command's help gives a variable: its meaning from the settings
// table (first sentence, without Markdown) and its default in serve, or with dev in dev.
func variableHelp(name string, dev bool) string {
	if m, ok := otherVariables[name]; ok {
		return m
	}
	i := slices.IndexFunc(settings, func(s setting) bool { return s.Name == name })
	if i < 0 {
		return ""
	}
	s := settings[i]
	meaning := strings.ReplaceAll(s.Meaning, "`", "")
	if end := strings.Index(meaning, ". "); end >= 0 {
		meaning = meaning[:end+1]
	}
	def, derived := s.Default, s.Derived
	if dev {
		def, derived = s.DevDefault, s.DevDerived
	}
	switch {
	case def != "":
		meaning += " Default " + def + "."
	case s.Required != "" && !dev:
		meaning += " Required."
	case derived != "":
		meaning += " Default: " + strings.ReplaceAll(derived, "`", "") + "."
	}
	return meaning
}

// settingNames is the name of every setting, in the table's order.
func settingNames() []string {
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.Name
	}
	return names
}

// unknownVariables is a warning for each KAKAOAUTH_* variable in names that nothing reads, with
// the nearest real name when one is close: a misspelt setting would otherwise leave its default
// in force without a word.
func unknownVariables(names []string) []string {
	known := settingNames()
	for name := range otherVariables {
		known = append(known, name)
	}
	var warnings []string
	for _, name := range names {
		if !strings.HasPrefix(name, "KAKAOAUTH_") || slices.Contains(known, name) {
			continue
		}
		best, dist := "", len(name)
		for _, k := range known {
			if d := editDistance(name, k); d < dist {
				best, dist = k, d
			}
		}
		w := name + " is not a setting"
		if dist <= 3 {
			w += "; did you mean " + best + "?"
		} else {
			w += " (kakaoauth serve --help lists them)"
		}
		warnings = append(warnings, w)
	}
	slices.Sort(warnings)
	return warnings
}

// editDistance is the Levenshtein distance of a and b: the fewest insertions, deletions and
// substitutions of bytes that turn one into the other.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
