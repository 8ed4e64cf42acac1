// Package spa serves the SPA example: a frontend of plain HTML and JavaScript, on another
// origin than kakaoauth, that signs people in with Kakao through kakaoauth's SPA flow. The page
// builds Kakao's authorize URL itself (PKCE S256, state, nonce), posts the code to
// POST /auth/kakao/token, refreshes and logs out with kakaoauth's cookies and the
// X-CSRF-Token header, and calls GET /auth/me with the Bearer access token.
//
// The files (index.html, app.js, style.css) are embedded; Handler writes the Config into the
// page as data attributes that app.js reads. Run it with `go run ./examples/spa/serve` next to
// `go run ./cmd/kakaoauth dev` (see README.md).
package spa

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed index.html app.js style.css
var files embed.FS

// Config says where the page finds kakaoauth and Kakao.
type Config struct {
	// ServerURL is kakaoauth's public URL, such as http://127.0.0.1:8080. The page's origin
	// must be on its KAKAOAUTH_ALLOWED_ORIGINS.
	ServerURL string
	// KakaoAuthURL is Kakao's auth host: https://kauth.kakao.com, or the emulator's URL
	// (http://127.0.0.1:9911 with `kakaoauth dev`).
	KakaoAuthURL string
	// ClientID is the Kakao app's REST API key.
	ClientID string
	// RedirectURI is this page's callback, such as http://127.0.0.1:3000/kakao/callback: it must
	// be registered at Kakao and on kakaoauth's KAKAOAUTH_REDIRECT_URIS, and Handler serves the
	// page at its path.
	RedirectURI string
	// Scope is the comma-separated Kakao consent items to ask for; "openid" asks for an ID
	// token (which carries the nonce), "" sends no scope.
	Scope string
}

// Check reports the first setting of c that is missing or not an http(s) URL.
func (c Config) Check() error {
	for _, f := range []struct{ name, value string }{
		{"ServerURL", c.ServerURL}, {"KakaoAuthURL", c.KakaoAuthURL}, {"RedirectURI", c.RedirectURI},
	} {
		u, err := url.Parse(f.value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("spa: %s %q is not an http or https URL", f.name, f.value)
		}
	}
	if c.ClientID == "" {
		return errors.New("spa: ClientID (the Kakao REST API key) is required")
	}
	return nil
}

// Handler serves the page at / and at the path of cfg.RedirectURI, and its script and styles,
// with a Content-Security-Policy that lets the script talk to kakaoauth only. It answers 500
// on every request when cfg fails Check, saying why, so a misconfigured example is obvious.
func Handler(cfg Config) http.Handler {
	if err := cfg.Check(); err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	page, err := renderPage(cfg)
	if err != nil {
		panic(err) // the embedded template is part of the program
	}
	server, _ := url.Parse(cfg.ServerURL)
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src " + server.Scheme + "://" + server.Host + "; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

	servePage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The callback URL carries Kakao's code and state: never cache it or send it on.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", servePage)
	if u, _ := url.Parse(cfg.RedirectURI); u.Path != "" && u.Path != "/" {
		mux.Handle("GET "+u.Path, servePage)
	}
	static := http.FileServerFS(files)
	mux.Handle("GET /app.js", static)
	mux.Handle("GET /style.css", static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// renderPage writes cfg into index.html's data attributes.
func renderPage(cfg Config) ([]byte, error) {
	tmpl, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, err
	}
	cfg.ServerURL = strings.TrimSuffix(cfg.ServerURL, "/")
	cfg.KakaoAuthURL = strings.TrimSuffix(cfg.KakaoAuthURL, "/")
	var b bytes.Buffer
	if err := tmpl.Execute(&b, cfg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
