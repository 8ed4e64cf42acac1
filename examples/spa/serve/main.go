// Command serve runs the SPA example on its own origin, by default http://127.0.0.1:3000 next
// to `go run ./cmd/kakaoauth dev` (kakaoauth on 127.0.0.1:8080, its Kakao emulator on
// 127.0.0.1:9911):
//
//	go run ./examples/spa/serve
//
// Every flag has the value `kakaoauth dev` expects; -h lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/kakaoauth/kakaoauth/examples/spa"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// run serves the page until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	var cfg spa.Config
	fs.StringVar(&cfg.ServerURL, "server", "http://127.0.0.1:8080", "kakaoauth's URL")
	fs.StringVar(&cfg.KakaoAuthURL, "kakao", "http://127.0.0.1:9911", "Kakao's auth host (https://kauth.kakao.com for real Kakao)")
	fs.StringVar(&cfg.ClientID, "client-id", "kakaoauth-dev-rest-api-key", "the Kakao app's REST API key")
	fs.StringVar(&cfg.RedirectURI, "redirect-uri", "http://127.0.0.1:3000/kakao/callback", "this page's callback, on KAKAOAUTH_REDIRECT_URIS and registered at Kakao")
	fs.StringVar(&cfg.Scope, "scope", "openid", "comma-separated Kakao consent items")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: spa.Handler(cfg), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "SPA example on http://%s (kakaoauth %s, Kakao %s)\n", ln.Addr(), cfg.ServerURL, cfg.KakaoAuthURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
