package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
	"github.com/kakaoauth/kakaoauth/internal/postgres"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
	"github.com/kakaoauth/kakaoauth/internal/web"
	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// runServer runs `serve` or, with dev, `dev`: the server, and in dev the built-in emulator.
func runServer(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, dev bool) error {
	name := "serve"
	if dev {
		name = "dev"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (KAKAOAUTH_ADDR)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	env := getenv
	if *addr != "" {
		env = overlay(getenv, map[string]string{"KAKAOAUTH_ADDR": *addr})
	}
	cfg, err := loadConfig(env, dev)
	if err != nil {
		return err
	}
	logOut := newBufferedLog(stderr)
	defer logOut.Close()
	log := newLogger(logOut, cfg)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (KAKAOAUTH_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.PublicURL == nil {
		cfg.PublicURL = &url.URL{Scheme: "http", Host: hostForURL(ln.Addr().String())}
	}

	var emu *kakaotest.Emulator
	var emuLn net.Listener
	if dev && (cfg.AuthURL == "" || cfg.APIURL == "") {
		emuLn, err = net.Listen("tcp", cfg.EmulatorAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (KAKAOAUTH_EMULATOR_ADDR): %w", cfg.EmulatorAddr, err)
		}
		defer emuLn.Close()
		emuURL := "http://" + hostForURL(emuLn.Addr().String())
		app := emulatorApp(cfg, getenv)
		app.RedirectURIs = append(app.RedirectURIs, cfg.PublicURL.String()+"/auth/kakao/callback")
		// The emulator calls our unlink webhook as Kakao would (POST /_emulator/unlink).
		app.UnlinkWebhookURL = cfg.PublicURL.String() + "/auth/kakao/webhook/unlink"
		emu = kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: emuURL, Logger: log.With("component", "emulator")})
		defer emu.Close()
		if v := getenv("KAKAOAUTH_EMULATOR_AUTO_CONSENT"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("KAKAOAUTH_EMULATOR_AUTO_CONSENT: want a Kakao user id, got %q", v)
			}
			emu.SetAutoConsent(id)
		}
		cfg.AuthURL, cfg.APIURL = emuURL, emuURL
		a := emu.App()
		if cfg.ClientID == "" {
			cfg.ClientID = a.RESTKey
		}
		if cfg.ClientSecret == "" {
			cfg.ClientSecret = a.ClientSecret
		}
		if cfg.AdminKey == "" {
			cfg.AdminKey = a.AdminKey
		}
		if cfg.AppID == 0 {
			cfg.AppID = a.AppID
		}
		if len(cfg.Audiences) == 0 {
			// ID tokens of the mobile SDK flow name the native (or JavaScript) key.
			cfg.Audiences = []string{a.NativeKey, a.JavaScriptKey}
		}
	}

	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()

	srv := &http.Server{
		Handler:           a.srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (KAKAOAUTH_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		msrv := &http.Server{Handler: a.metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	if cfg.PprofAddr != "" {
		pln, err := net.Listen("tcp", cfg.PprofAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (KAKAOAUTH_PPROF_ADDR): %w", cfg.PprofAddr, err)
		}
		pmux := http.NewServeMux()
		pmux.HandleFunc("/debug/pprof/", pprof.Index)
		pmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pmux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		psrv := &http.Server{Handler: pmux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = psrv.Serve(pln) }()
		defer psrv.Close()
	}
	var emuSrv *http.Server
	if emu != nil {
		emuSrv = &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- emuSrv.Serve(emuLn) }()
	}

	// Replicas sharing a database pick up each other's signing keys (and `kakaoauth keys
	// rotate`) every KAKAOAUTH_KEY_RELOAD, and the signing key is replaced once it is
	// KAKAOAUTH_KEY_ROTATION old.
	go func() {
		t := time.NewTicker(cfg.KeyReload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				keyMaintenance(ctx, a.issuer, cfg.KeyRotation, log)
			}
		}
	}()

	base := cfg.PublicURL.String()
	if dev {
		fmt.Fprintf(stdout, "kakaoauth dev: %s\n", base)
		if emu != nil {
			fmt.Fprintf(stdout, "emulator: %s\n", cfg.AuthURL)
			emu.Describe(stdout, cfg.AuthURL)
		}
		fmt.Fprintf(stdout, "\n브라우저에서 %s 를 열고 \"카카오 로그인\"을 누르세요. 에뮬레이터 동의 화면에서 사용자를 고르면 로그인됩니다.\n", base)
		fmt.Fprintf(stdout, "Open %s in a browser and press \"Login with Kakao\"; pick a user on the emulator's consent page.\n", base)
		fmt.Fprintf(stdout, "Kakao callback (register at Kakao): %s\n", a.srv.CallbackURL())
	}
	fmt.Fprintf(stdout, "listening: %s\n", base)
	log.Info("listening", "url", base, "addr", ln.Addr().String(), "mode", name)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// The server first: its requests in flight may still be talking to the emulator.
	err = srv.Shutdown(sctx)
	if emuSrv != nil {
		_ = emuSrv.Shutdown(sctx)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// app is the wired server and what it must close.
type app struct {
	metrics *metrics.Metrics
	store   migratingStore
	issuer  *tokens.Issuer
	svc     *auth.Service
	srv     *server.Server
}

func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			store.Close()
		}
	}()
	m := metrics.New(version)
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
		Store: timed, Secrets: secrets, Issuer: cfg.PublicURL.String(), Audience: aud, TTL: cfg.AccessTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	kc, err := kakao.New(kakao.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AdminKey: cfg.AdminKey, AppID: cfg.AppID,
		AuthURL: cfg.AuthURL, APIURL: cfg.APIURL, Audiences: append([]string{cfg.ClientID}, cfg.Audiences...),
		Timeout:    cfg.KakaoTimeout,
		HTTPClient: &http.Client{Transport: m.KakaoTransport(nil)},
	})
	if err != nil {
		return nil, fmt.Errorf("kakao client: %w", err)
	}
	idp := &kakaoidp.Provider{Client: kc, RequireIDToken: cfg.OIDC}
	svc := auth.NewService(auth.Config{
		Store:           timed,
		Access:          accessTokens{issuer},
		Refresh:         refreshTokens{secrets},
		Identities:      idp,
		SDK:             idp,
		Unlinker:        idp,
		RefreshTTL:      cfg.RefreshTTL,
		RefreshGrace:    cfg.RefreshGrace,
		RefreshGraceMax: cfg.RefreshGraceMax,
		Logger:          log,
	})
	pages, err := web.New(web.Options{Service: cfg.ServiceName})
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	srv := server.New(server.Config{
		Service: svc, Kakao: kc, Sealer: secrets.FlowSealer(), CSRF: secrets, Pages: pages,
		JWKS: issuer.JWKS, PublicURL: cfg.PublicURL, Audience: aud,
		RedirectURIs: cfg.RedirectURIs, ReturnTo: cfg.ReturnTo, AllowedOrigins: cfg.AllowedOrigins,
		AccessTTL: cfg.AccessTTL, FlowTTL: cfg.FlowTTL, OIDC: cfg.OIDC, Scopes: cfg.Scopes,
		Cookies: server.CookieConfig{
			AccessName: cfg.AccessCookie, RefreshName: cfg.RefreshCookie, CSRFName: cfg.CSRFCookie,
			SameSite: cfg.SameSite, Secure: cfg.PublicURL.Scheme == "https",
		},
		RateLimit:        cfg.RateLimit,
		UnlinkWebhook:    server.UnlinkWebhookConfig{AdminKey: cfg.AdminKey, AppID: cfg.AppID},
		CanonicalHost:    cfg.dev,
		Logger:           log,
		Metrics:          m,
		MetricsElsewhere: cfg.MetricsAddr != "",
		OnRateLimited:    m.RateLimited,
		Ready: func(ctx context.Context) error {
			if len(issuer.KeyIDs()) == 0 {
				return errors.New("no signing key loaded")
			}
			return store.Ping(ctx)
		},
	})
	ok = true
	return &app{metrics: m, store: store, issuer: issuer, svc: svc, srv: srv}, nil
}

