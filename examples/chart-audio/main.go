// Command chart-audio is the service kakaoauth was first built for, in miniature: a signed-in
// person picks a stock symbol and hears its price chart as sound (one tone per trading day,
// higher price, higher tone), with a plain-language summary for screen readers. Its chart API
// is protected by kakaoauth's access tokens (package resource). The prices are synthetic.
//
//	go run ./cmd/kakaoauth dev                         # in one terminal (with KAKAOAUTH_RETURN_TO, see README)
//	go run ./examples/chart-audio                      # in another; open http://127.0.0.1:8090
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
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "chart-audio:", err)
		os.Exit(1)
	}
}

// run parses the flags (defaults from CHARTAUDIO_ISSUER, CHARTAUDIO_ADDR and
// CHARTAUDIO_PUBLIC_URL), connects to kakaoauth and serves until ctx ends. When ready is not
// nil it receives the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	fl := flag.NewFlagSet("chart-audio", flag.ContinueOnError)
	fl.SetOutput(stderr)
	issuer := fl.String("issuer", or(getenv("CHARTAUDIO_ISSUER"), "http://127.0.0.1:8080"), "public URL of kakaoauth (env CHARTAUDIO_ISSUER)")
	addr := fl.String("addr", or(getenv("CHARTAUDIO_ADDR"), "127.0.0.1:8090"), "listen address (env CHARTAUDIO_ADDR)")
	public := fl.String("public-url", getenv("CHARTAUDIO_PUBLIC_URL"), "public URL of this page, the login's return_to (env CHARTAUDIO_PUBLIC_URL; default http://<addr>/)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	catalog, err := DefaultCatalog()
	if err != nil {
		return fmt.Errorf("load sample data: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if *public == "" {
		*public = "http://" + ln.Addr().String() + "/"
	}
	protect, err := Protector(ctx, *issuer, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("kakaoauth at %s: %w", *issuer, err)
	}
	srv := &http.Server{
		Handler: NewHandler(Config{
			Issuer: *issuer, PublicURL: *public, Protect: protect,
			Catalog: catalog, Sound: DefaultSound, Logger: logger,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "chart-audio: open %s (kakaoauth at %s; sample data, not real prices)\n", *public, *issuer)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func or(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}
