package kakaoauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/events"
	"github.com/kakaoauth/kakaoauth/internal/server"
)

// Config is the configuration of a Server. PublicURL, Secret and Kakao.ClientID are required;
// every other zero value takes the default of `kakaoauth serve`, named on each field.
type Config struct {
	// PublicURL is where browsers reach the handler: an origin, with a path when the handler
	// is mounted under one ("https://example.com/login"; see the package overview). It is the
	// iss of the access tokens and the base of the Kakao callback
	// <PublicURL>/auth/kakao/callback. https, or http on a loopback host only.
	PublicURL string
	// Secret is at least 32 characters; the keys that seal signing keys at rest and flow
	// cookies are derived from it, so every replica needs the same one.
	Secret string
	// Kakao is the Kakao app the handler signs people in with.
	Kakao Kakao
	// AdminTokenSHA256 turns on the admin API under <PublicURL>/admin/: the hex SHA-256 of
	// the bearer token operators present (`printf %s "$TOKEN" | sha256sum`); the handler keeps
	// only the hash. Default off (404).
	AdminTokenSHA256 string

	// RedirectURIs are the SPA flow's allowed redirect_uri values (exact match).
	RedirectURIs []string
	// ReturnTo are the browser flow's allowed return_to paths or URLs (exact match); the root
	// of the handler ("/", or the path of PublicURL with a slash) is always allowed.
	ReturnTo []string
	// AllowedOrigins may call the API with credentials (CORS) and make cookie-authenticated
	// state changes; the origin of PublicURL always may.
	AllowedOrigins []string
	// TokenAudience is the aud of the access tokens; default PublicURL.
	TokenAudience []string

	// AccessTTL is the access tokens' lifetime, at most 24h; default 15m.
	AccessTTL time.Duration
	// RefreshTTL is the absolute lifetime of a session; default 720h.
	RefreshTTL time.Duration
	// RefreshGrace is how long a rotated refresh token still answers with its successor
	// (several tabs, retries), at most 1m; default 10s, negative: no grace.
	RefreshGrace time.Duration
	// RefreshGraceMax is how many times one rotated refresh token is answered within the
	// grace; default 10, negative: no limit.
	RefreshGraceMax int
	// FlowTTL is the lifetime of a browser login attempt; default 10m.
	FlowTTL time.Duration
	// KeyRotation is the age at which Run replaces the signing key; default 720h, negative:
	// never. Shorter than 1h is refused.
	KeyRotation time.Duration
	// KeyReload is how often Run reads the signing keys again, from 1s to 1h; default 1m.
	KeyReload time.Duration

	// AccessCookie names the access cookie; default "accessToken".
	AccessCookie string
	// RefreshCookie names the refresh cookie; default "refreshToken".
	RefreshCookie string
	// CSRFCookie names the CSRF double-submit cookie, readable by scripts; default "csrfToken".
	CSRFCookie string
	// CookiePath is the path of the access and CSRF cookies; default the handler's root ("/",
	// or "/login/" for the PublicURL "https://example.com/login"). Widen it to "/" when the
	// program's own pages outside the prefix should receive the access cookie, so that
	// Server.User knows the person there; it must contain the handler's root.
	CookiePath string
	// SameSite of the session cookies; default http.SameSiteLaxMode. Browsers keep
	// http.SameSiteNoneMode cookies only when they are Secure, that is with an https PublicURL.
	SameSite http.SameSite

	// ServiceName is shown in the pages' titles; default "kakaoauth".
	ServiceName string
	// RateLimit limits login, callback, token, refresh, verify and logout per client IP and
	// route; default 30 per minute.
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies in front of the handler, as CIDRs ("10.0.0.0/8")
	// or bare IPs: from a peer among them the client address (rate limits, the request log,
	// the sessions' IP) is read from X-Forwarded-For or Forwarded, walked from the right past
	// the proxies. Default none: those headers are ignored.
	TrustedProxies []string
	// ServeMetrics serves Prometheus metrics at <PublicURL>/metrics on the handler itself;
	// default off (Server.MetricsHandler serves them wherever the program chooses).
	ServeMetrics bool
	// CanonicalHost redirects page requests that arrive under another host name (localhost for
	// 127.0.0.1) to PublicURL, so the flow cookie and Kakao's redirect meet on one host. For
	// local development only: behind a proxy that rewrites Host it would loop.
	CanonicalHost bool
	// Version is reported by the kakaoauth_build_info metric; default "".
	Version string
	// Logger receives the request log and errors; default none.
	Logger *slog.Logger
	// Now is the clock of tokens, sessions and cookies; default time.Now.
	Now func() time.Time
	// RedisURL keeps every rate limit in Redis ("redis://host:6379/0"), so that replicas share
	// one budget; default "": each replica (each Server) counts its own, and N replicas allow N
	// times RateLimit. While Redis cannot be reached the limits are per process again.
	RedisURL string
	// RedisPrefix starts every Redis key; default "kakaoauth:".
	RedisPrefix string
	// AuditRetention is how long Run keeps audit events before pruning them; default 90 days,
	// negative: forever.
	AuditRetention time.Duration

	// Events are the service events (user.created, …, session.revoked) POSTed to the
	// service, signed; default off (README: Events).
	Events Events
}

