// Package app wires kakaoauth together: a store, the token issuer, the Kakao client, the domain
// service, the pages and the HTTP server, from one Config. cmd/kakaoauth reads the environment
// into a Config and serves the result; tests build the same server in process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/events"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/postgres"
	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/internal/sessioncache"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
	"github.com/kakaoauth/kakaoauth/internal/web"
	"github.com/kakaoauth/kakaoauth/kakao"
)

// Config is every setting the wired server needs, already parsed and checked.
type Config struct {
	PublicURL   *url.URL // our origin: iss of our tokens, base of the Kakao callback
	DatabaseURL string   // sqlite:<path> or postgres://…; ignored when New is given a store
	Secret      string   // KAKAOAUTH_SECRET

	// Kakao.
	ClientID     string
	ClientSecret string
	AdminKey     string
	AppID        int64
	AuthURL      string
	APIURL       string
	Audiences    []string // extra accepted ID-token audiences (native / JavaScript keys)
	OIDC         bool
	Scopes       []string
	KakaoTimeout time.Duration

	RedirectURIs   []string
	ReturnTo       []string
	AllowedOrigins []string
	TokenAudience  []string // default {PublicURL}

	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	RefreshGrace    time.Duration
	RefreshGraceMax int
	FlowTTL         time.Duration

	AccessCookie  string
	RefreshCookie string
	CSRFCookie    string
	SameSite      http.SameSite
	// CookiePath is the path of the access and CSRF cookies; default the root of the server
	// (PublicURL's path + "/").
	CookiePath string

	ServiceName string
	RateLimit   server.RateLimit
	// TrustedProxies are the reverse proxies whose X-Forwarded-For or Forwarded name the client
	// (KAKAOAUTH_TRUSTED_PROXIES); empty: those headers are ignored.
	TrustedProxies []netip.Prefix
	// MetricsElsewhere keeps /metrics off the main handler (served on KAKAOAUTH_METRICS_ADDR).
	MetricsElsewhere bool
	// CanonicalHost redirects page requests under another host name to PublicURL (dev only).
	CanonicalHost bool
	// AdminTokenSHA256 is the SHA-256 of the admin API's token; empty: no admin API.
	AdminTokenSHA256 []byte
	// Version is reported by the build-info metric.
	Version string
	Logger  *slog.Logger
	// Now is the clock of the issuer, the service and the server; default time.Now.
	Now func() time.Time
	// KakaoHTTPClient, when set, carries the calls to Kakao (its transport is wrapped by the
	// metrics); default a client of its own.
	KakaoHTTPClient *http.Client

	// Events (internal/events): the URLs that receive service events (KAKAOAUTH_EVENTS_URL)
	// and the whsec_ secret that signs them (KAKAOAUTH_EVENTS_SECRET).
	EventTargets []auth.EventTarget
	EventsSecret string
	// Events tunes the outbox worker (attempts, backoff, poll); its Store, Secret, Do, Now,
	// Logger and Metrics are set by the wiring.
	Events events.Config
	// EventsManual leaves the outbox worker stopped: the caller runs App.Events (tests drive it
	// with RunOnce and Drain).
	EventsManual bool
	// WebhookAnswerWithin bounds how long Kakao's unlink webhook waits for its work to be
	// queued before it answers 200 anyway (default 2s; Kakao wants an answer within 3s).
	WebhookAnswerWithin time.Duration
	// RedisURL keeps the rate limits in Redis, shared by the replicas (KAKAOAUTH_REDIS_URL);
	// "": per process. RedisPrefix starts its keys (default "kakaoauth:"; tests set their own).
	RedisURL    string
	RedisPrefix string
	// RequestTimeout is every request's deadline; default 30 s (server.Config.RequestTimeout).
	RequestTimeout time.Duration
	// SessionCacheTTL bounds how long a session check of GET /auth/me (and every authenticated
	// request) is answered from memory (internal/sessioncache): revocations through this process
	// are seen at once, those of other replicas within it. 0: 1 s; negative: no cache.
	SessionCacheTTL time.Duration
	// AuditRetention is how long audit events are kept by the pruning (KAKAOAUTH_AUDIT_RETENTION);
	// 0: 90 days, negative: forever.
	AuditRetention time.Duration
	// KakaoBreaker tunes the circuit breaker around the logins' Kakao calls (checklist case 88);
	// zero fields take kakaoidp's defaults.
	KakaoBreaker kakaoidp.BreakerConfig
	// KakaoLogout is "", "off", "api" or "redirect" (KAKAOAUTH_KAKAO_LOGOUT, kakao.go).
	KakaoLogout string
	// KakaoLogoutRedirectURI is the logout_redirect_uri of KakaoLogout "redirect"; default
	// PublicURL + /auth/kakao/logout/callback.
	KakaoLogoutRedirectURI string
	// KakaoStoreTokens keeps Kakao's tokens, sealed, for the service (KAKAOAUTH_KAKAO_STORE_TOKENS).
	KakaoStoreTokens bool
}