func (a *app) close() { a.store.Close() }

// migratingStore is a store whose schema the `migrate` command can bring up to date.
type migratingStore interface {
	auth.Store
	Migrate(ctx context.Context) error
}

// isPostgresURL reports whether a KAKAOAUTH_DATABASE_URL names a PostgreSQL database.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func openStore(ctx context.Context, cfg config) (migratingStore, error) {
	if isPostgresURL(cfg.DatabaseURL) {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{})
		if err != nil {
			// The URL may carry a password: it is not repeated here.
			return nil, fmt.Errorf("open PostgreSQL database (KAKAOAUTH_DATABASE_URL): %w", err)
		}
		return db, nil
	}
	path := strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database %s (KAKAOAUTH_DATABASE_URL): %w", path, err)
	}
	return db, nil
}

// runMigrate applies the migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	dbURL := getenv("KAKAOAUTH_DATABASE_URL")
	if dbURL == "" {
		dbURL = "sqlite:kakaoauth.db"
	}
	if !strings.HasPrefix(dbURL, "sqlite:") && !isPostgresURL(dbURL) {
		return fmt.Errorf("KAKAOAUTH_DATABASE_URL: want sqlite:<path> or postgres://…, got %q", dbURL)
	}
	db, err := openStore(ctx, config{DatabaseURL: dbURL})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	shown := dbURL
	if u, err := url.Parse(dbURL); err == nil && isPostgresURL(dbURL) {
		shown = u.Redacted()
	}
	fmt.Fprintf(stdout, "migrated %s\n", shown)
	return nil
}

