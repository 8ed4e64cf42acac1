// Package server is kakaoauth's HTTP surface: routes.go lists every route; handlers translate
// between HTTP and the auth domain, in files named after what they serve; errors.go is the one
// table from error code to status, page and metric.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// Sealer encrypts small payloads for cookies (internal/tokens).
type Sealer interface {
	Seal(purpose string, payload []byte, expires time.Time) (string, error)
	Open(purpose, text string, now time.Time) ([]byte, error)
}

// CSRF makes and checks signed double-submit tokens bound to a session (internal/tokens).
type CSRF interface {
	CSRFToken(binding string) string
	CheckCSRF(binding, token string) bool
}

// CookieConfig names and shapes the session cookies.
type CookieConfig struct {
	AccessName  string        // default "accessToken"
	RefreshName string        // default "refreshToken"
	CSRFName    string        // default "csrfToken" (readable by scripts: double submit)
	SameSite    http.SameSite // default Lax
	// Path of the access and CSRF cookies; default the root of the server (BasePath+"/"). A
	// program that mounts the server under a path may widen it to "/" so that its own pages
	// receive the access cookie too.
	Path   string
	Secure bool // true unless the public URL is http on a loopback host
}

// Config is everything the HTTP layer needs; main wires it.
type Config struct {
	Service   *auth.Service
	Sealer    Sealer
	CSRF      CSRF
	Pages     *web.Renderer
	JWKS      func() []byte
	PublicURL *url.URL // our origin, and BasePath; iss of our tokens
	// BasePath is the path every route, redirect, cookie path and link of the pages carries:
	// "" serves at the root, "/login" serves under /login/ inside another program's mux. It
	// is PublicURL's path, without the trailing slash.
	BasePath string
	// Audience of our access tokens (for the discovery document).
	Audience []string
	// RedirectURIs is the SPA flow's allowlist of Kakao redirect URIs (exact match).
	RedirectURIs []string
	// ReturnTo is the browser flow's allowlist of return paths or URLs (exact match); the root
	// ("/", or BasePath+"/") is always allowed.
	ReturnTo []string
	// AllowedOrigins may call the API with credentials (CORS) and make cookie-authenticated
	// state changes; our own origin is always allowed.
	AllowedOrigins []string
	AccessTTL      time.Duration
	FlowTTL        time.Duration // lifetime of a browser login attempt, default 10 minutes
	Cookies        CookieConfig
	MaxBodyBytes   int64 // default 64 KiB
	Logger         *slog.Logger
	Now            func() time.Time
	// Ready reports whether dependencies (database, keys) are usable, for /readyz.
	Ready func(ctx context.Context) error
	// RequestTimeout is every request's deadline (deadline.go); default 30 s. A request that
	// waits for a database connection past it answers 503.
	RequestTimeout time.Duration
	// RateLimit limits the login, token, refresh, verify and logout endpoints per client IP;
	// zero turns limits off.
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies in front of the server (ParseTrustedProxies):
	// from a peer among them, the client address is taken from X-Forwarded-For or Forwarded.
	// Empty: those headers are ignored and the client is the peer.
	TrustedProxies []netip.Prefix
	// Budgets keeps the rate-limit budgets (internal/ratelimit: shared by replicas through
	// Redis); nil: in this process, so N replicas allow N times RateLimit.
	Budgets ratelimit.Budgets
	// FailureCost is what a request refused as the client's fault (400, 401, 403) costs of the
	// rate limit in all; default 3 (a success costs 1).
	FailureCost int
	// OnRateLimited is told the route of every refused request (metrics).
	OnRateLimited func(route string)
	// Metrics records request, login and rate-limit metrics and serves /metrics; nil: none.
	Metrics *metrics.Metrics
	// MetricsElsewhere keeps /metrics off this handler (main serves it on KAKAOAUTH_METRICS_ADDR).
	MetricsElsewhere bool
	// CanonicalHost sends page and login requests that arrive under another host name (say
	// localhost for 127.0.0.1) to the public URL first, so the flow cookie and Kakao's redirect
	// meet on one host. For dev only: behind a proxy that rewrites Host it would loop.
	CanonicalHost bool
	// UnlinkWebhook authenticates Kakao's unlink webhook; without an admin key the webhook
	// answers 404 (it is off).
	UnlinkWebhook UnlinkWebhookConfig
	// AdminTokenSHA256 is the SHA-256 (32 bytes) of the admin API's bearer token; empty: no
	// admin API (/admin/ is 404).
	AdminTokenSHA256 []byte
	// OIDC is the standard OpenID Provider (internal/oidcop), served at /oauth2/, /auth/oidc/ and
	// both discovery paths; nil keeps the first-party discovery document.
	OIDC OIDCProvider
	// ReauthMaxAge is how recently a session must have signed in with Kakao to delete the
	// account (reauth.go); default auth.DefaultReauthMaxAge (10 minutes).
	ReauthMaxAge time.Duration
	// KakaoLogoutURL, when set (KAKAOAUTH_KAKAO_LOGOUT=redirect), returns Kakao's
	// /oauth/logout URL that a browser's logout goes through, with state (kakao.go).
	KakaoLogoutURL func(state string) string
}

