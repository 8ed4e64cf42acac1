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

	"github.com/kakaoauth/kakaoauth/internal/app"
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
		emuApp := emulatorApp(cfg, getenv)
		emuApp.RedirectURIs = append(emuApp.RedirectURIs, cfg.PublicURL.String()+"/auth/kakao/callback")
		// The emulator calls our unlink webhook as Kakao would (POST /_emulator/unlink).
		emuApp.UnlinkWebhookURL = cfg.PublicURL.String() + "/auth/kakao/webhook/unlink"
		emu = kakaotest.New(emuApp, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: emuURL, Logger: log.With("component", "emulator")})
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

	a, err := app.New(ctx, cfg.app(log))
	if err != nil {
		return err
	}
	defer a.Close()

	srv := &http.Server{
		Handler:           a.Server,
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
		msrv := &http.Server{Handler: a.Metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
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
	go a.MaintainKeys(ctx, cfg.KeyReload, cfg.KeyRotation, log)

	base := cfg.PublicURL.String()
	if dev {
		fmt.Fprintf(stdout, "kakaoauth dev: %s\n", base)
		if emu != nil {
			fmt.Fprintf(stdout, "emulator: %s\n", cfg.AuthURL)
			emu.Describe(stdout, cfg.AuthURL)
		}
		fmt.Fprintf(stdout, "\n브라우저에서 %s 를 열고 \"카카오 로그인\"을 누르세요. 에뮬레이터 동의 화면에서 사용자를 고르면 로그인됩니다.\n", base)
		fmt.Fprintf(stdout, "Open %s in a browser and press \"Login with Kakao\"; pick a user on the emulator's consent page.\n", base)
		fmt.Fprintf(stdout, "Kakao callback (register at Kakao): %s\n", a.Server.CallbackURL())
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

// runMigrate applies the migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	dbURL := getenv("KAKAOAUTH_DATABASE_URL")
	if dbURL == "" {
		dbURL = "sqlite:kakaoauth.db"
	}
	if !strings.HasPrefix(dbURL, "sqlite:") && !app.IsPostgresURL(dbURL) {
		return fmt.Errorf("KAKAOAUTH_DATABASE_URL: want sqlite:<path> or postgres://…, got %q", dbURL)
	}
	db, err := app.OpenStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	shown := dbURL
	if u, err := url.Parse(dbURL); err == nil && app.IsPostgresURL(dbURL) {
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
