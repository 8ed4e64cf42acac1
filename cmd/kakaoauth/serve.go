package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/internal/app"
)

// runServer runs `serve` or, with dev, `dev`: the server, and in dev the built-in emulator.
func runServer(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, dev bool) error {
	cfg, ok, err := serverConfig(args, getenv, stdout, dev)
	if !ok {
		return err
	}
	warnings := unknownVariables(environNames(getenv))
	if err != nil {
		// No logger yet: the warnings go before the refusal, as a misspelt name is often its cause.
		for _, w := range warnings {
			fmt.Fprintln(stderr, "kakaoauth: warning:", w)
		}
		return err
	}
	logOut := newBufferedLog(stderr)
	defer logOut.Close()
	log := newLogger(logOut, cfg)
	for _, w := range warnings {
		log.Warn(w)
	}
	var certs *certReloader
	if cfg.TLSCertFile != "" {
		if certs, err = newCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSReload, log); err != nil {
			return err
		}
	}

	ln, err := listen(cfg.Addr, "KAKAOAUTH_ADDR")
	if err != nil {
		return err
	}
	defer ln.Close()
	cfg.derivePublicURL(ln.Addr())

	var emu *devEmulator
	if dev && (cfg.AuthURL == "" || cfg.APIURL == "") {
		if emu, err = startEmulator(cfg, getenv, log); err != nil {
			return err
		}
		defer emu.Close()
		cfg.deriveFromEmulator(emu.URL, emu.App())
	}

	store, err := kakaoauth.OpenStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("%w (KAKAOAUTH_DATABASE_URL)", err)
	}
	defer store.Close()
	handler, err := kakaoauth.New(ctx, cfg.kakaoauth(log), store)
	if err != nil {
		return err
	}
	defer handler.Close() // the events worker, before the store

	mainSrv := mainServer(handler, log)
	if certs != nil {
		mainSrv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
	}
	errc := make(chan error, 2)
	srv := serve(mainSrv, ln, errc)
	closeSides, err := serveSides(cfg, handler.MetricsHandler(), log)
	if err != nil {
		return err
	}
	defer closeSides()
	var emuSrv *http.Server
	if emu != nil {
		emuSrv = serve(&http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}, emu.ln, errc)
	}

	// Replicas sharing a database pick up each other's signing keys (and `kakaoauth keys
	// rotate`) every KAKAOAUTH_KEY_RELOAD, and the signing key is replaced once it is
	// KAKAOAUTH_KEY_ROTATION old.
	go handler.Run(ctx)

	if dev {
		if err := registerDemoClient(ctx, cfg.DatabaseURL, cfg.PublicURL.String(), stdout); err != nil {
			log.Warn("register the OpenID Connect demo client", "err", err)
		}
	}
	printBanner(stdout, cfg, emu, handler.CallbackURL())
	log.Info("listening", "url", cfg.PublicURL.String(), "addr", ln.Addr().String(), "mode", modeName(dev))

	if err := untilStopped(ctx, errc); err != nil {
		return err
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	return shutdown(cfg.ShutdownTimeout, srv, emuSrv)
}

func modeName(dev bool) string {
	if dev {
		return "dev"
	}
	return "serve"
}

// serverHelp is the help of `serve` or, with dev, `dev`: every setting of the table (dev also
// reads KAKAOAUTH_EMULATOR_ADDR and KAKAOAUTH_EMULATOR_AUTO_CONSENT).
func serverHelp(dev bool) help {
	if dev {
		return help{
			usage: "kakaoauth dev [-addr host:port]",
			about: "Runs the server with the built-in Kakao emulator and SQLite, on local defaults: nothing to set up.\n" +
				"The variables of serve apply; unset ones take the dev defaults below (README: Configuration).",
			env: append(settingNames(), "KAKAOAUTH_EMULATOR_AUTO_CONSENT"), dev: true,
		}
	}
	return help{
		usage: "kakaoauth serve [-addr host:port]",
		about: "Runs the server. Every setting comes from a KAKAOAUTH_* variable (README: Configuration, for the details);\n" +
			"serve refuses to start while a required one is missing or a value is unsafe, and names each one.",
		env: slices.DeleteFunc(settingNames(), func(n string) bool { return n == "KAKAOAUTH_EMULATOR_ADDR" }),
	}
}

