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
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// emulatorApp is the emulated Kakao app, from the same variables the server reads, so a server
// and an emulator started with one environment agree.
func emulatorApp(cfg config, getenv func(string) string) kakaotest.App {
	app := kakaotest.DefaultApp()
	if v := getenv("KAKAOAUTH_KAKAO_CLIENT_ID"); v != "" {
		app.RESTKey = v
	}
	if v := getenv("KAKAOAUTH_KAKAO_CLIENT_SECRET"); v != "" {
		app.ClientSecret = v
	}
	if v := getenv("KAKAOAUTH_KAKAO_ADMIN_KEY"); v != "" {
		app.AdminKey = v
	}
	if v := getenv("KAKAOAUTH_KAKAO_APP_ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			app.AppID = n
		}
	}
	app.RedirectURIs = append(app.RedirectURIs, cfg.RedirectURIs...)
	if v := getenv("KAKAOAUTH_PUBLIC_URL"); v != "" {
		app.RedirectURIs = append(app.RedirectURIs, strings.TrimSuffix(v, "/")+"/auth/kakao/callback")
	}
	app.OIDC = cfg.OIDC
	return app
}

// userFlags collects repeated -user "id,nickname[,email]" flags.
type userFlags []kakaotest.User

func (u *userFlags) String() string { return fmt.Sprint(len(*u)) }

func (u *userFlags) Set(v string) error {
	parts := strings.SplitN(v, ",", 3)
	if len(parts) < 2 {
		return errors.New(`want "id,nickname[,email]"`)
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("bad user id %q", parts[0])
	}
	usr := kakaotest.User{ID: id, Nickname: parts[1]}
	if len(parts) == 3 && parts[2] != "" {
		usr.Email, usr.EmailValid, usr.EmailVerified = parts[2], true, true
	}
	*u = append(*u, usr)
	return nil
}

var emulatorHelp = help{
	usage: "kakaoauth emulator [-addr 127.0.0.1:9911] [flags]",
	about: "Runs the Kakao emulator alone (authorize and consent pages, tokens, user info, unlink), configured\n" +
		"from the variables the server reads, so a server and an emulator started with one environment agree.",
	env: []string{
		"KAKAOAUTH_KAKAO_CLIENT_ID", "KAKAOAUTH_KAKAO_CLIENT_SECRET", "KAKAOAUTH_KAKAO_ADMIN_KEY", "KAKAOAUTH_KAKAO_APP_ID",
		"KAKAOAUTH_REDIRECT_URIS=More redirect_uri values the emulated app accepts.",
		"KAKAOAUTH_PUBLIC_URL=The server using the emulator: its <PUBLIC_URL>/auth/kakao/callback is accepted.",
	},
	dev: true,
}

// runEmulator runs the Kakao emulator alone.
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9911", "listen address")
	oidc := fs.Bool("oidc", true, "OpenID Connect on (ID tokens)")
	consent := fs.String("consent", "profile_nickname:required,profile_image,account_email", "consent items, comma-separated, :required marks required ones")
	secret := fs.Bool("client-secret", true, "client secret on (its value: KAKAOAUTH_KAKAO_CLIENT_SECRET or the dev default)")
	auto := fs.Int64("auto-consent", 0, "answer every authorize request at once as this user id (load runs)")
	issuer := fs.String("issuer", "", "ID-token issuer and discovery base URL (default http://<addr>)")
	var users userFlags
	fs.Var(&users, "user", `seed user "id,nickname[,email]" (repeatable; default: the built-in test users)`)
	if ok, err := parseFlags(fs, args, emulatorHelp, stdout); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("emulator: unexpected arguments %q", fs.Args())}
	}
	cfg, _ := loadConfig(getenv, true) // only the list and OIDC settings are used; no validation needed
	cfg.OIDC = *oidc
	app := emulatorApp(cfg, getenv)
	if !*secret {
		app.ClientSecret = ""
	}
	app.ConsentItems = nil
	for _, item := range list(*consent) {
		id, req, _ := strings.Cut(item, ":")
		app.ConsentItems = append(app.ConsentItems, kakaotest.ConsentItem{ID: id, Required: req == "required"})
	}
	seed := []kakaotest.User(users)
	if len(seed) == 0 {
		seed = kakaotest.DefaultUsers()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	defer ln.Close()
	base := "http://" + hostForURL(ln.Addr().String())
	if *issuer != "" {
		base = strings.TrimSuffix(*issuer, "/")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	emu := kakaotest.New(app, seed, kakaotest.Options{Issuer: base, Logger: log})
	defer emu.Close()
	if *auto != 0 {
		emu.SetAutoConsent(*auto)
	}
	emu.Describe(stdout, base)
	fmt.Fprintf(stdout, "listening: %s\n", base)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// devEmulator is the Kakao emulator `kakaoauth dev` runs next to the server, on
// KAKAOAUTH_EMULATOR_ADDR.
type devEmulator struct {
	*kakaotest.Emulator
	ln  net.Listener
	URL string // its base URL: the Kakao hosts and the ID-token issuer
}

// startEmulator opens the emulator's listener and builds an emulator whose app accepts the
// server's callback and calls its unlink webhook, as Kakao would (POST /_emulator/unlink).
// KAKAOAUTH_EMULATOR_AUTO_CONSENT answers every authorize request as one user (load runs).
func startEmulator(cfg config, getenv func(string) string, log *slog.Logger) (*devEmulator, error) {
	ln, err := listen(cfg.EmulatorAddr, "KAKAOAUTH_EMULATOR_ADDR")
	if err != nil {
		return nil, err
	}
	emuURL := "http://" + hostForURL(ln.Addr().String())
	a := emulatorApp(cfg, getenv)
	a.RedirectURIs = append(a.RedirectURIs, cfg.PublicURL.String()+"/auth/kakao/callback")
	a.UnlinkWebhookURL = cfg.PublicURL.String() + "/auth/kakao/webhook/unlink"
	// KAKAOAUTH_KAKAO_LOGOUT=redirect comes back to this logout redirect URI.
	a.LogoutRedirectURIs = append(a.LogoutRedirectURIs, cfg.PublicURL.String()+"/auth/kakao/logout/callback")
	if cfg.KakaoLogoutURI != "" {
		a.LogoutRedirectURIs = append(a.LogoutRedirectURIs, cfg.KakaoLogoutURI)
	}
	emu := &devEmulator{
		Emulator: kakaotest.New(a, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: emuURL, Logger: log.With("component", "emulator")}),
		ln:       ln,
		URL:      emuURL,
	}
	if v := getenv("KAKAOAUTH_EMULATOR_AUTO_CONSENT"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			emu.Close()
			return nil, fmt.Errorf("KAKAOAUTH_EMULATOR_AUTO_CONSENT: want a Kakao user id, got %q", v)
		}
		emu.SetAutoConsent(id)
	}
	return emu, nil
}

// Close stops the emulator and closes its listener.
func (e *devEmulator) Close() {
	e.Emulator.Close()
	_ = e.ln.Close()
}