// Store is a store whose schema the `migrate` command can bring up to date.
type Store interface {
	auth.Store
	Migrate(ctx context.Context) error
}

// App is the wired server and what it must close.
type App struct {
	Metrics *metrics.Metrics
	Store   Store
	Issuer  *tokens.Issuer
	Service *auth.Service
	Server  *server.Server
	Kakao   *kakao.Client
	// Events delivers the outbox (nil when the store has none); started unless EventsManual.
	Events *events.Worker
	// OIDC is the standard OpenID Provider and RSA its RS256 keys (nil when the store keeps no
	// OpenID Provider tables).
	OIDC *oidcop.Provider
	RSA  *tokens.RSAKeys

	closeRedis func() error
	cfg        Config
}

// IsPostgresURL reports whether a KAKAOAUTH_DATABASE_URL names a PostgreSQL database.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenStore opens the database a KAKAOAUTH_DATABASE_URL names, migrated; its errors name the
// variable.
func OpenStore(ctx context.Context, databaseURL string) (Store, error) {
	db, err := OpenDatabase(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w (KAKAOAUTH_DATABASE_URL)", err)
	}
	return db, nil
}

// OpenDatabase opens the database of a sqlite:<path> or postgres://… URL, migrated.
func OpenDatabase(ctx context.Context, databaseURL string) (Store, error) {
	if IsPostgresURL(databaseURL) {
		db, err := postgres.Open(ctx, databaseURL, postgres.Options{})
		if err != nil {
			// The URL may carry a password: it is not repeated here.
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		return db, nil
	}
	path := strings.TrimPrefix(databaseURL, "sqlite:")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// New opens the store of cfg.DatabaseURL and wires the server on it; Close releases it.
func New(ctx context.Context, cfg Config) (*App, error) {
	store, err := OpenStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a, err := NewWithStore(ctx, cfg, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

// NewWithStore wires the server on an open store, which Close then closes.
func NewWithStore(ctx context.Context, cfg Config, store Store) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger
	m := metrics.New(cfg.Version, server.ErrorCodes())
	timed := metrics.Store(store, m) // times every store call; counts new users and refresh outcomes
	secrets, err := tokens.DeriveSecrets(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("KAKAOAUTH_SECRET: %w", err)
	}
	aud := cfg.TokenAudience
	if len(aud) == 0 {
		aud = []string{cfg.PublicURL.String()}
	}
	issuer, err := tokens.NewIssuer(ctx, tokens.IssuerConfig{
		Store: timed, Secrets: secrets, Issuer: cfg.PublicURL.String(), Audience: aud, TTL: cfg.AccessTTL, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	hc := cfg.KakaoHTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	hc = &http.Client{Transport: m.KakaoTransport(hc.Transport), Timeout: hc.Timeout, Jar: hc.Jar}
	kc, err := kakao.New(kakao.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AdminKey: cfg.AdminKey, AppID: cfg.AppID,
		AuthURL: cfg.AuthURL, APIURL: cfg.APIURL, Audiences: append([]string{cfg.ClientID}, cfg.Audiences...),
		Timeout: cfg.KakaoTimeout, HTTPClient: hc,
	})
	if err != nil {
		return nil, fmt.Errorf("kakao client: %w", err)
	}
	idp := &kakaoidp.Provider{Client: kc, RequireIDToken: cfg.OIDC, Scopes: cfg.Scopes}
	budgets, closeRedis, err := openBudgets(ctx, cfg, m, log)
	if err != nil {
		return nil, err
	}
	var acct auth.AccountBudgets
	if cfg.RateLimit != (server.RateLimit{}) {
		acct = accountBudgets{b: budgets, lim: ratelimit.Limit(cfg.RateLimit)}
	}
	var svcStore auth.Store = timed
	if cfg.SessionCacheTTL >= 0 {
		svcStore = sessioncache.New(timed, cfg.SessionCacheTTL)
	}
	idp.Breaker = newKakaoBreaker(cfg.KakaoBreaker, m, log)
	closeBudgets := func() {
		if closeRedis != nil {
			closeRedis()
		}
	}
	kakaoExtras, kakaoLogoutURL, err := kakaoLink(cfg, store, secrets, idp, kc)
	if err != nil {
		closeBudgets()
		return nil, err
	}
	var svc *auth.Service
	worker, outbox, err := newWorker(cfg, store, m, func(ctx context.Context, it auth.OutboxItem) error {
		return svc.DoOutboxItem(ctx, it)
	})
	if err != nil {
		closeBudgets()
		return nil, err
	}
	svc = auth.NewService(auth.Config{
		Outbox:          outbox,
		OnOutbox:        notifier(worker),
		Store:           svcStore,
		Access:          tokens.AccessAdapter{Issuer: issuer},
		Refresh:         tokens.RefreshAdapter{Secrets: secrets},
		Identities:      idp,
		SDK:             idp,
		Unlinker:        idp,
		Authorizer:      idp,
		RefreshTTL:      cfg.RefreshTTL,
		RefreshGrace:    cfg.RefreshGrace,
		RefreshGraceMax: cfg.RefreshGraceMax,
		Now:             cfg.Now,
		Logger:          log,
		Budgets:         acct,
		Kakao:           kakaoExtras,
	})
	// Under a path ("http://host/login"), every route, cookie and link carries it.
	base := strings.TrimSuffix(cfg.PublicURL.Path, "/")
	pages, err := web.New(web.Options{Service: cfg.ServiceName, BasePath: base})
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	// The standard OpenID Provider, on the same store, keys and pages.
	var (
		provider *oidcop.Provider
		rsaKeys  *tokens.RSAKeys
		oidcSrv  server.OIDCProvider
	)
	if ostore, ok := store.(auth.OIDCStore); ok {
		rsaKeys, err = tokens.NewRSAKeys(ctx, timed, secrets, issuer.Overlap(), cfg.Now)
		if err != nil {
			return nil, fmt.Errorf("RSA signing keys: %w", err)
		}
		provider, err = oidcop.New(oidcop.Config{
			Issuer: cfg.PublicURL.String(), BasePath: base,
			Store: struct {
				auth.Store
				auth.OIDCStore
			}{svcStore, ostore},
			RSA: rsaKeys, ES256: issuer, Secrets: secrets, Pages: pages,
			AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, RefreshGrace: cfg.RefreshGrace,
			RefreshGraceMax: cfg.RefreshGraceMax, Now: cfg.Now, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("OpenID Provider: %w", err)
		}
		oidcSrv = provider
	}
	srv := server.New(server.Config{
		OIDC:    oidcSrv,
		Service: svc, Sealer: secrets.FlowSealer(), CSRF: secrets, Pages: pages,
		JWKS: issuer.JWKS, PublicURL: cfg.PublicURL, BasePath: base, Audience: aud,
		RedirectURIs: cfg.RedirectURIs, ReturnTo: cfg.ReturnTo, AllowedOrigins: cfg.AllowedOrigins,
		AccessTTL: cfg.AccessTTL, FlowTTL: cfg.FlowTTL,
		Cookies: server.CookieConfig{
			AccessName: cfg.AccessCookie, RefreshName: cfg.RefreshCookie, CSRFName: cfg.CSRFCookie,
			SameSite: cfg.SameSite, Secure: cfg.PublicURL.Scheme == "https", Path: cfg.CookiePath,
		},
		RateLimit:        cfg.RateLimit,
		Budgets:          budgets,
		RequestTimeout:   cfg.RequestTimeout,
		TrustedProxies:   cfg.TrustedProxies,
		UnlinkWebhook:    server.UnlinkWebhookConfig{AdminKey: cfg.AdminKey, AppID: cfg.AppID, AnswerWithin: cfg.WebhookAnswerWithin},
		AdminTokenSHA256: cfg.AdminTokenSHA256,
		KakaoLogoutURL:   kakaoLogoutURL,
		CanonicalHost:    cfg.CanonicalHost,
		Logger:           log,
		Now:              cfg.Now,
		Metrics:          m,
		MetricsElsewhere: cfg.MetricsElsewhere,
		OnRateLimited:    m.RateLimited,
		Ready: func(ctx context.Context) error {
			if len(issuer.KeyIDs()) == 0 {
				return errors.New("no signing key loaded")
			}
			return store.Ping(ctx)
		},
	})
	if provider != nil {
		provider.SetSessions(srv.BrowserSession)
	}
	if worker != nil && !cfg.EventsManual {
		worker.Start()
	}
	return &App{Metrics: m, Store: store, Issuer: issuer, Service: svc, Server: srv, Kakao: kc, Events: worker, OIDC: provider, RSA: rsaKeys, closeRedis: closeRedis, cfg: cfg}, nil
}

// Close stops the outbox worker (waiting for the attempts in flight), releases the store and
// the rate limits' Redis client.
func (a *App) Close() error {
	a.StopEvents()
	if a.closeRedis != nil {
		a.closeRedis()
	}
	return a.Store.Close()
}

// MaintainKeys reloads the signing keys every reload (replicas sharing a database pick up each
// other's rotations and `kakaoauth keys rotate`) and replaces the signing key once it is rotation
// old (0: never), until ctx ends.
func (a *App) MaintainKeys(ctx context.Context, reload, rotation time.Duration, log *slog.Logger) {
	// A scheduled rotation publishes its key two reloads before it signs (no replica meets an
	// unknown kid).
	a.Issuer.SetPublishAhead(2 * reload)
	t := time.NewTicker(reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			KeyMaintenance(ctx, a.Issuer, rotation, log)
			if a.RSA != nil {
				RSAKeyMaintenance(ctx, a.RSA, rotation, 2*reload, log)
			}
		}
	}
}

// KeyMaintenance is one round of MaintainKeys: it reloads the signing keys (another replica may
// have rotated) and rotates when the signing key has reached the rotation age.
func KeyMaintenance(ctx context.Context, issuer *tokens.Issuer, rotation time.Duration, log *slog.Logger) {
	if err := issuer.Reload(ctx); err != nil {
		log.Warn("reload signing keys", "err", err)
		return
	}
	if rotation > 0 && !issuer.RotationPending() && issuer.SigningKeyAge() >= rotation {
		old := issuer.SigningKeyID()
		if err := issuer.Rotate(ctx); err != nil {
			log.Warn("rotate signing key", "err", err)
			return
		}
		log.Info("signing key rotated", "old_kid", old, "new_kid", issuer.SigningKeyID())
	}
}

// RSAKeyMaintenance is KeyMaintenance for the OpenID Provider's RS256 keys; a rotation publishes
// its key ahead (two reloads) before it signs.
func RSAKeyMaintenance(ctx context.Context, keys *tokens.RSAKeys, rotation, ahead time.Duration, log *slog.Logger) {
	if err := keys.Reload(ctx); err != nil {
		log.Warn("reload RSA signing keys", "err", err)
		return
	}
	if rotation > 0 && !keys.Pending() && keys.SigningKeyAge() >= rotation {
		if err := keys.RotateAhead(ctx, ahead); err != nil {
			log.Warn("rotate RSA signing key", "err", err)
			return
		}
		kid, _ := keys.Signer()
		log.Info("RSA signing key rotated", "new_kid", kid)
	}
}