// serverConfig reads the flags of `serve` and `dev` (-addr wins over KAKAOAUTH_ADDR) and the
// environment. With -h or --help it prints the help and reports false with no error.
func serverConfig(args []string, getenv func(string) string, stdout io.Writer, dev bool) (config, bool, error) {
	fs := flag.NewFlagSet(modeName(dev), flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address (KAKAOAUTH_ADDR)")
	if ok, err := parseFlags(fs, args, serverHelp(dev), stdout); !ok {
		return config{}, false, err
	}
	if fs.NArg() > 0 {
		return config{}, false, usageError{fmt.Sprintf("%s: unexpected arguments %q", modeName(dev), fs.Args())}
	}
	if *addr != "" {
		getenv = overlay(getenv, map[string]string{"KAKAOAUTH_ADDR": *addr})
	}
	cfg, err := loadConfig(getenv, dev)
	return cfg, true, err
}

// listen opens addr; a failure names the variable it came from.
func listen(addr, name string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, name, err)
	}
	return ln, nil
}

// mainServer is the server of the API and the pages, with deadlines that keep slow clients from
// holding connections.
func mainServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		// A Kakao login's requests carry a few KiB of headers (our cookies, the flow cookie, a
		// Bearer token); larger ones are refused with 431 before any token is parsed (case 76).
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serve runs srv on ln in the background, over TLS when srv has a TLSConfig; its end (an error,
// or http.ErrServerClosed) goes to errc.
func serve(srv *http.Server, ln net.Listener, errc chan<- error) *http.Server {
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	return srv
}

// serveSides starts the servers beside the main one, each on an address of its own when set:
// the metrics (KAKAOAUTH_METRICS_ADDR) and Go's profiles (KAKAOAUTH_PPROF_ADDR). They are
// closed at the end, not drained, and their errors are not the server's.
func serveSides(cfg config, metrics http.Handler, log *slog.Logger) (closeAll func(), err error) {
	var sides []*http.Server
	closeAll = func() {
		for _, srv := range slices.Backward(sides) {
			_ = srv.Close()
		}
	}
	if cfg.MetricsAddr != "" {
		srv, addr, err := serveSide(cfg.MetricsAddr, "KAKAOAUTH_METRICS_ADDR", metrics)
		if err != nil {
			return nil, err
		}
		sides = append(sides, srv)
		log.Info("metrics", "addr", addr.String())
	}
	if cfg.PprofAddr != "" {
		srv, _, err := serveSide(cfg.PprofAddr, "KAKAOAUTH_PPROF_ADDR", pprofHandler())
		if err != nil {
			closeAll()
			return nil, err
		}
		sides = append(sides, srv)
	}
	return closeAll, nil
}

// serveSide serves h on addr in the background and returns the address it listens on.
func serveSide(addr, name string, h http.Handler) (*http.Server, net.Addr, error) {
	ln, err := listen(addr, name)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr(), nil
}

// pprofHandler serves Go's profiles (KAKAOAUTH_PPROF_ADDR, loopback only).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// printBanner tells whoever started the server where it is; in dev, also where the emulator is
// and how to sign in. Tests read the "emulator: <url>" and "listening: <url>" lines.
func printBanner(w io.Writer, cfg config, emu *devEmulator, callbackURL string) {
	base := cfg.PublicURL.String()
	if cfg.dev {
		fmt.Fprintf(w, "kakaoauth dev: %s\n", base)
		if emu != nil {
			fmt.Fprintf(w, "emulator: %s\n", emu.URL)
			emu.Describe(w, emu.URL)
		}
		fmt.Fprintf(w, "\n브라우저에서 %s 를 열고 \"카카오 로그인\"을 누르세요. 에뮬레이터 동의 화면에서 사용자를 고르면 로그인됩니다.\n", base)
		fmt.Fprintf(w, "Open %s in a browser and press \"Login with Kakao\"; pick a user on the emulator's consent page.\n", base)
		fmt.Fprintf(w, "Kakao callback (register at Kakao): %s\n", callbackURL)
	}
	fmt.Fprintf(w, "listening: %s\n", base)
}

// untilStopped waits for the end of ctx (a signal), or for a server to fail.
func untilStopped(ctx context.Context, errc <-chan error) error {
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	return nil
}

// shutdown lets requests in flight finish within timeout: the server's first, as they may still
// be talking to the emulator, then the emulator's (emuSrv may be nil).
func shutdown(timeout time.Duration, srv, emuSrv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if emuSrv != nil {
		_ = emuSrv.Shutdown(ctx)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

var migrateHelp = help{
	usage: "kakaoauth migrate",
	about: "Applies the database migrations and exits (serve and dev also apply them at start).",
	env:   []string{"KAKAOAUTH_DATABASE_URL"},
}

// runMigrate applies the migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if ok, err := parseFlags(fs, args, migrateHelp, stdout); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("migrate: unexpected arguments %q\nusage: %s", fs.Args(), migrateHelp.usage)}
	}
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

// maxHeaderBytes caps request headers (net/http allows 4 KiB more for the request line).
const maxHeaderBytes = 16 << 10

// certReloader serves the certificate of KAKAOAUTH_TLS_CERT_FILE and KAKAOAUTH_TLS_KEY_FILE and
// reads the pair again when either file changes (size or modification time), so a renewed
// certificate (certbot, cert-manager) is served without a restart. The files are looked at
// during a handshake, at most once every interval; a new pair that does not load keeps the old
// certificate, with a warning.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

// fileStamp is what tells a changed file.
type fileStamp struct {
	size    int64
	modTime time.Time
}

// newCertReloader loads the pair; an error names the variable of the file at fault.
func newCertReloader(certFile, keyFile string, every time.Duration, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, every: every, log: log}
	if err := checkPrivateFile("KAKAOAUTH_TLS_KEY_FILE", keyFile); err != nil { // keyperm.go
		return nil, err
	}
	stamp, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("KAKAOAUTH_TLS_CERT_FILE, KAKAOAUTH_TLS_KEY_FILE: %w", err)
	}
	c.cert, c.stamp, c.checked = &cert, stamp, time.Now()
	return c, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.every {
		c.checked = now
		c.reloadIfChanged()
	}
	return c.cert, nil
}

func (c *certReloader) reloadIfChanged() {
	stamp, err := c.stat()
	if err != nil {
		c.log.Warn("tls: certificate files unreadable; serving the previous certificate", "err", err.Error())
		return
	}
	if stamp == c.stamp {
		return
	}
	// A pair that does not load is not tried again until the files change once more: a
	// certificate written before its key loads at the key's write.
	c.stamp = stamp
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		c.log.Warn("tls: new certificate not loaded; serving the previous one", "err", err.Error())
		return
	}
	c.cert = &cert
	c.log.Info("tls: certificate reloaded", "file", c.certFile)
}

func (c *certReloader) stat() ([2]fileStamp, error) {
	var out [2]fileStamp
	for i, f := range []struct{ name, path string }{{"KAKAOAUTH_TLS_CERT_FILE", c.certFile}, {"KAKAOAUTH_TLS_KEY_FILE", c.keyFile}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			return out, fmt.Errorf("%s: %w", f.name, err)
		}
		out[i] = fileStamp{fi.Size(), fi.ModTime()}
	}
	return out, nil
}
