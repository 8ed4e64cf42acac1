// Command embed is a Go program with pages of its own that mounts kakaoauth under /login in
// its mux: "/" greets the person signed in with Kakao (Server.User), or links to
// /login/auth/kakao/login. By default it signs people in through the Kakao emulator of
// `kakaoauth emulator` (README.md says how to run both).
package main

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		log.Fatal("embed: ", err)
	}
}

// run serves the program on EMBED_ADDR (default 127.0.0.1:8080) until ctx ends.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := orDefault(getenv("EMBED_ADDR"), "127.0.0.1:8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (EMBED_ADDR): %w", addr, err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	store, err := kakaoauth.OpenStore(ctx, orDefault(getenv("EMBED_DATABASE_URL"), "sqlite:embed-dev.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	h, srv, err := newHandler(ctx, getenv, base, store)
	if err != nil {
		return err
	}
	go srv.Run(ctx)
	fmt.Fprintf(stdout, "listening: %s/ (kakaoauth: %s/login/)\n", base, base)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// newHandler is the program's mux for the origin base: kakaoauth under /login/, the program's
// page at /. The Kakao app is the emulator's by default; KAKAOAUTH_KAKAO_* variables name
// another (a real app at Kakao, with the callback <base>/login/auth/kakao/callback).
func newHandler(ctx context.Context, getenv func(string) string, base string, store *kakaoauth.Store) (http.Handler, *kakaoauth.Server, error) {
	emu := kakaotest.DefaultApp()
	const emulatorURL = "http://127.0.0.1:9911" // `kakaoauth emulator`
	srv, err := kakaoauth.New(ctx, kakaoauth.Config{
		PublicURL: base + "/login",
		// The emulator's secret is public: set KAKAOAUTH_SECRET for anything but a laptop.
		Secret: orDefault(getenv("KAKAOAUTH_SECRET"), "embed-example-secret-not-for-production-00"),
		Kakao: kakaoauth.Kakao{
			ClientID:     orDefault(getenv("KAKAOAUTH_KAKAO_CLIENT_ID"), emu.RESTKey),
			ClientSecret: orDefault(getenv("KAKAOAUTH_KAKAO_CLIENT_SECRET"), emu.ClientSecret),
			AuthURL:      orDefault(getenv("KAKAOAUTH_KAKAO_AUTH_URL"), emulatorURL),
			APIURL:       orDefault(getenv("KAKAOAUTH_KAKAO_API_URL"), emulatorURL),
		},
		// The program's own page reads the access cookie, so it is scoped to the whole site;
		// the refresh cookie stays under /login/auth.
		CookiePath: "/",
		ReturnTo:   []string{"/"},
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, store)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/login/", srv)
	mux.Handle("GET /{$}", home(srv))
	return mux, srv, nil
}

// page is the program's own page: a greeting and a logout button for the signed-in person, a
// Kakao login link for anyone else.
var page = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .User}}{{.User.Nickname}}님, 안녕하세요{{else}}로그인이 필요합니다{{end}} | embed</title>
</head>
<body>
<main>
{{if .User}}
<h1>안녕하세요, {{.User.Nickname}}님 <span lang="en">(Hello, {{.User.Nickname}})</span></h1>
<p>카카오 계정으로 로그인했습니다. <span lang="en">You are signed in with Kakao.</span></p>
<form method="post" action="/login/auth/logout">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit">로그아웃 <span lang="en">(Sign out)</span></button>
</form>
{{else}}
<h1>로그인이 필요합니다 <span lang="en">(Please sign in)</span></h1>
<p><a href="/login/auth/kakao/login?return_to=/">카카오 로그인 <span lang="en">(Login with Kakao)</span></a></p>
{{end}}
</main>
</body>
</html>
`))

// home is the program's page at /: Server.User says who is signed in.
func home(srv *kakaoauth.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			User *kakaoauth.User
			CSRF string
		}
		if u, ok := srv.User(r); ok {
			v.User = &u
			// The logout form proves itself with the CSRF cookie kakaoauth set at login.
			if c, err := r.Cookie("csrfToken"); err == nil {
				v.CSRF = c.Value
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, v); err != nil {
			log.Print("embed: render home: ", err)
		}
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