func newLogger(w io.Writer, cfg config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// hostForURL turns a listener address into a URL host; an unspecified address becomes loopback.
func hostForURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func overlay(getenv func(string) string, over map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// accessTokens adapts the tokens issuer to the domain.
type accessTokens struct{ i *tokens.Issuer }

func (a accessTokens) SignAccess(userID, sessionID string) (string, time.Time, error) {
	return a.i.Sign(tokens.AccessClaims{Subject: userID, SessionID: sessionID})
}

func (a accessTokens) VerifyAccess(token string) (auth.AccessClaims, error) {
	c, err := a.i.Verify(token)
	if err != nil {
		return auth.AccessClaims{}, err
	}
	return auth.AccessClaims{
		Issuer: c.Issuer, Audience: c.Audience, Subject: c.Subject, SessionID: c.SessionID,
		ID: c.ID, IssuedAt: c.IssuedAt, Expiry: c.Expiry,
	}, nil
}

// refreshTokens adapts the tokens package's refresh-token functions to the domain.
type refreshTokens struct{ s *tokens.Secrets }

func (refreshTokens) NewRefresh() (string, error)        { return tokens.NewRefreshToken() }
func (refreshTokens) HashRefresh(t string) []byte        { return tokens.HashRefresh(t) }
func (r refreshTokens) RefreshSuccessor(t string) string { return r.s.RefreshSuccessor(t) }
func (refreshTokens) ValidRefreshFormat(t string) bool   { return tokens.ValidRefreshFormat(t) }

// keyMaintenance reloads the signing keys (another replica may have rotated) and rotates when
// the signing key has reached the rotation age.
func keyMaintenance(ctx context.Context, issuer *tokens.Issuer, rotation time.Duration, log *slog.Logger) {
	if err := issuer.Reload(ctx); err != nil {
		log.Warn("reload signing keys", "err", err)
		return
	}
	if rotation > 0 && issuer.SigningKeyAge() >= rotation {
		old := issuer.SigningKeyID()
		if err := issuer.Rotate(ctx); err != nil {
			log.Warn("rotate signing key", "err", err)
			return
		}
		log.Info("signing key rotated", "old_kid", old, "new_kid", issuer.SigningKeyID())
	}
}