// Events configures the service events: a durable outbox in the Store, delivered at least once
// by a worker that New starts and Server.Close stops.
type Events struct {
	// URL is KAKAOAUTH_EVENTS_URL: URLs separated by spaces, each optionally followed by
	// #type,type (the event types it wants; none: all). Empty: no events.
	URL string
	// Secret is KAKAOAUTH_EVENTS_SECRET, "whsec_" and base64: the Standard Webhooks signing
	// secret. Required with URL.
	Secret string
}

// Kakao is the Kakao app of a Server (Kakao Developers → 내 애플리케이션).
type Kakao struct {
	// ClientID is the app's REST API key. Required.
	ClientID string
	// ClientSecret is the app's client secret, when it has one turned on.
	ClientSecret string
	// AdminKey is the app's admin key: account deletion unlinks the person at Kakao with it,
	// and it authenticates Kakao's unlink webhook (off without it).
	AdminKey string
	// AppID is the app's numeric id, checked on the unlink webhook.
	AppID int64
	// AuthURL is Kakao's auth host, also the expected ID-token issuer; default
	// "https://kauth.kakao.com". Point it (and APIURL) at an emulator (kakao/kakaotest) in tests.
	AuthURL string
	// APIURL is Kakao's API host; default "https://kapi.kakao.com".
	APIURL string
	// Audiences are extra accepted ID-token aud values (the native app key, the JavaScript
	// key) for the mobile and JavaScript SDK logins.
	Audiences []string
	// WithoutIDToken stops asking Kakao for an OpenID Connect ID token; by default one is
	// asked for and checked (OpenID Connect must be on in the Kakao console).
	WithoutIDToken bool
	// Scopes are extra consent items to ask for.
	Scopes []string
	// Logout also logs the person out of Kakao on our logout: "api" (POST /v1/user/logout with
	// AdminKey), "redirect" (the browser through Kakao's /oauth/logout, LogoutRedirectURI
	// registered in the console), or "" / "off".
	Logout string
	// LogoutRedirectURI is the logout_redirect_uri of Logout "redirect"; default PublicURL +
	// /auth/kakao/logout/callback.
	LogoutRedirectURI string
	// StoreTokens keeps Kakao's access and refresh tokens, sealed, so that the service can get a
	// fresh Kakao access token of a user (GET /admin/users/{id}/kakao-token).
	StoreTokens bool
	// Timeout is the deadline of each call to Kakao; default 10s.
	Timeout time.Duration
	// HTTPClient carries the calls to Kakao; default a client of its own.
	HTTPClient *http.Client
}

// RateLimit is a token bucket per client IP and route: Burst requests at once, refilled over
// Per. The zero RateLimit is the default, 30 per minute.
type RateLimit struct {
	Burst int
	Per   time.Duration
	// Off turns the limits off (tests, or a proxy in front that limits).
	Off bool
}