// UnlinkWebhookConfig is what Kakao's unlink webhook is checked against.
type UnlinkWebhookConfig struct {
	AdminKey string // KAKAOAUTH_KAKAO_ADMIN_KEY: the request's Authorization is "KakaoAK <AdminKey>"
	AppID    int64  // KAKAOAUTH_KAKAO_APP_ID: the request's app_id
	// AnswerWithin bounds the wait for the webhook's work to be queued: past it the webhook
	// answers 200 and the queueing goes on (checklist case 71). Default 2s.
	AnswerWithin time.Duration
}

// Server serves the HTTP API and pages.
type Server struct {
	cfg       Config
	log       *slog.Logger
	origins   map[string]bool
	redirects map[string]bool
	returnTo  map[string]bool
	callback  string
	handler   http.Handler
	discovery []byte
	budgets   ratelimit.Budgets // nil: no rate limits
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Cookies.AccessName == "" {
		cfg.Cookies.AccessName = "accessToken"
	}
	if cfg.Cookies.RefreshName == "" {
		cfg.Cookies.RefreshName = "refreshToken"
	}
	if cfg.Cookies.CSRFName == "" {
		cfg.Cookies.CSRFName = "csrfToken"
	}
	if cfg.Cookies.SameSite == 0 {
		cfg.Cookies.SameSite = http.SameSiteLaxMode
	}
	if cfg.Cookies.Path == "" {
		cfg.Cookies.Path = cfg.BasePath + "/"
	}
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 10 * time.Minute
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger,
		origins:   map[string]bool{origin(cfg.PublicURL): true},
		redirects: map[string]bool{},
		returnTo:  map[string]bool{cfg.BasePath + "/": true, cfg.BasePath + "/account/delete": true},
	}
	for _, o := range cfg.AllowedOrigins {
		s.origins[o] = true
	}
	for _, u := range cfg.RedirectURIs {
		s.redirects[u] = true
	}
	for _, u := range cfg.ReturnTo {
		s.returnTo[u] = true
	}
	if ratelimit.Limit(cfg.RateLimit).Valid() {
		s.budgets = cfg.Budgets
		if s.budgets == nil {
			s.budgets = ratelimit.NewLocal(cfg.Now)
		}
	}
	s.callback = origin(cfg.PublicURL) + s.path("/auth/kakao/callback")
	s.discovery = s.discoveryDocument()
	s.handler = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// CallbackURL is the browser flow's redirect URI, to register at Kakao.
func (s *Server) CallbackURL() string { return s.callback }

// path is p under the base path: "/auth" becomes "/login/auth" and "/" becomes "/login/" for the
// base path "/login". Every path the server routes, redirects to, scopes a cookie to or links
// from a page is made here.
func (s *Server) path(p string) string { return s.cfg.BasePath + p }

func origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
