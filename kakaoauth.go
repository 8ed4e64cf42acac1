// Package kakaoauth embeds the kakaoauth server — "카카오 로그인" (Login with Kakao), its
// pages, and the service's own ES256 access tokens and rotating refresh tokens — in another Go
// program, as one http.Handler.
//
// OpenStore opens the database (SQLite or PostgreSQL, migrated), New builds the handler from a
// Config, and Server.User tells the program's own handlers who is signed in. The handler is
// the same one `kakaoauth serve` runs: the same routes, JSON shapes, cookies and pages.
//
// # Mounting under a path
//
// When Config.PublicURL has a path, such as "https://example.com/login", the handler serves
// everything under it and the host program mounts it with mux.Handle("/login/", srv). Every
// path it makes carries the prefix:
//
//   - routes: /login/auth/kakao/login, /login/auth/me, /login/.well-known/jwks.json, …;
//   - the Kakao callback to register at Kakao: <PublicURL>/auth/kakao/callback;
//   - redirects (after login, logout and account deletion, and to the error page), the links
//     and form actions of the pages and the stylesheet;
//   - cookie paths: the access and CSRF cookies are scoped to /login/, the refresh cookie to
//     /login/auth;
//   - the endpoints of the discovery document /login/.well-known/openid-configuration;
//   - the return_to always allowed after a browser login: /login/ (others come from
//     Config.ReturnTo).
//
// The issuer (iss) of the access tokens is PublicURL as given, without a trailing slash.
// Requests outside the prefix are the host's: the handler never sees them.
package kakaoauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Store is the database of users, sessions, refresh tokens and signing keys. A Store may be
// shared by several Servers (replicas on PostgreSQL, or a restart); it is closed by its opener.
type Store struct {
	db app.Store
}

// OpenStore opens the database databaseURL names and brings its schema up to date:
// "sqlite:<path>" for a SQLite file, or "postgres://user:password@host:5432/db" (or
// "postgresql://…") for PostgreSQL, which replicas can share.
func OpenStore(ctx context.Context, databaseURL string) (*Store, error) {
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:") && len(databaseURL) > len("sqlite:"):
	case app.IsPostgresURL(databaseURL):
	default:
		// A PostgreSQL URL may carry a password: a URL not understood is not repeated.
		return nil, errors.New("database URL: want sqlite:<path> or postgres://user:password@host:port/database")
	}
	db, err := app.OpenDatabase(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database. Close it after the Servers that use it are no longer serving.
func (s *Store) Close() error { return s.db.Close() }

// Server is the whole kakaoauth HTTP surface as one http.Handler. It is safe for concurrent
// use.
type Server struct {
	app      *app.App
	rotation time.Duration
	reload   time.Duration
	cfg      Config
}

// New checks cfg, fills in its defaults and builds the handler on store, loading (or, on a new
// database, creating) the signing keys. The errors of cfg name the fields, all at once.
func New(ctx context.Context, cfg Config, store *Store) (*Server, error) {
	if store == nil {
		return nil, errors.New("kakaoauth: New: no Store (open one with OpenStore)")
	}
	cfg = cfg.WithDefaults()
	ac, err := cfg.app()
	if err != nil {
		return nil, err
	}
	a, err := app.NewWithStore(ctx, ac, store.db)
	if err != nil {
		return nil, err
	}
	return &Server{app: a, rotation: max(cfg.KeyRotation, 0), reload: cfg.KeyReload, cfg: cfg}, nil
}

// Close stops the events worker (waiting for the deliveries in flight; what is pending stays in
// the Store for the next start). Call it once the Server no longer serves, before closing the
// Store.
func (s *Server) Close() error {
	s.app.StopEvents()
	return nil
}

// ServeHTTP serves the API, the pages and the well-known documents.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.app.Server.ServeHTTP(w, r) }

// CallbackURL is the browser flow's redirect URI, <PublicURL>/auth/kakao/callback: register it
// at Kakao (Kakao Developers → 카카오 로그인 → Redirect URI).
func (s *Server) CallbackURL() string { return s.app.Server.CallbackURL() }

// MetricsHandler serves the Prometheus metrics of this Server, for the host program to mount
// where only its operators reach it (the handler itself serves /metrics only with
// Config.ServeMetrics).
func (s *Server) MetricsHandler() http.Handler { return s.app.Metrics.Handler() }

// Run keeps the signing keys current until ctx ends: every Config.KeyReload it reads them
// again from the store (other replicas' rotations, `kakaoauth keys rotate`), and it replaces the
// signing key once it is Config.KeyRotation old. Run it in a goroutine of its own; a Server
// without Run keeps its keys until it stops.
func (s *Server) Run(ctx context.Context) {
	// Expired tokens, ended sessions, used single-use keys and old audit events are pruned in
	// the background (app.PruneEvery), in small batches.
	go s.app.Prune(ctx, app.PruneEvery, s.cfg.Logger)
	// With KAKAOAUTH_KAKAO_STORE_TOKENS, Kakao refresh tokens that expire within 30 days are
	// refreshed at Kakao (a few minutes after the start, then every app.KakaoKeepEvery).
	go s.app.KeepKakaoTokens(ctx, app.KakaoKeepEvery, s.cfg.Logger)
	s.app.MaintainKeys(ctx, s.reload, s.rotation, s.cfg.Logger)
}

// User is a person signed in with Kakao, as GET /auth/me shows them.
type User struct {
	ID              string    // our user id: the sub of our access tokens
	KakaoID         string    // the decimal Kakao user id; "" if the user has no Kakao identity
	Nickname        string    // "" when Kakao gave none
	Email           string    // "" unless Kakao gave a valid, verified address
	EmailVerified   bool      // Kakao says the address is verified
	ProfileImageURL string    // "" when Kakao gave none
	CreatedAt       time.Time // first sign-in
	LastLoginAt     time.Time // latest sign-in
}

// User returns the person r is signed in as: from an "Authorization: Bearer" access token, else
// from the access cookie, with the session checked as GET /auth/me checks it (a signed-out
// session or a deleted account is nobody). ok is false for anyone not signed in; a failing
// database is logged and also answers false.
func (s *Server) User(r *http.Request) (u User, ok bool) {
	au, err := s.app.Server.User(r)
	if err != nil {
		if code := auth.ErrorCode(err); code != auth.ECodeInvalidToken && code != auth.ECodeUnauthorized {
			s.cfg.Logger.ErrorContext(r.Context(), "kakaoauth: read the signed-in user", "err", err)
		}
		return User{}, false
	}
	return User{
		ID: au.ID, KakaoID: au.KakaoID, Nickname: au.Nickname, Email: au.Email, EmailVerified: au.EmailVerified,
		ProfileImageURL: au.ProfileImageURL, CreatedAt: au.CreatedAt, LastLoginAt: au.LastLoginAt,
	}, true
}