// WithDefaults returns c with every zero field set to its default, the default of `kakaoauth
// serve`; New calls it, and a program may call it to log the settings in effect.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defString := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.AccessTTL, 15*time.Minute)
	def(&c.AuditRetention, 90*24*time.Hour)
	if c.RedisPrefix == "" {
		c.RedisPrefix = "kakaoauth:"
	}
	def(&c.RefreshTTL, 720*time.Hour)
	def(&c.RefreshGrace, 10*time.Second)
	def(&c.FlowTTL, 10*time.Minute)
	def(&c.KeyRotation, 720*time.Hour)
	def(&c.KeyReload, time.Minute)
	def(&c.Kakao.Timeout, 10*time.Second)
	if c.RefreshGraceMax == 0 {
		c.RefreshGraceMax = 10
	}
	defString(&c.Kakao.AuthURL, "https://kauth.kakao.com")
	defString(&c.Kakao.APIURL, "https://kapi.kakao.com")
	defString(&c.AccessCookie, "accessToken")
	defString(&c.RefreshCookie, "refreshToken")
	defString(&c.CSRFCookie, "csrfToken")
	defString(&c.ServiceName, "kakaoauth")
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = RateLimit{Burst: 30, Per: time.Minute}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// app checks c (its defaults filled in) and turns it into the wiring's configuration. Every
// complaint names its field, and all of them are reported at once.
func (c Config) app() (app.Config, error) {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("kakaoauth: Config.%s: %s", field, fmt.Sprintf(format, a...)))
	}
	check := func(field string, err error) {
		if err != nil {
			bad(field, "%v", err)
		}
	}
	public, err := publicURL(c.PublicURL)
	check("PublicURL", err)
	if len(c.Secret) < 32 {
		bad("Secret", "must be at least 32 characters (e.g. `openssl rand -base64 32`)")
	}
	if c.Kakao.ClientID == "" {
		bad("Kakao.ClientID", "required (the REST API key of your Kakao app)")
	}
	if c.Kakao.AppID < 0 {
		bad("Kakao.AppID", "want a positive number, got %d", c.Kakao.AppID)
	}
	authURL, err := hostURL(c.Kakao.AuthURL)
	check("Kakao.AuthURL", err)
	apiURL, err := hostURL(c.Kakao.APIURL)
	check("Kakao.APIURL", err)
	for _, u := range c.RedirectURIs {
		if _, err := absoluteURL(u); err != nil {
			bad("RedirectURIs", "%v", err)
		}
	}
	for _, u := range c.ReturnTo {
		check("ReturnTo", returnTo(u))
	}
	for _, o := range c.AllowedOrigins {
		if u, err := absoluteURL(o); err != nil {
			bad("AllowedOrigins", "%v", err)
		} else if u.Path != "" || u.RawQuery != "" {
			bad("AllowedOrigins", "%q must be an origin (scheme://host[:port])", o)
		}
	}
	for _, k := range []struct {
		field string
		d     time.Duration
	}{{"AccessTTL", c.AccessTTL}, {"RefreshTTL", c.RefreshTTL}, {"FlowTTL", c.FlowTTL}, {"Kakao.Timeout", c.Kakao.Timeout}} {
		if k.d < 0 {
			bad(k.field, "want a positive duration, got %s", k.d)
		}
	}
	if c.AccessTTL > 24*time.Hour {
		bad("AccessTTL", "at most 24h (access tokens cannot be revoked before they expire), got %s", c.AccessTTL)
	}
	if c.RefreshGrace > time.Minute {
		bad("RefreshGrace", "at most 1m (a long grace weakens reuse detection), got %s", c.RefreshGrace)
	}
	if c.RefreshGraceMax > 1000 {
		bad("RefreshGraceMax", "at most 1000, got %d", c.RefreshGraceMax)
	}
	if c.KeyRotation > 0 && c.KeyRotation < time.Hour {
		bad("KeyRotation", "at least 1h (or negative: never), got %s", c.KeyRotation)
	}
	if c.KeyReload < time.Second || c.KeyReload > time.Hour {
		bad("KeyReload", "want 1s to 1h, got %s", c.KeyReload)
	}
	for _, k := range []struct{ field, name string }{{"AccessCookie", c.AccessCookie}, {"RefreshCookie", c.RefreshCookie}, {"CSRFCookie", c.CSRFCookie}} {
		if !validCookieName(k.name) {
			bad(k.field, "invalid cookie name %q (letters, digits, - and _, at most 64)", k.name)
		}
	}
	if public != nil && c.CookiePath != "" && (!strings.HasPrefix(c.CookiePath, "/") || !strings.HasPrefix(public.Path+"/", c.CookiePath)) {
		bad("CookiePath", "must be a path that contains the handler's root %q, got %q", public.Path+"/", c.CookiePath)
	}
	switch c.SameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		bad("SameSite", "want http.SameSiteLaxMode, SameSiteStrictMode or SameSiteNoneMode")
	}
	rl := server.RateLimit{Burst: c.RateLimit.Burst, Per: c.RateLimit.Per}
	if c.RateLimit.Off {
		rl = server.RateLimit{}
	} else if rl.Burst <= 0 || rl.Per <= 0 {
		bad("RateLimit", "want a positive Burst and Per (or Off), got %d per %s", rl.Burst, rl.Per)
	}
	proxies, err := server.ParseTrustedProxies(c.TrustedProxies)
	check("TrustedProxies", err)
	eventTargets, err := events.ParseTargets(c.Events.URL)
	check("Events.URL", err)
	if len(eventTargets) > 0 {
		if _, err := events.NewSigner(c.Events.Secret); err != nil {
			bad("Events.Secret", "%v", err)
		}
	}
	adminToken, err := hex.DecodeString(c.AdminTokenSHA256)
	if err != nil || (len(adminToken) != 0 && len(adminToken) != sha256.Size) {
		bad("AdminTokenSHA256", "want the 64 hex digits of a SHA-256 (sha256sum of the token), got %d characters", len(c.AdminTokenSHA256))
	}
	if len(errs) > 0 {
		return app.Config{}, errors.Join(errs...)
	}
	return app.Config{
		PublicURL: public, Secret: c.Secret,
		ClientID: c.Kakao.ClientID, ClientSecret: c.Kakao.ClientSecret, AdminKey: c.Kakao.AdminKey, AppID: c.Kakao.AppID,
		AuthURL: authURL, APIURL: apiURL, Audiences: c.Kakao.Audiences, OIDC: !c.Kakao.WithoutIDToken,
		Scopes: c.Kakao.Scopes, KakaoTimeout: c.Kakao.Timeout, KakaoHTTPClient: c.Kakao.HTTPClient,
		KakaoLogout: c.Kakao.Logout, KakaoLogoutRedirectURI: c.Kakao.LogoutRedirectURI, KakaoStoreTokens: c.Kakao.StoreTokens,
		RedirectURIs: c.RedirectURIs, ReturnTo: c.ReturnTo, AllowedOrigins: c.AllowedOrigins,
		TokenAudience: c.TokenAudience,
		AccessTTL:     c.AccessTTL, RefreshTTL: c.RefreshTTL, RefreshGrace: max(c.RefreshGrace, 0),
		RefreshGraceMax: max(c.RefreshGraceMax, 0), FlowTTL: c.FlowTTL,
		AccessCookie: c.AccessCookie, RefreshCookie: c.RefreshCookie, CSRFCookie: c.CSRFCookie, SameSite: c.SameSite,
		CookiePath:  c.CookiePath,
		ServiceName: c.ServiceName, RateLimit: rl, TrustedProxies: proxies, MetricsElsewhere: !c.ServeMetrics, CanonicalHost: c.CanonicalHost,
		Version: c.Version, Logger: c.Logger, Now: c.Now, AdminTokenSHA256: adminToken,
		EventTargets: eventTargets, EventsSecret: c.Events.Secret,
		RedisURL: c.RedisURL, RedisPrefix: c.RedisPrefix, AuditRetention: c.AuditRetention,
	}, nil
}

// publicURL reads PublicURL: an absolute URL whose path, if any, is plain enough to be a route
// prefix; the trailing slash is dropped.
func publicURL(v string) (*url.URL, error) {
	if v == "" {
		return nil, errors.New("required (where browsers reach the handler, e.g. https://example.com/login)")
	}
	u, err := absoluteURL(v)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("must not have a query: %q", v)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	for _, ch := range u.Path {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune("/-._~", ch)) {
			return nil, fmt.Errorf("the path may hold only letters, digits, '/', '-', '.', '_' and '~': %q", v)
		}
	}
	if strings.Contains(u.Path, "//") {
		return nil, fmt.Errorf("the path must not have an empty segment: %q", v)
	}
	u.RawPath = ""
	return u, nil
}

// hostURL reads the base URL of a Kakao host, without a trailing slash.
func hostURL(v string) (string, error) {
	u, err := absoluteURL(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// returnTo accepts a local path or an absolute URL.
func returnTo(v string) error {
	if !strings.HasPrefix(v, "/") {
		_, err := absoluteURL(v)
		return err
	}
	if strings.HasPrefix(v, "//") || strings.Contains(v, `\`) {
		return fmt.Errorf("%q is not a local path", v)
	}
	return nil
}

// absoluteURL accepts an absolute https URL, or http on a loopback host (local setups).
func absoluteURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("not an absolute URL: %q", v)
	case u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("must not have a fragment or user info: %q", v)
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("http:// is only allowed for loopback hosts; use https: %q", v)
	default:
		return nil, fmt.Errorf("want https:// (or http:// on loopback): %q", v)
	}
	return u, nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

func validCookieName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	return strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}
